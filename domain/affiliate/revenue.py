"""What an ingested event is worth as revenue to share, by the project's revenue rule: deposits; net revenue
(deposits less withdrawals and bonuses); or a fixed amount per qualified registration. Revenue a client reports as
such counts under every rule; refunds and chargebacks take back what they refund."""

from __future__ import annotations

from enum import StrEnum


class RevenueRule(StrEnum):
    DEPOSITS = "deposits"
    NET_REVENUE = "net_revenue"
    REGISTRATIONS = "registrations"


class AccrualMode(StrEnum):
    """When commissions are credited: as each event arrives, once a day, or at the period's close."""

    REALTIME = "realtime"
    DAILY = "daily"
    PERIOD = "period"


_BY_RULE: dict[str, dict[str, int]] = {
    # kind -> sign of its amount as revenue; kinds not named are not revenue under the rule.
    "deposits": {"deposit": 1, "revenue": 1, "refund": -1, "chargeback": -1},
    "net_revenue": {"deposit": 1, "revenue": 1, "withdrawal": -1, "bonus": -1, "refund": -1, "chargeback": -1},
    "registrations": {},  # a registration is worth the project's fixed amount; refunds reverse only what they name
}


def revenue_of(rule: str, kind: str, amount: int, registration_amount: int) -> int:
    """Signed minor units of revenue; 0 when the event is not revenue under the rule."""
    if rule == "registrations" and kind == "registration":
        return registration_amount
    return _BY_RULE[rule].get(kind, 0) * amount


def reverses(kind: str) -> bool:
    """A refund or chargeback naming the event it takes back reverses that event's commissions exactly."""
    return kind in ("refund", "chargeback")
