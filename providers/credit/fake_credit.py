"""Local credit bureau and scoring provider that behave like the real ones, including the scoring callback.

What they answer depends on the applicant's national id, like a payment provider's test cards (documented in
docs/providers.md): ending `0001` delinquent, `0002` thin file (no file), `0003` low score, `0004` borderline score,
`0005` scoring never answers; anything else is a good file with a score derived from the id. Behaviour knobs make a
provider slow (`latency_s`), down (`down`), or fail the next N calls (`failures_to_inject`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from providers.credit.protocol import BureauReport, CreditProviderUnavailable, ScoreAnswer, Subject
from providers.credit.signature import sign_body
from providers.http_client import PooledHttpClient

log = logging.getLogger(__name__)

DELINQUENT, THIN_FILE, LOW_SCORE, BORDERLINE_SCORE, NO_SCORE = "0001", "0002", "0003", "0004", "0005"


@dataclass
class FakeCreditBehaviour:
    latency_s: float = 0.05
    down: bool = False
    failures_to_inject: int = 0

    async def answer(self, name: str) -> None:
        await asyncio.sleep(self.latency_s)
        if self.down:
            raise CreditProviderUnavailable(f"{name}: 503 Service Unavailable")
        if self.failures_to_inject > 0:
            self.failures_to_inject -= 1
            raise CreditProviderUnavailable(f"{name}: 502 Bad Gateway")


class FakeBureau:
    def __init__(self, name: str, behaviour: FakeCreditBehaviour | None = None) -> None:
        self.name = name
        self.behaviour = behaviour or FakeCreditBehaviour()
        self.calls = 0

    async def report(self, subject: Subject) -> BureauReport:
        self.calls += 1
        await self.behaviour.answer(self.name)
        reference = f"{self.name}-{hashlib.sha256(subject.application_id.encode()).hexdigest()[:16]}"
        if subject.national_id.endswith(THIN_FILE):
            return BureauReport(self.name, reference, found=False)
        if subject.national_id.endswith(DELINQUENT):
            return BureauReport(
                self.name,
                reference,
                found=True,
                open_loans=4,
                delinquencies_12m=3,
                worst_days_past_due=95,
                outstanding=250_000,
            )
        return BureauReport(self.name, reference, found=True, open_loans=1, outstanding=20_000)


def fake_score(national_id: str) -> int | None:
    if national_id.endswith(NO_SCORE):
        return None
    if national_id.endswith(LOW_SCORE):
        return 400
    if national_id.endswith(BORDERLINE_SCORE):
        return 500
    return 600 + int(hashlib.sha256(national_id.encode()).hexdigest(), 16) % 250


class FakeScoring:
    """Answers "pending" and calls back with the score, signed, after its latency (as asynchronous scoring
    providers do); with `synchronous=True` it answers the score at once instead."""

    def __init__(
        self,
        name: str,
        callback_secret: str,
        *,
        behaviour: FakeCreditBehaviour | None = None,
        synchronous: bool = False,
        http_client_factory: Callable[[], httpx.AsyncClient] = httpx.AsyncClient,
    ) -> None:
        self.name, self._secret, self.synchronous = name, callback_secret, synchronous
        self.behaviour = behaviour or FakeCreditBehaviour()
        self._http = PooledHttpClient(http_client_factory)
        self._callbacks: set[asyncio.Task[None]] = set()
        self._answers: dict[str, ScoreAnswer] = {}
        self.delivered: list[tuple[bytes, str]] = []

    async def request_score(self, subject: Subject, callback_url: str) -> ScoreAnswer:
        if subject.application_id in self._answers:  # the same request again: the same answer, no second callback
            return self._answers[subject.application_id]
        if self.synchronous:
            await self.behaviour.answer(self.name)
        elif self.behaviour.down:
            raise CreditProviderUnavailable(f"{self.name}: 503 Service Unavailable")
        reference = "sc_" + secrets.token_hex(10)
        score = fake_score(subject.national_id)
        if self.synchronous:
            answer = ScoreAnswer(self.name, reference, score)
        else:
            answer = ScoreAnswer(self.name, reference, None)
            if not subject.national_id.endswith(NO_SCORE):
                task = asyncio.create_task(self._call_back(callback_url, subject.application_id, reference, score))
                self._callbacks.add(task)
                task.add_done_callback(self._callbacks.discard)
        self._answers[subject.application_id] = answer
        return answer

    async def _call_back(self, url: str, application_id: str, reference: str, score: int | None) -> None:
        await asyncio.sleep(self.behaviour.latency_s)
        body = json.dumps(
            {
                "id": "evt_" + secrets.token_hex(10),
                "type": "score.completed",
                "reference": reference,
                "application_id": application_id,
                "score": score,
            }
        ).encode()
        headers = {"X-Signature": sign_body(self._secret, body), "Content-Type": "application/json"}
        for attempt in range(5):
            try:
                response = await self._http.get().post(url, content=body, headers=headers, timeout=5)
                if response.status_code < 300:
                    self.delivered.append((body, headers["X-Signature"]))
                    return
            except httpx.HTTPError as err:
                log.info("fake scoring callback failed (%s), attempt %d", err, attempt + 1)
            await asyncio.sleep(0.3 * (attempt + 1))

    async def drain(self) -> None:
        while self._callbacks:
            await asyncio.gather(*list(self._callbacks), return_exceptions=True)
