"""Regulatory profiles: the caps a product can be held to, from the rules' own text (see shared/REGULATION.md).

Each profile documents the reading it takes where the rule is open to more than one.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from enum import StrEnum

from domain.lending.products import Caps, ProductTerms, check_terms

# UK FCA, high-cost short-term credit (CONC 5A, CONC 6.7, CONC 7.6):
# - initial cost cap: interest and charges at most 0.8% a day of the credit outstanding (CONC 5A.3.3R);
# - total cost cap: all interest, fees and charges at most 100% of the amount borrowed (CONC 5A.3.2R);
# - default fees at most £15 in total (CONC 5A.3), interest after default no higher than the initial rate;
# - at most two refinancings ("rollovers", CONC 6.7) and two unsuccessful payment-authority attempts (CONC 7.6).
# Reading taken: the 0.8% bounds contractual interest plus penalty interest per day, so a product's interest and
# its origination fee spread over its shortest term must fit under it; fines count towards the £15 and the 100%.
UK_FCA_HCSTC = Caps(
    daily_cost_share=Decimal("0.008"),
    total_cost_share=Decimal("1"),
    default_fees_total=1500,  # pence
    max_extensions=2,
    max_failed_debits=2,
)

# Ukraine, consumer credit law as amended by Law No. 3498-IX (bill 9422, signed 21 December 2023):
# - the daily interest rate (all payments the borrower makes, per day, over the amount) at most 1%, phased in:
#   2.5% for the first 120 days after entry into force, 1.5% for the next 120 days, then 1%;
# - late-payment penalties at most 15% of the overdue payment for each delay, and all penalties together at most
#   50% of the amount received; no fees that the agreement does not state; extensions only by a new agreement.
# Reading taken: entry into force on 24 December 2023 (the day after publication); the phase boundaries move with
# that date if a later reading differs.
UA_2023_IN_FORCE = date(2023, 12, 24)


def ua_2023_max_daily_rate(on: date) -> Decimal:
    days = (on - UA_2023_IN_FORCE).days
    if days < 0:
        raise ValueError("the 2023 rules were not in force yet")
    if days < 120:
        return Decimal("0.025")
    if days < 240:
        return Decimal("0.015")
    return Decimal("0.01")


def ua_2023(on: date) -> Caps:
    return Caps(
        daily_cost_share=ua_2023_max_daily_rate(on),
        penalty_per_delay_share=Decimal("0.15"),
        penalty_total_share=Decimal("0.5"),
    )


class ProfileName(StrEnum):
    """The regulatory profiles a product can be held to (REGULATION.md gives the sources)."""

    UK_FCA_HCSTC = "uk_fca_hcstc"
    UA_2023 = "ua_2023"


PROFILES = {ProfileName.UK_FCA_HCSTC: lambda on: UK_FCA_HCSTC, ProfileName.UA_2023: ua_2023}


# What a borrower must be told before taking a product held to a profile (codes; the words, in each language, are
# in services/wording.py):
# - UK HCSTC: the prescribed risk warning for high-cost short-term credit (CONC 3.4.1R);
# - Ukraine: the 14-day right to withdraw and the penalty caps the agreement must respect (REGULATION.md).
PROFILE_WARNINGS: dict[ProfileName, tuple[str, ...]] = {
    ProfileName.UK_FCA_HCSTC: ("late_repayment_money_problems",),
    ProfileName.UA_2023: ("withdrawal_14_days", "penalty_caps"),
}


def warnings_for(profile: str | None) -> tuple[str, ...]:
    try:
        return PROFILE_WARNINGS[ProfileName(profile)] if profile else ()
    except ValueError:
        return ()


def hold_to_profile(terms: ProductTerms, profile: str, on: date) -> ProductTerms:
    """The terms with the profile's caps, checked (`ProductInvalid` if the product breaks the rules)."""
    try:
        caps = PROFILES[ProfileName(profile)](on)
    except ValueError:
        raise ValueError(f"no profile {profile!r}; known: {', '.join(sorted(PROFILES))}") from None
    return check_terms(replace(terms, caps=caps))


__all__ = [
    "PROFILES",
    "PROFILE_WARNINGS",
    "UA_2023_IN_FORCE",
    "UK_FCA_HCSTC",
    "ProfileName",
    "hold_to_profile",
    "ua_2023",
    "warnings_for",
]
