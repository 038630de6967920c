"""Pausing Python's cyclic garbage collector around a synchronous loop that makes hundreds of thousands of small,
acyclic objects (commission lines, COPY rows, entry hashes). Reference counting frees them; the cyclic collector,
triggered every few hundred allocations and walking an ever larger heap, cost a sixth of distribution's time
(bench/commissions.py). Nothing may await inside, so no other coroutine runs while it is paused."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
