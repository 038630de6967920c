"""Running a workflow on behalf of a request and turning its business refusals into problem documents."""

from __future__ import annotations

from typing import Any

from temporalio.client import Client, WorkflowFailureError, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.problems import Problem

REFUSAL_STATUS = {
    "insufficient_funds": 422,
    "limit_exceeded": 422,
    "validation_error": 422,
    "not_found": 404,
    "forbidden": 403,
    "conflict": 409,
    "provider_unavailable": 503,
}


def _application_error(error: BaseException | None) -> ApplicationError | None:
    while error is not None and not isinstance(error, ApplicationError):
        error = error.__cause__ if not hasattr(error, "cause") else error.cause
    return error


async def update_workflow(client: Client, workflow_id: str, update: Any, arg: Any = None) -> Any:
    """Run an update on a running workflow; its validator's refusal and the handler's business errors become
    problems, and a workflow that has ended (or never started) is a 409 / 404."""
    handle = client.get_workflow_handle(workflow_id)
    try:
        if arg is None:
            return await handle.execute_update(update)
        return await handle.execute_update(update, arg)
    except WorkflowUpdateFailedError as failure:
        cause = _application_error(failure.cause)
        if cause is not None and cause.type in REFUSAL_STATUS:
            raise Problem(REFUSAL_STATUS[cause.type], cause.type, cause.message) from failure
        raise
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise Problem(409, "conflict", "this process has ended: it takes no more commands") from err
        raise


async def run_workflow(client: Client, workflow: Any, data: Any, *, workflow_id: str, task_queue: str) -> Any:
    """Start (or join the run already started under this id) and wait for the result. A finished run under the
    same id is not started again: its result is read, which is what makes a retried request harmless."""
    try:
        handle = await client.start_workflow(
            workflow,
            data,
            id=workflow_id,
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
    except WorkflowAlreadyStartedError:  # the run finished before: read its outcome
        # Typed by the workflow's run method, as a started handle is: a result read later is the same model, not
        # a dict, whoever started the run and whenever it ended.
        handle = client.get_workflow_handle_for(workflow, workflow_id)
    try:
        return await handle.result()
    except WorkflowFailureError as failure:
        cause = failure.cause
        while cause is not None and not isinstance(cause, ApplicationError):
            cause = cause.cause
        if isinstance(cause, ApplicationError) and cause.type in REFUSAL_STATUS:
            raise Problem(REFUSAL_STATUS[cause.type], cause.type, cause.message) from failure
        raise
