"""Several patches behind one marker. Each `workflow.patched` id a run meets costs it a marker event and an upsert of
`TemporalChangeVersion` (a visibility write) — four of each for every loan application, for changes every new run
takes anyway. A run started from the code of a bundle records one marker that stands for all the patches it names;
a run started earlier finds no such marker when it replays its first workflow task and asks for each patch as it
did. docs/operations.md lists the bundles and the patches in them."""

from __future__ import annotations

from temporalio import workflow


class PatchBundle:
    """Made in the workflow's `__init__`; `take()` is called first thing in its run, so a run decides in its first
    workflow task — replaying, for runs from before the bundle — and keeps that answer."""

    def __init__(self, bundle_id: str, patches: frozenset[str]) -> None:
        self._id = bundle_id
        self._patches = patches
        self._taken: bool | None = None

    def take(self) -> bool:
        if self._taken is None:
            self._taken = workflow.patched(self._id)
        return self._taken

    def patched(self, patch_id: str) -> bool:
        if patch_id in self._patches and self.take():
            return True
        return workflow.patched(patch_id)
