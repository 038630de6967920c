"""Staff reports, read from the ledger (postings and balances) so they always add up, plus the loans and CPA
tables for what the ledger does not know (days past due, products, networks).

Ledger accounts fall in classes by their code: `loan:<id>:<component>` (what borrowers owe), `house:<purpose>:...`
(the company's own accounts), `wallet:<id>` (what the company owes users)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# The class of an account, from its code: 'loan:<component>', 'house:<purpose>' or 'wallets'.
_ACCOUNT_CLASS = (
    "CASE WHEN a.code LIKE 'loan:%' THEN 'loan:' || split_part(a.code, ':', 3)"
    " WHEN a.code LIKE 'house:%' THEN 'house:' || split_part(a.code, ':', 2)"
    " WHEN a.code LIKE 'wallet:%' THEN 'wallets' ELSE a.code END"
)
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
    for currency, account_class, kind, debits, credits, entries in rows:
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
        if account_class == "loan:principal" and kind == "loan_disbursement":
            f["issued_count"] += int(entries)
            f["issued_principal"] += -debits
        if account_class == "house:settlement":
            f["cash_in"] += -debits
            f["cash_out"] += credits
            if kind in LOAN_PAYMENT_KINDS:
                f["repaid"] += -debits
        if kind.startswith("loan_") and account_class in (
            "house:interest_income",
            "house:penalty_income",
            "house:fine_income",
            "house:fee_income",
        ):
            name = {
                "house:interest_income": "accrued_interest",
                "house:penalty_income": "accrued_penalty",
                "house:fine_income": "accrued_fines",
                "house:fee_income": "fees_charged",
            }[account_class]
            f[name] += credits + debits
        if account_class == "house:loan_loss" and kind == "loan_write_off":
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
    for product, currency, loan_id, dpd, component, owed in rows:
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
        p["par30"] = f"{at_risk / p['outstanding']:.4f}" if p["outstanding"] else "0.0000"
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
        {"currency": currency.strip(), "account": account_class, "kind": kind, "balance": int(balance)}
        for currency, account_class, kind, balance in rows
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
