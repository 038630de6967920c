"""`lendflow temporal-setup`: what a self-hosted Temporal namespace needs before lendflow starts processes in it,
the search attributes operators find processes by (contracts/visibility.py). Idempotent: attributes already there
are left alone. Temporal Cloud does not let clients add them: there, add them in the namespace settings (or
`tcld namespace search-attributes add`) with the names and types this command prints."""

from __future__ import annotations

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client

from contracts import visibility


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
