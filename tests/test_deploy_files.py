"""The deployment files, checked offline (no container engine runs here): they parse, every process they start is
a `lendflow` command that exists, and production never runs on development secrets."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter

from config import Settings
from config.task_queues import Family
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
    # Each process is checked the way that fits it (the image's default checks the API's port).
    assert ours["api"]["healthcheck"]["test"] == ["CMD", "lendflow", "healthcheck", "api"]
    assert ours["worker"]["healthcheck"]["test"] == ["CMD", "lendflow", "healthcheck", "worker"]
    assert ours["migrate"]["healthcheck"] == ours["temporal-setup"]["healthcheck"] == {"disable": True}
    # Temporal on its production image, its schema upgraded by a job before it starts (not the auto-setup image).
    images = {name: svc.get("image", "") for name, svc in compose["services"].items()}
    assert not [image for image in images.values() if "auto-setup" in image]
    assert images["temporal"].startswith("temporalio/server:")
    schema = compose["services"]["temporal-schema"]
    assert "update-schema" in schema["command"][0] and schema["restart"] == "no"
    assert compose["services"]["temporal"]["depends_on"]["temporal-schema"]["condition"] == (
        "service_completed_successfully"
    )


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


# --- Kubernetes -------------------------------------------------------------------------------------------------

K8S = DEPLOY / "k8s"


def k8s_objects() -> list[dict[str, Any]]:
    """Every object the manifests create (the items of each List; YAML anchors resolved as kubectl resolves them)."""
    found: list[dict[str, Any]] = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for document in yaml.safe_load_all(path.read_text()):
            found += document["items"] if document["kind"] == "List" else [document]
    return found


def containers_of(obj: dict[str, Any]) -> list[dict[str, Any]]:
    pod = obj["spec"]["template"]["spec"] if obj["kind"] in ("Deployment", "Job") else {}
    return list(pod.get("containers", []))


def test_the_kubernetes_manifests_are_valid_objects_of_the_api_they_name() -> None:
    import kubernetes_validate

    version = kubernetes_validate.latest_version()
    for obj in k8s_objects():
        kubernetes_validate.validate(obj, version, strict=True)  # raises on an unknown field or a wrong type
    listed = yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]
    assert sorted(listed) == sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def test_a_worker_deployment_polls_each_family_and_waits_out_the_graceful_shutdown() -> None:
    workers = [o for o in k8s_objects() if o["kind"] == "Deployment" and o["metadata"]["name"] != "lendflow-api"]
    polled = {}
    grace = Settings().worker_graceful_shutdown_seconds
    for deployment in workers:
        spec = deployment["spec"]
        assert spec["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items()
        assert spec["template"]["spec"]["terminationGracePeriodSeconds"] > grace
        [container] = containers_of(deployment)
        assert container["args"][:2] == ["worker", "--task-queue"]
        polled[container["args"][2]] = deployment["metadata"]["name"]
        probe = container["livenessProbe"]["exec"]["command"]
        assert probe[0] == "lendflow" and probe[1] in lendflow_commands() and probe[2:] == ["worker"]
    assert set(polled) == {family.value for family in Family}


def test_the_api_scales_on_cpu_and_every_process_runs_a_command_that_exists() -> None:
    objects = k8s_objects()
    [hpa] = [o for o in objects if o["kind"] == "HorizontalPodAutoscaler"]
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "lendflow-api"}
    jobs = {o["metadata"]["name"]: containers_of(o)[0]["args"] for o in objects if o["kind"] == "Job"}
    assert jobs == {"lendflow-migrate": ["migrate"], "lendflow-temporal-setup": ["temporal-setup"]}
    for obj in objects:
        for container in containers_of(obj):
            assert container["args"][0] in lendflow_commands()


def test_the_manifests_name_real_settings_and_take_every_secret_by_reference() -> None:
    objects = k8s_objects()
    [config] = [o for o in objects if o["kind"] == "ConfigMap"]
    fields = {f"LENDFLOW_{name.upper()}" for name in Settings.model_fields} | {"DATABASE_URL", "TEMPORAL_ADDRESS"}
    assert set(config["data"]) <= fields, set(config["data"]) - fields
    secretish = re.compile(r"SECRET|PASSWORD|TOKEN|API_KEY|PII_KEY|PAYLOAD_KEY|DATABASE_URL|AUTH")
    assert not [name for name in config["data"] if secretish.search(name)]
    assert not [o for o in objects if o["kind"] == "Secret"], "secrets are referenced, never shipped"
    for obj in objects:
        for container in containers_of(obj):
            assert "env" not in container  # everything comes from the ConfigMap and the Secret by reference
            sources = [next(iter(source)) for source in container["envFrom"]]
            assert sources == ["configMapRef", "secretRef"]
    for name, value in config["data"].items():  # each value parses as its setting's type
        field = name[len("LENDFLOW_") :].lower() if name.startswith("LENDFLOW_") else None
        if field is not None:
            TypeAdapter(Settings.model_fields[field].annotation).validate_python(value)
