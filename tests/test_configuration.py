"""Configuration read once, in one place: any number of credit bureaus, the origination timings a process starts
with."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError
from temporalio.service import TLSConfig

from config import Settings
from services.intake import origination_input
from workers.providers_factory import build_credit_providers
from workers.runner import worker_tuning
from workflows.client import tls_config

THREE = '[{"name": "bureau-a", "url": "http://a"}, {"name": "bureau-c", "url": "http://c"}, {"name": "x2", "url": "http://x"}]'


def test_any_number_of_bureaus_are_asked_in_the_configured_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LENDFLOW_CREDIT_BUREAUS", THREE)
    settings = Settings()
    assert [b.name for b in settings.bureaus] == ["bureau-a", "bureau-c", "x2"]
    bureaus, _ = build_credit_providers(settings)
    assert list(bureaus) == ["bureau-a", "bureau-c", "x2"]
    assert origination_input(settings, "app-1").bureaus == ["bureau-a", "bureau-c", "x2"]


def test_without_a_list_the_primary_and_its_fallback_are_the_bureaus() -> None:
    assert [b.name for b in Settings(bureau_fallback_url=None).bureaus] == ["bureau-a"]
    assert [b.name for b in Settings().bureaus] == ["bureau-a", "bureau-b"]


def test_a_bureau_name_that_cannot_be_a_path_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LENDFLOW_CREDIT_BUREAUS", '[{"name": "../etc", "url": "http://a"}]')
    with pytest.raises(ValidationError):
        Settings()


def test_a_process_starts_with_the_timings_configured() -> None:
    settings = Settings(signing_max_attempts=5, card_wait_seconds=60, message_send_attempts=2)
    timings = origination_input(settings, "app-1").timings
    assert (timings.signing_max_attempts, timings.card_wait_seconds, timings.message_send_attempts) == (5, 60, 2)


def test_a_half_made_temporal_tls_setup_is_refused_with_what_is_missing(tmp_path: Path) -> None:
    cert = tmp_path / "client.pem"
    cert.write_text("cert")
    with pytest.raises(ValidationError, match="go together"):
        Settings(temporal_tls_client_cert=cert)
    with pytest.raises(ValidationError, match="no file at"):
        Settings(temporal_tls_server_ca=tmp_path / "missing-ca.pem")
    with pytest.raises(ValidationError, match="only over TLS"):
        Settings(temporal_api_key="a-cloud-key")


def test_tls_is_built_from_the_files_configured(tmp_path: Path) -> None:
    ca, cert, key = (tmp_path / name for name in ("ca.pem", "client.pem", "client.key"))
    for path in (ca, cert, key):
        path.write_bytes(path.name.encode())
    assert tls_config(Settings()) is False
    assert tls_config(Settings(temporal_tls=True, temporal_api_key="k")) is True  # Temporal Cloud: system CAs
    built = tls_config(Settings(temporal_tls_server_ca=ca, temporal_tls_client_cert=cert, temporal_tls_client_key=key))
    assert isinstance(built, TLSConfig)
    assert (built.server_root_ca_cert, built.client_cert, built.client_private_key) == (
        b"ca.pem",
        b"client.pem",
        b"client.key",
    )


def test_workers_take_their_tuning_and_grace_from_settings() -> None:
    settings = Settings(
        worker_max_concurrent_activities=7,
        worker_workflow_pollers=3,
        worker_max_cached_workflows=50,
        worker_graceful_shutdown_seconds=45,
    )
    tuning = worker_tuning(settings)
    assert tuning["max_concurrent_activities"] == 7
    assert tuning["max_concurrent_workflow_task_polls"] == 3
    assert tuning["max_cached_workflows"] == 50
    assert tuning["graceful_shutdown_timeout"] == timedelta(seconds=45)


def test_the_command_says_its_version() -> None:
    answer = subprocess.run(
        [sys.executable, "-m", "workers.cli", "--version"], capture_output=True, text=True, check=True
    )
    assert answer.stdout.startswith("lendflow ")
