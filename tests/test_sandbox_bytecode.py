"""The sandbox imports the workflow modules again for every workflow run; they must come from bytecode even where
the process may not write it (this project's CI sets PYTHONDONTWRITEBYTECODE), or every run compiles them anew."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import workflows


def _run(code: str, root: Path, **env: str) -> str:
    completed = subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        env={"PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return completed.stdout.strip()


def test_the_runner_writes_the_workflow_modules_bytecode(tmp_path: Path) -> None:
    """A copy of the package in a scratch checkout: nothing cached before the runner is made, all of it after."""
    package = Path(workflows.__file__).resolve().parent
    root = tmp_path / "checkout"
    copied = root / "workflows"
    copied.mkdir(parents=True)
    for source in package.glob("*.py"):
        (copied / source.name).write_text(source.read_text())
    modules = sorted(copied.glob("*.py"))
    assert not any(Path(importlib.util.cache_from_source(str(module))).exists() for module in modules)

    code = (
        "import sys; sys.path.insert(0, '.')\n"
        "from workflows.sandbox import compile_workflow_modules; compile_workflow_modules()\n"
        "print(sys.pycache_prefix)"
    )
    assert _run(code, root) == "None"  # written beside the source, where it may be

    missing = [module.name for module in modules if not Path(importlib.util.cache_from_source(str(module))).exists()]
    assert missing == []
