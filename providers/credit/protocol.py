"""What origination needs from a credit bureau (a report on a person) and a scoring provider (a score, possibly
later through a callback). Adapters raise `CreditProviderUnavailable` for anything a retry might fix."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol


@dataclass(frozen=True)
class Subject:
    application_id: str
    national_id: str
    full_name: str
    birth_date: date


@dataclass(frozen=True)
class BureauReport:
    bureau: str
    reference: str
    found: bool  # False: no file on this person (a thin file)
    open_loans: int = 0
    delinquencies_12m: int = 0
    worst_days_past_due: int = 0
    outstanding: int = 0
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ScoreAnswer:
    provider: str
    reference: str
    score: int | None  # None: the score will come by callback


@dataclass(frozen=True)
class ScoreCallback:
    event_id: str
    provider: str
    reference: str
    application_id: str
    score: int | None  # None: the provider could not score this person


class CreditProviderUnavailable(Exception):
    """Down, timed out or answered 5xx: retry, then fall back or hand the case to a person."""


class InvalidSignature(Exception):
    pass


class CreditBureau(Protocol):
    name: str

    async def report(self, subject: Subject) -> BureauReport: ...


class ScoringProvider(Protocol):
    name: str

    async def request_score(self, subject: Subject, callback_url: str) -> ScoreAnswer: ...
