"""Staff reports, read from the ledger (postings and balances) so they always add up, plus the loans and CPA
tables for what the ledger does not know (days past due, products, networks).

Ledger accounts fall in classes by their code: `loan:<id>:<component>` (what borrowers owe), `house:<purpose>:...`
(the company's own accounts), `wallet:<id>` (what the company owes users)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.accounts import HouseAccount, OwnerAccount
from domain.lending.engine import Component

# The class of an account, from its code: 'loan:<component>', 'house:<purpose>' or 'wallets'.
_ACCOUNT_CLASS = (
    "CASE WHEN a.code LIKE 'loan:%' THEN 'loan:' || split_part(a.code, ':', 3)"
    " WHEN a.code LIKE 'house:%' THEN 'house:' || split_part(a.code, ':', 2)"
    " WHEN a.code LIKE 'wallet:%' THEN 'wallets' ELSE a.code END"
)
# What each income purpose adds to in the daily report.
_INCOME_FIGURES = {
    HouseAccount.INTEREST_INCOME.code_prefix: "accrued_interest",
    HouseAccount.PENALTY_INCOME.code_prefix: "accrued_penalty",
    HouseAccount.FINE_INCOME.code_prefix: "accrued_fines",
    HouseAccount.FEE_INCOME.code_prefix: "fees_charged",
}
LOAN_PAYMENT_KINDS = ("loan_repayment", "loan_extension", "loan_auto_debit", "loan_recovery", "loan_payment")


async def daily(session: AsyncSession, day: date) -> dict[str, Any]:
    """Issued, repaid, accrued, overdue and cash in and out for one business date, per currency."""
    rows = await session.execute(
        text(
            f"""
            SELECT p.currency, {_ACCOUNT_CLASS} AS class, e.kind,
                   sum(p.amount) FILTER (WHERE p.amount < 0) AS debits,
                   sum(p.amount) FILTER (WHERE p.amount > 0) AS credits, count(DISTINCT e.id) AS entries
            FROM postings p JOIN journal_entries e ON e.id = p.entry_id JOIN accounts a ON a.id = p.account_id
            WHERE p.value_date = :d GROUP BY 1, 2, 3
            """
        ),
        {"d": day},
    )
    figures: dict[str, dict[str, int]] = {}
    for row in rows:
        currency, account_class, kind = row.currency, row._mapping["class"], row.kind
        debits, credits, entries = row.debits, row.credits, row.entries
        f = figures.setdefault(
            currency.strip(),
            dict.fromkeys(
                (
                    "issued_count",
                    "issued_principal",
                    "repaid",
                    "accrued_interest",
                    "accrued_penalty",
                    "accrued_fines",
                    "fees_charged",
                    "written_off",
                    "cash_in",
                    "cash_out",
                    "overdue_count",
                    "overdue_amount",
                ),
                0,
            ),
        )
        debits, credits = int(debits or 0), int(credits or 0)
        if (
            account_class == f"{OwnerAccount.LOAN_RECEIVABLE.value}:{Component.PRINCIPAL.value}"
            and kind == "loan_disbursement"
        ):
            f["issued_count"] += int(entries)
            f["issued_principal"] += -debits
        if account_class == HouseAccount.SETTLEMENT.code_prefix:
            f["cash_in"] += -debits
            f["cash_out"] += credits
            if kind in LOAN_PAYMENT_KINDS:
                f["repaid"] += -debits
        if kind.startswith("loan_") and account_class in _INCOME_FIGURES:
            f[_INCOME_FIGURES[account_class]] += credits + debits
        if account_class == HouseAccount.LOAN_LOSS.code_prefix and kind == "loan_write_off":
            f["written_off"] += -debits
    overdue = await session.execute(
        text(
            "SELECT l.currency, count(DISTINCT l.id), -coalesce(sum(a.balance), 0) FROM loans l"
            " JOIN accounts a ON a.owner_type = 'loan' AND a.owner_id = l.id WHERE l.status = 'overdue' GROUP BY 1"
        )
    )
    for currency, count, amount in overdue:
        f = figures.setdefault(currency.strip(), {})
        f["overdue_count"], f["overdue_amount"] = int(count), int(amount)
    return {"date": day.isoformat(), "currencies": figures}


async def save_daily(session: AsyncSession, day: date, figures: dict[str, Any]) -> None:
    await session.execute(
        text(
            "INSERT INTO daily_reports (business_date, figures) VALUES (:d, CAST(:f AS jsonb))"
            " ON CONFLICT (business_date) DO UPDATE SET figures = excluded.figures, created_at = now()"
        ),
        {"d": day, "f": json.dumps(figures)},
    )


async def saved_daily(session: AsyncSession, day: date) -> dict[str, Any] | None:
    found = await session.scalar(text("SELECT figures FROM daily_reports WHERE business_date = :d"), {"d": day})
    return None if found is None else dict(found)


BUCKETS = (("current", 0, 0), ("1-30", 1, 30), ("31-60", 31, 60), ("61-90", 61, 90), ("90+", 91, 10**6))


async def portfolio(session: AsyncSession, today: date) -> list[dict[str, Any]]:
    """Open loans by product: outstanding per component, overdue buckets, PAR30 (the share of outstanding in loans
    more than 30 days past due)."""
    rows = await session.execute(
        text(
            """
            SELECT pr.code AS product, l.currency, l.id, coalesce(:today - l.overdue_since, 0) AS dpd,
                   split_part(a.code, ':', 3) AS component, -a.balance AS owed
            FROM loans l JOIN credit_products pr ON pr.id = l.product_id
            JOIN accounts a ON a.owner_type = 'loan' AND a.owner_id = l.id
            WHERE l.status IN ('active', 'overdue')
            """
        ),
        {"today": today},
    )
    by_product: dict[tuple[str, str], dict[str, Any]] = {}
    seen: dict[tuple[str, str], set[Any]] = {}
    for row in rows:
        product, currency, loan_id, dpd, component, owed = (
            row.product,
            row.currency,
            row.id,
            row.dpd,
            row.component,
            row.owed,
        )
        key = (product, currency.strip())
        p = by_product.setdefault(
            key,
            {
                "product": product,
                "currency": currency.strip(),
                "loans": 0,
                "outstanding": 0,
                "components": {},
                "buckets": {name: {"loans": 0, "outstanding": 0} for name, _, _ in BUCKETS},
            },
        )
        loans_seen = seen.setdefault(key, set())
        bucket = next(name for name, low, high in BUCKETS if low <= dpd <= high)
        if loan_id not in loans_seen:
            loans_seen.add(loan_id)
            p["loans"] += 1
            p["buckets"][bucket]["loans"] += 1
        p["outstanding"] += int(owed)
        p["components"][component] = p["components"].get(component, 0) + int(owed)
        p["buckets"][bucket]["outstanding"] += int(owed)
    for p in by_product.values():
        at_risk = sum(p["buckets"][name]["outstanding"] for name in ("31-60", "61-90", "90+"))
        share = Decimal(at_risk) / p["outstanding"] if p["outstanding"] else Decimal(0)
        p["par30"] = str(share.quantize(Decimal("0.0001")))
    return sorted(by_product.values(), key=lambda p: (p["product"], p["currency"]))


async def trial_balance(session: AsyncSession, as_of: date) -> list[dict[str, Any]]:
    """Every account class's balance from the postings up to `as_of` (debits negative, credits positive): each
    currency's lines add up to zero, because every entry does."""
    rows = await session.execute(
        text(
            f"""
            SELECT p.currency, {_ACCOUNT_CLASS} AS class, a.kind, sum(p.amount) AS balance
            FROM postings p JOIN accounts a ON a.id = p.account_id WHERE p.value_date <= :d
            GROUP BY 1, 2, 3 ORDER BY 1, 2
            """
        ),
        {"d": as_of},
    )
    return [
        {"currency": r.currency.strip(), "account": r._mapping["class"], "kind": r.kind, "balance": int(r.balance)}
        for r in rows
    ]


async def journal(session: AsyncSession, day: date, limit: int, offset: int) -> list[dict[str, Any]]:
    rows = await session.execute(
        text(
            """
            SELECT e.id AS entry_id, e.kind, e.value_date, e.recorded_at, a.code AS account, p.currency, p.amount
            FROM journal_entries e JOIN postings p ON p.entry_id = e.id JOIN accounts a ON a.id = p.account_id
            WHERE e.id IN (SELECT id FROM journal_entries WHERE value_date = :d ORDER BY id LIMIT :limit OFFSET :off)
            ORDER BY e.id, p.account_id
            """
        ),
        {"d": day, "limit": limit, "off": offset},
    )
    return [dict(r._mapping) | {"currency": r.currency.strip()} for r in rows]


async def customers(session: AsyncSession) -> dict[str, Any]:
    rows = await session.execute(
        text(
            "SELECT user_id, count(*) AS loans, count(*) FILTER (WHERE status = 'repaid') AS repaid,"
            " count(*) FILTER (WHERE status IN ('active', 'overdue')) AS open,"
            " count(*) FILTER (WHERE status = 'written_off') AS written_off, sum(principal) AS borrowed"
            " FROM loans GROUP BY user_id ORDER BY count(*) DESC, user_id"
        )
    )
    lines = [dict(r._mapping) | {"user_id": str(r.user_id)} for r in rows]
    borrowers = len(lines)
    repeat = sum(1 for line in lines if line["loans"] >= 2)
    return {
        "borrowers": borrowers,
        "repeat_borrowers": repeat,
        "repeat_rate": f"{repeat / borrowers:.4f}" if borrowers else "0.0000",
        "customers": lines,
    }


async def cpa(session: AsyncSession) -> list[dict[str, Any]]:
    rows = await session.execute(
        text(
            "SELECT c.network, c.status, count(*) AS conversions, coalesce(sum(l.principal), 0) AS principal,"
            " sum(c.attempts) AS attempts FROM cpa_postbacks c JOIN loan_applications a ON a.id = c.application_id"
            " LEFT JOIN loans l ON l.application_id = a.id GROUP BY 1, 2 ORDER BY 1, 2"
        )
    )
    return [dict(r._mapping) for r in rows]


async def activity_by_day(session: AsyncSession, since: date, until: date) -> dict[str, dict[str, dict[str, int]]]:
    """Principal issued and cash repaid per business date, per currency, from the ledger: currency -> day ->
    {"issued", "repaid"}. Days with neither are absent."""
    rows = await session.execute(
        text(
            """
            SELECT p.currency, p.value_date AS day,
                   -sum(p.amount) FILTER (WHERE e.kind = 'loan_disbursement' AND a.code LIKE :principal_codes)
                       AS issued,
                   -sum(p.amount) FILTER (WHERE e.kind = ANY(:paid) AND a.code LIKE :settlement_codes) AS repaid
            FROM postings p JOIN journal_entries e ON e.id = p.entry_id JOIN accounts a ON a.id = p.account_id
            WHERE p.value_date BETWEEN :since AND :until
              AND (e.kind = 'loan_disbursement' OR e.kind = ANY(:paid))
            GROUP BY 1, 2
            """
        ),
        {
            "since": since,
            "until": until,
            "paid": list(LOAN_PAYMENT_KINDS),
            "principal_codes": f"{OwnerAccount.LOAN_RECEIVABLE.value}:%:{Component.PRINCIPAL.value}",
            "settlement_codes": f"{HouseAccount.SETTLEMENT.code_prefix}:%",
        },
    )
    found: dict[str, dict[str, dict[str, int]]] = {}
    for row in rows:
        found.setdefault(row.currency.strip(), {})[row.day.isoformat()] = {
            "issued": int(row.issued or 0),
            "repaid": int(row.repaid or 0),
        }
    return found


async def application_funnel(session: AsyncSession, since: date) -> dict[str, int]:
    """Applications received since a date, and how many of them were approved (an offer was made), signed and
    disbursed: each stage counts those that reached it, whatever happened after."""
    row = (
        await session.execute(
            text(
                """
                SELECT count(*) AS received,
                       count(*) FILTER (WHERE a.offer IS NOT NULL) AS approved,
                       count(*) FILTER (WHERE g.signed_at IS NOT NULL) AS signed,
                       count(*) FILTER (WHERE a.loan_id IS NOT NULL) AS disbursed
                FROM loan_applications a LEFT JOIN loan_agreements g ON g.application_id = a.id
                WHERE a.created_at >= :since
                """
            ),
            {"since": since},
        )
    ).one()
    return {stage: int(row._mapping[stage]) for stage in ("received", "approved", "signed", "disbursed")}
