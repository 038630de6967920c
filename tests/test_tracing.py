"""Telemetry a person reads: logs as JSON lines carrying the request id and the workflow they came from, and traces
that follow one piece of work from the request that started a workflow to the activity a worker ran for it, and
from an HTTP request down to its SQL, with the wiring the processes use (workers/tracing.py, the client's
tracing interceptor)."""

from __future__ import annotations

import json
import logging
import uuid

import httpx
from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import text
from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.worker import Worker

from api.request_context import JsonLogFormatter, request_id_var
from contracts.messaging import MessageDeliveryInput, message_workflow_id
from store.db import make_engine
from store.repositories.messages import create_message
from tests.conftest import Stack
from workers.runner import WORKFLOWS, ActivityCollaborators, activity_functions
from workers.tracing import instrument_app, instrument_engine
from workflows.client import data_converter
from workflows.message_delivery import MessageDeliveryWorkflow


def traced() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def test_a_log_line_is_json_with_the_request_and_the_workflow() -> None:
    record = logging.LogRecord("lendflow.activity", logging.INFO, __file__, 1, "sent %s", ("sms",), None)
    record.temporal_activity = {"workflow_id": "message-1", "activity_type": "send_message", "attempt": 2}
    token = request_id_var.set("req-42")
    try:
        line = json.loads(JsonLogFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert line["message"] == "sent sms" and line["level"] == "INFO"
    assert (line["request_id"], line["workflow_id"], line["attempt"]) == ("req-42", "message-1", 2)


async def test_a_workflow_and_its_activities_join_the_trace_of_the_request_that_started_it(clean: Stack) -> None:
    provider, exporter = traced()
    tracer = provider.get_tracer("lendflow-tests")
    client = await Client.connect(
        clean.temporal.service_client.config.target_host,
        data_converter=data_converter(clean.settings),
        interceptors=[TracingInterceptor(tracer)],
    )
    queue = f"traced-{uuid.uuid4()}"
    collaborators = ActivityCollaborators(clean.sessions, clean.cipher, clean.providers())
    async with clean.sessions.begin() as session:
        message_id = await create_message(
            session, clean.cipher, channel="sms", to="+447700971001", body="Your code is 123456.", purpose="sign_in"
        )
    worker = Worker(
        client,
        task_queue=queue,
        workflows=list(WORKFLOWS),
        activities=activity_functions(clean.settings, collaborators),
    )
    async with worker:
        with tracer.start_as_current_span("POST /v1/auth/otp") as request:
            handle = await client.start_workflow(
                MessageDeliveryWorkflow.run,
                MessageDeliveryInput(message_id=str(message_id), send_attempts=2, status_wait_seconds=5),
                id=message_workflow_id(str(message_id)),
                task_queue=queue,
            )
        await handle.result()
    spans = exporter.get_finished_spans()
    names = {span.name for span in spans}
    assert {"StartWorkflow:MessageDelivery", "RunWorkflow:MessageDelivery"} <= names, names
    assert any(name.startswith("RunActivity:") for name in names), names
    trace_id = request.get_span_context().trace_id
    assert all(span.context.trace_id == trace_id for span in spans), {
        s.name for s in spans if s.context.trace_id != trace_id
    }


async def test_an_http_request_and_its_sql_are_one_trace(clean: Stack) -> None:
    provider, exporter = traced()
    engine = make_engine(clean.settings.database_url or "")
    instrument_engine(engine, provider)
    app = FastAPI()

    @app.get("/v1/probe")
    async def probe() -> dict[str, int]:
        async with engine.connect() as connection:
            return {"one": int((await connection.execute(text("SELECT 1"))).scalar_one())}

    instrument_app(app, provider)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://probe") as http:
            assert (await http.get("/v1/probe")).json() == {"one": 1}
    finally:
        await engine.dispose()
    spans = exporter.get_finished_spans()
    server = next(span for span in spans if span.name == "GET /v1/probe")
    sql = [span for span in spans if span.attributes and span.attributes.get("db.statement") == "SELECT 1"]
    assert sql and all(span.context.trace_id == server.context.trace_id for span in sql)
