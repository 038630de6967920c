"""The API's Prometheus metrics, in one registry (exposed by api/metrics.py): imported by what counts without
importing the exposition route (the problem handlers count signature failures)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter("lendflow_http_requests", "HTTP requests answered", ["method", "route", "status"], registry=REGISTRY)
LATENCY = Histogram(
    "lendflow_http_request_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
SIGNATURE_FAILURES = Counter(
    "lendflow_webhook_signature_failures",
    "Callbacks and pushed events refused because their signature did not match",
    ["route"],
    registry=REGISTRY,
)
COB_LAG = Gauge(
    "lendflow_cob_lag_days",
    "Days between today (market time) and the first business date not closed yet; 0 once yesterday is closed",
    registry=REGISTRY,
)
APPLICATIONS = Gauge("lendflow_applications", "Loan applications by status", ["status"], registry=REGISTRY)
COMMISSION_QUEUE = Gauge(
    "lendflow_commission_queue_events", "Ingested events waiting for distribution", ["project"], registry=REGISTRY
)
LEDGER_NET = Gauge(
    "lendflow_ledger_net_minor_units",
    "Sum of every account's balance in a currency: zero in a double-entry ledger, always",
    ["currency"],
    registry=REGISTRY,
)
