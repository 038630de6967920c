"""Sampling profiles of a bench's processes under load, with py-spy (a dev dependency): `record()` attaches to each
process for the measured phase and writes collapsed stacks; `summary()` reads them back as where the time went
(the functions most often on top of the stack, and the modules of ours most often anywhere in it). Not a bench
itself: `bench/origination.py --profile DIR` uses it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

__all__ = ["record", "summaries", "summary"]

OURS = ("activities/", "workflows/", "api/", "services/", "store/", "domain/", "providers/", "web/", "workers/")


def record(pids: dict[str, int], seconds: int, directory: Path) -> list[subprocess.Popen[bytes]]:
    """One py-spy per process, sampling at 100 Hz for `seconds` (non-blocking: the process is not paused)."""
    beside = Path(sys.executable).parent / "py-spy"  # installed in the same environment, not on PATH
    spy = str(beside) if beside.exists() else shutil.which("py-spy")
    if spy is None:
        raise SystemExit("--profile needs py-spy (pip install py-spy)")
    directory.mkdir(parents=True, exist_ok=True)
    return [
        subprocess.Popen(
            [
                spy,
                "record",
                "--pid",
                str(pid),
                "--duration",
                str(seconds),
                "--rate",
                "100",
                "--nonblocking",
                "--format",
                "raw",
                "--output",
                str(directory / f"{name}.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name, pid in pids.items()
    ]


def summary(path: Path, top: int = 12) -> list[str]:
    """The lines to print for one profile: samples, then the top frames by self time and our modules by total."""
    own: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        own[frames[-1]] += count
        for module in {_module(frame) for frame in frames if any(part in frame for part in OURS)}:
            ours[module] += count
    if not total:
        return [f"{path.stem}: no samples"]
    lines = [f"{path.stem}: {total} samples; on top of the stack:"]
    lines += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in own.most_common(top)]
    lines.append(f"{path.stem}: our modules anywhere in the stack:")
    lines += [f"  {100 * n / total:5.1f}%  {module}" for module, n in ours.most_common(top)]
    return lines


def summaries(directory: Path) -> list[str]:
    return [line for path in sorted(directory.glob("*.txt")) for line in summary(path)]


def _module(frame: str) -> str:
    """`fn (path/to/module.py:12)` -> `path/to/module.py` (from our top-level folders on)."""
    inside = frame[frame.rfind("(") + 1 : frame.rfind(":")] if "(" in frame else frame
    for part in OURS:
        if part in inside:
            return part + inside.split(part, 1)[1]
    return inside
