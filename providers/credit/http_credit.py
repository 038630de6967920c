"""Bureau and scoring adapters over HTTP (httpx), speaking the JSON shape documented in docs/providers.md: a
market's bureau with another shape gets its own adapter behind the same Protocol. Timeouts, connection errors and
5xx answers are `CreditProviderUnavailable` (the workflow retries, then falls back); a 404 from a bureau is a
thin file, not an error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from providers.credit.protocol import BureauReport, CreditProviderUnavailable, ScoreAnswer, Subject
from providers.http_client import PooledHttpClient


class _HttpProvider:
    def __init__(
        self,
        name: str,
        base_url: str,
        api_key: str,
        *,
        timeout_s: float = 10.0,
        http_client_factory: Callable[[], httpx.AsyncClient] | None = None,
    ) -> None:
        self.name = name
        self._base = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {api_key}"}
        self._timeout = timeout_s
        self._http = PooledHttpClient(http_client_factory or httpx.AsyncClient)

    async def _post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        try:
            response = await self._http.get().post(
                self._base + path, json=body, headers=self._headers, timeout=self._timeout
            )
        except httpx.HTTPError as err:
            raise CreditProviderUnavailable(f"{self.name}: {type(err).__name__} {err}") from err
        if response.status_code >= 500 or response.status_code == 429:
            raise CreditProviderUnavailable(f"{self.name}: HTTP {response.status_code}")
        return response

    @staticmethod
    def _subject(subject: Subject) -> dict[str, Any]:
        return {
            "reference": subject.application_id,
            "national_id": subject.national_id,
            "full_name": subject.full_name,
            "birth_date": subject.birth_date.isoformat(),
        }


class HttpBureau(_HttpProvider):
    async def report(self, subject: Subject) -> BureauReport:
        response = await self._post("/v1/reports", self._subject(subject))
        if response.status_code == 404:
            return BureauReport(self.name, f"none:{subject.application_id}", found=False)
        if response.status_code >= 400:
            raise CreditProviderUnavailable(f"{self.name}: refused with HTTP {response.status_code}")
        body = response.json()
        return BureauReport(
            bureau=self.name,
            reference=str(body["id"]),
            found=bool(body.get("found", True)),
            open_loans=int(body.get("open_loans", 0)),
            delinquencies_12m=int(body.get("delinquencies_12m", 0)),
            worst_days_past_due=int(body.get("worst_days_past_due", 0)),
            outstanding=int(body.get("outstanding", 0)),
            raw=body,
        )


class HttpScoring(_HttpProvider):
    async def request_score(self, subject: Subject, callback_url: str) -> ScoreAnswer:
        response = await self._post("/v1/scores", self._subject(subject) | {"callback_url": callback_url})
        if response.status_code >= 400:
            raise CreditProviderUnavailable(f"{self.name}: refused with HTTP {response.status_code}")
        body = response.json()
        score = body.get("score") if body.get("status") == "completed" else None
        return ScoreAnswer(self.name, str(body["id"]), None if score is None else int(score))
