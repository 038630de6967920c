"""Traces from an HTTP request through the workflow it starts and the activities it runs down to their SQL, when
`LENDFLOW_OTLP_ENDPOINT` names a collector: the API's requests (FastAPI instrumentation), every SQL statement of
the API's and the workers' engines (SQLAlchemy instrumentation), and Temporal's client and worker calls
(temporalio's tracing interceptor, which carries the trace in the workflow's headers, so the activity a worker runs
an hour later is a child of the request that started its workflow). Off when unset: nothing is recorded."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from sqlalchemy.ext.asyncio import AsyncEngine

from config import Settings

# The SQLAlchemy instrumentation declares support up to 2.0 and we run 2.1, whose engine events it uses unchanged
# (tests/test_tracing.py sees the SQL spans): its version check is skipped rather than the SQL left untraced.
SKIP_DEP_CHECK = True


def configure_tracing(settings: Settings, service: str) -> TracerProvider | None:
    """The process's tracer provider, exporting to the collector; None (and nothing set) without an endpoint."""
    if not settings.otlp_endpoint:
        return None
    try:
        release = version("lendflow")
    except PackageNotFoundError:
        release = "unknown"
    provider = TracerProvider(
        resource=Resource.create({"service.name": f"lendflow-{service}", "service.version": release})
    )
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=settings.otlp_endpoint)))
    trace.set_tracer_provider(provider)
    # Every engine made from now on (the API's, the workers') traces its statements.
    SQLAlchemyInstrumentor().instrument(tracer_provider=provider, skip_dep_check=SKIP_DEP_CHECK)
    return provider


def instrument_engine(engine: AsyncEngine, provider: trace.TracerProvider | None = None) -> None:
    """One engine made before tracing was configured (the tests' own)."""
    SQLAlchemyInstrumentor().instrument(
        engine=engine.sync_engine, tracer_provider=provider, skip_dep_check=SKIP_DEP_CHECK
    )


def instrument_app(app: FastAPI, provider: trace.TracerProvider | None = None) -> None:
    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider, excluded_urls="healthz,readyz,metrics")
