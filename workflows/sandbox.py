"""The workflow sandbox the workers run: Temporal's default restrictions, with lendflow's deterministic packages and
the libraries they bring passed through (imported once per process and shared), because the sandbox imports every
other module afresh for each workflow run. Measured under origination load (`bench/origination.py --profile`):
re-importing `pydantic_settings` by way of `config` alone took 18% of a worker's CPU, imports in all about 40%.

What is passed through is only referenced by workflow code (activity methods, contracts, pure domain rules, queue
names); the sandbox still guards the workflow modules themselves, where determinism is decided.

Those modules are imported again for every run, so they must be imported from bytecode: a process that may not write
`__pycache__` (`PYTHONDONTWRITEBYTECODE`, as this project's CI and many container images set, or a read-only
checkout) would otherwise compile their source anew each time, about 5% of a worker's CPU under origination load.
The runner writes that bytecode when it is made (`compile_workflow_modules`)."""

from __future__ import annotations

import compileall
import sys
import tempfile
from pathlib import Path

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

PASSED_THROUGH = (
    "activities",
    "config",
    "contracts",
    "domain",
    "providers",
    "services",
    "store",
    "babel",
    "cryptography",
    "fpdf",
    "fontTools",
    "httpx",
    "phonenumbers",
    "psycopg",
    "pydantic",
    "pydantic_core",
    "pydantic_settings",
    "sqlalchemy",
)


def compile_workflow_modules() -> None:
    """Bytecode for the workflow package beside its source, or, where the checkout is read-only, under a cache
    directory of this process's own (`sys.pycache_prefix`, which the sandbox's imports read too)."""
    package = Path(__file__).resolve().parent
    if compileall.compile_dir(package, quiet=2):
        return
    # Private (mode 0700), not a shared, predictable path: bytecode found there would be run as our workflows.
    sys.pycache_prefix = tempfile.mkdtemp(prefix="lendflow-pycache-")
    compileall.compile_dir(package, quiet=2)


def workflow_runner() -> SandboxedWorkflowRunner:
    compile_workflow_modules()
    return SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSED_THROUGH))
