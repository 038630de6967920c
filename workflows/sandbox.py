"""The workflow sandbox the workers run: Temporal's default restrictions, with lendflow's deterministic packages and
the libraries they bring passed through (imported once per process and shared), because the sandbox imports every
other module afresh for each workflow run. Measured under origination load (`bench/origination.py --profile`):
re-importing `pydantic_settings` by way of `config` alone took 18% of a worker's CPU, imports in all about 40%.

What is passed through is only referenced by workflow code (activity methods, contracts, pure domain rules, queue
names); the sandbox still guards the workflow modules themselves, where determinism is decided."""

from __future__ import annotations

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


def workflow_runner() -> SandboxedWorkflowRunner:
    return SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSED_THROUGH))
