"""`lendflow temporal-setup`: what a self-hosted Temporal cluster needs before lendflow starts processes in it: the
namespace (the production server image, unlike the old auto-setup one, creates none) and the search attributes
operators find processes by (contracts/visibility.py). Idempotent: what is there already is left alone. Temporal Cloud does not let clients add them: there, add them in the namespace settings (or
`tcld namespace search-attributes add`) with the names and types this command prints."""

from __future__ import annotations

from datetime import timedelta

from google.protobuf.duration_pb2 import Duration
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest, RegisterNamespaceRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from contracts import visibility


async def ensure_namespace(client: Client, namespace: str, retention_days: int) -> bool:
    """True when this call registered the namespace (a fresh namespace answers calls after a few seconds)."""
    try:
        await client.workflow_service.describe_namespace(DescribeNamespaceRequest(namespace=namespace))
        return False
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
    retention = Duration()
    retention.FromTimedelta(timedelta(days=retention_days))
    try:
        await client.workflow_service.register_namespace(
            RegisterNamespaceRequest(namespace=namespace, workflow_execution_retention_period=retention)
        )
    except RPCError as err:
        if err.status != RPCStatusCode.ALREADY_EXISTS:  # another setup job got there first
            raise
        return False
    return True


async def ensure_search_attributes(client: Client, namespace: str) -> list[str]:
    """The attributes this call added (none when all were there)."""
    listed = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace=namespace))
    missing = [key.name for key in visibility.ALL if key.name not in listed.custom_attributes]
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=namespace,
                search_attributes={name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD for name in missing},
            )
        )
    return missing
