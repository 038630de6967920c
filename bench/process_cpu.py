"""CPU seconds of the processes a bench runs, read from /proc (Linux): a process's own user and system time, and
for a server that forks (PostgreSQL, the Temporal CLI's server), its children's too (live ones read directly,
ended ones through the parent's cumulative children time). Not a bench itself: `bench/origination.py` uses it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ProcessCpu", "find_pids"]

TICKS = os.sysconf("SC_CLK_TCK")
PROC = Path("/proc")


def _stat(pid: int) -> tuple[float, float, int] | None:
    """(own seconds, ended children's seconds, parent pid); None when the process is gone."""
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()  # after "pid (comm) "
    ppid = int(fields[1])
    utime, stime, cutime, cstime = (int(v) for v in fields[11:15])
    return (utime + stime) / TICKS, (cutime + cstime) / TICKS, ppid


def _children() -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None:
                found.setdefault(stat[2], []).append(int(entry.name))
    return found


def _tree_seconds(pid: int, children: dict[int, list[int]]) -> float:
    stat = _stat(pid)
    if stat is None:
        return 0.0
    own, ended, _ = stat
    return own + ended + sum(_tree_seconds(child, children) for child in children.get(pid, []))


def find_pids(*needles: str) -> list[int]:
    """Processes whose command line holds every needle (the embedded PostgreSQL by its data folder, the Temporal
    dev server by its port)."""
    found = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if all(needle in cmdline for needle in needles):
            found.append(int(entry.name))
    return found


@dataclass
class ProcessCpu:
    """Named groups of process trees (`alone`: groups counted without their children, such as the bench's own
    process, whose children are the platform); `seconds()` reads them all now."""

    groups: dict[str, list[int]]
    alone: frozenset[str] = frozenset()

    def seconds(self) -> dict[str, float]:
        children = _children()
        return {
            name: sum(_own_seconds(pid) if name in self.alone else _tree_seconds(pid, children) for pid in pids)
            for name, pids in self.groups.items()
        }


def _own_seconds(pid: int) -> float:
    stat = _stat(pid)
    return 0.0 if stat is None else stat[0]
