"""Configuration read once, in one place: any number of credit bureaus, the origination timings a process starts
with."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from config import Settings
from services.intake import origination_input
from workers.providers_factory import build_credit_providers

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
