"""The deployment files, checked offline (no container engine runs here): they parse, every process they start is
a `lendflow` command that exists, and production never runs on development secrets."""

from __future__ import annotations

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
    assert set(ours) == {"migrate", "api", "worker"}
    for service in ours.values():
        assert service["command"][0] in lendflow_commands()
        env = service["environment"]
        assert env["LENDFLOW_ENV"] == "prod"
        for secret in ("LENDFLOW_JWT_SECRET", "LENDFLOW_PII_KEY", "LENDFLOW_ADMIN_PASSWORD"):
            assert ":?" in env[secret], f"{secret} must be required, not defaulted"


def test_the_image_runs_the_lendflow_command_and_copies_every_package() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["lendflow"]' in dockerfile
    root = DEPLOY.parent
    packages = {p.name for p in root.iterdir() if (p / "__init__.py").exists() and p.name not in ("tests", "bench")}
    for package in packages:
        assert f"COPY {package} ./{package}" in dockerfile, f"the image misses {package}/"
