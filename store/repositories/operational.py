"""The few figures that tell an operator the platform is healthy, read when Prometheus scrapes the API: where close
of business stands, applications by status, the commission queue, and whether every currency's ledger sums to zero
(double entry: the balances of all accounts in one currency always net to nothing; anything else is a broken
ledger, and the alert that must never fire)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class Figures:
    posted_through: date | None
    applications: dict[str, int]
    commission_queue: dict[str, int]
    ledger_net: dict[str, int]


async def figures(session: AsyncSession) -> Figures:
    posted = await session.scalar(text("SELECT max(business_date) FROM cob_runs WHERE status = 'closed'"))
    applications = {
        r.status: int(r.n)
        for r in await session.execute(text("SELECT status, count(*) AS n FROM loan_applications GROUP BY status"))
    }
    queue = {
        r.code: int(r.n)
        for r in await session.execute(
            text(
                "SELECT p.code, count(q.event_id) AS n FROM projects p"
                " LEFT JOIN affiliate_event_queue q ON q.project_id = p.id GROUP BY p.code"
            )
        )
    }
    net = {
        r.currency.strip(): int(r.net)
        for r in await session.execute(text("SELECT currency, sum(balance) AS net FROM accounts GROUP BY currency"))
    }
    return Figures(posted, applications, queue, net)
