"""The one way a process connects to Temporal: the pydantic data converter, so workflow inputs and results are
pydantic models on both sides (the API starting a workflow and the worker running it)."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

DEFAULT_TEMPORAL_PORT = 7233


async def connect_temporal(address: str, namespace: str = "default") -> Client:
    return await Client.connect(address, namespace=namespace, data_converter=pydantic_data_converter)
