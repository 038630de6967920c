"""The deployment files, checked offline (no container engine runs here): they parse, every process they start is
a `lendflow` command that exists, and production never runs on development secrets."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from workers.cli import build_parser

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


def lendflow_commands() -> set[str]:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    return set(subparsers.choices)  # type: ignore[arg-type]


def test_every_compose_service_of_ours_runs_an_existing_command() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    ours = {name: svc for name, svc in compose["services"].items() if svc.get("image") == "lendflow:latest"}
    assert set(ours) == {"migrate", "temporal-setup", "api", "worker"}
    for service in ours.values():
        assert service["command"][0] in lendflow_commands()
        env = service["environment"]
        assert env["LENDFLOW_ENV"] == "prod"
        for secret in ("LENDFLOW_JWT_SECRET", "LENDFLOW_PII_KEY", "LENDFLOW_ADMIN_PASSWORD", "LENDFLOW_PAYLOAD_KEYS"):
            assert ":?" in env[secret], f"{secret} must be required, not defaulted"


def test_the_image_runs_the_lendflow_command_and_copies_every_package() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["lendflow"]' in dockerfile
    root = DEPLOY.parent
    packages = {p.name for p in root.iterdir() if (p / "__init__.py").exists() and p.name not in ("tests", "bench")}
    for package in packages:
        assert f"COPY {package} ./{package}" in dockerfile, f"the image misses {package}/"


# What the workers export on LENDFLOW_WORKER_METRICS_ADDRESS that the alerts and the dashboard read: the Temporal
# SDK's names (counters with `_total`, as metrics_runtime asks) and the workers' own counters.
WORKER_METRICS = {
    "temporal_workflow_failed_total",
    "temporal_activity_execution_failed_total",
    "temporal_workflow_task_schedule_to_start_latency_bucket",
    "lendflow_cob_loans_accrued_total",
    "lendflow_ledger_postings_total",
}
METRIC = re.compile(r"\b((?:lendflow|temporal)_[a-z_]+)\b")


def api_metrics() -> set[str]:
    from api.metric_registry import REGISTRY

    names = set()
    for family in REGISTRY.collect():
        names |= {family.name, f"{family.name}_total", f"{family.name}_bucket", f"{family.name}_count"}
    return names


def test_the_alerts_cover_what_wakes_someone_up_and_read_metrics_that_exist() -> None:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())["groups"][0]["rules"]
    names = {rule["alert"] for rule in rules}
    assert {"LedgerImbalance", "CloseOfBusinessLate", "WorkflowTypeFailing", "WebhookSignatureFailuresSpiking"} <= names
    known = api_metrics() | WORKER_METRICS
    for rule in rules:
        used = set(METRIC.findall(rule["expr"]))
        assert used and used <= known, f"{rule['alert']} reads {used - known}"
    scrape = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    assert scrape["rule_files"] == ["alerts.yml"]


def test_the_dashboard_parses_and_every_panel_reads_metrics_that_exist() -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "lendflow.json").read_text())
    known = api_metrics() | WORKER_METRICS
    assert len(dashboard["panels"]) >= 10
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            used = set(METRIC.findall(target["expr"]))
            assert used and used <= known, f"{panel['title']} reads {used - known}"
