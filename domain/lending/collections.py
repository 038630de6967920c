"""The collections ladder: what happens to an overdue loan on which day past due, as staff configure it per product,
and the rules around automatic card debits and promises to pay."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any


class Action(StrEnum):
    SMS = "sms"
    EMAIL = "email"
    AUTO_DEBIT = "auto_debit"  # charge the saved card for what is due (or a share of it)
    ASSIGN = "assign"  # put the loan in a collector's queue
    ESCALATE = "escalate"  # to a senior collector
    HAND_OVER = "hand_over"  # to an outside agency
    WRITE_OFF = "write_off"


# Declines after which charging the card again cannot help: the card is gone, or the bank said stop.
FINAL_DECLINES = frozenset(
    {"expired_card", "lost_card", "stolen_card", "card_closed", "do_not_honor", "resource_missing", "pickup_card"}
)


@dataclass(frozen=True)
class LadderStep:
    day: int  # days past due
    action: Action
    share: Decimal = Decimal(1)  # auto_debit: the share of what is due to ask for
    agency: str | None = None  # hand_over

    @property
    def key(self) -> str:
        return f"{self.day}:{self.action.value}"


class LadderInvalid(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


# Until staff configure a product's ladder: reminders and a collector, nothing that moves money or ends the loan
# (automatic debits, hand-overs and write-offs are the lender's decision per product).
DEFAULT_LADDER: tuple[LadderStep, ...] = (
    LadderStep(1, Action.SMS),
    LadderStep(3, Action.EMAIL),
    LadderStep(7, Action.ASSIGN),
    LadderStep(30, Action.ESCALATE),
)


def ladder_from_stored(steps: Sequence[Mapping[str, Any]]) -> tuple[LadderStep, ...]:
    """A ladder as staff send and the store keeps it; every problem is named at once."""
    problems: list[str] = []
    ladder: list[LadderStep] = []
    for n, raw in enumerate(steps):
        try:
            step = LadderStep(
                day=int(raw["day"]),
                action=Action(raw["action"]),
                share=Decimal(str(raw.get("share", "1"))),
                agency=raw.get("agency"),
            )
        except (KeyError, ValueError, ArithmeticError) as err:
            problems.append(f"step {n}: {err}")
            continue
        if step.day < 1:
            problems.append(f"step {n}: day must be at least 1")
        if not Decimal(0) < step.share <= 1:
            problems.append(f"step {n}: share must be above 0 and at most 1")
        if step.action is Action.HAND_OVER and not step.agency:
            problems.append(f"step {n}: hand_over needs an agency")
        ladder.append(step)
    keys = [s.key for s in ladder]
    if len(set(keys)) != len(keys):
        problems.append("a day has the same action twice")
    write_offs = [s.day for s in ladder if s.action is Action.WRITE_OFF]
    if write_offs and any(s.day > min(write_offs) for s in ladder):
        problems.append("nothing can follow the write-off")
    if not ladder:
        problems.append("a ladder needs at least one step")
    if problems:
        raise LadderInvalid(problems)
    return tuple(sorted(ladder, key=lambda s: (s.day, s.action.value)))


def ladder_to_stored(ladder: Sequence[LadderStep]) -> list[dict[str, Any]]:
    return [
        {"day": s.day, "action": s.action.value, "share": str(s.share)} | ({"agency": s.agency} if s.agency else {})
        for s in ladder
    ]


def thresholds(ladder: Sequence[LadderStep]) -> frozenset[int]:
    """The days past due close of business must tell a loan about."""
    return frozenset(s.day for s in ladder)


def steps_due(ladder: Sequence[LadderStep], days_past_due: int, done: Sequence[str]) -> list[LadderStep]:
    """Steps whose day has come and that have not run: a ladder that was paused (a promise) or that missed notices
    (close of business across a gap) catches up in order."""
    return [s for s in ladder if s.day <= days_past_due and s.key not in done]


def debit_amount(due: int, share: Decimal) -> int:
    """What an automatic debit asks for: a share of what is due, in whole minor units, at least one."""
    return max(1, min(due, int(Decimal(due) * share)))


def may_debit_again(failed_attempts: int, cap: int | None, last_decline: str | None) -> bool:
    """Another automatic debit is allowed while the product's cap on failed attempts is not reached and the last
    decline was not final (insufficient funds may clear; a closed card will not)."""
    if last_decline is not None and last_decline in FINAL_DECLINES:
        return False
    return cap is None or failed_attempts < cap


def promise_kept(paid_since_promise: int, promised_amount: int) -> bool:
    return paid_since_promise >= promised_amount
