"""How long the loan engine takes to recompute a long, busy loan from its terms and events.

    python bench/engine.py [--runs 200]

The loan: two years, monthly annuity instalments, with a hundred events (repayments on and off schedule, a rate
change, waivers, a fee). Recomputing its state from scratch is what COB, recalculation and every API read do, so
it must stay in milliseconds. Prints a table and a last line with a JSON object (`recompute_ms` is the median).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from domain.lending.engine import (
    Component,
    FeeCharge,
    LoanEvent,
    RateChange,
    Repayment,
    SignedLoan,
    Waiver,
    state_as_of,
)
from domain.lending.products import AfterDue, Fine, Frequency, ProductTerms, RepaymentKind
from domain.lending.schedule import quote

START = date(2025, 1, 15)


def busy_loan() -> tuple[SignedLoan, list[LoanEvent], date]:
    terms = ProductTerms(
        currency="USD",
        principal_min=10_000,
        principal_max=10_000_000,
        principal_step=100,
        term_min_days=30,
        term_max_days=800,
        rate=Decimal("0.0015"),
        repayment=RepaymentKind.ANNUITY,
        frequency=Frequency.MONTHLY,
        origination_fee_percent=Decimal("1.5"),
        grace_days=3,
        penalty_daily_rate=Decimal("0.001"),
        fines=(Fine(5, 1_000), Fine(30, 2_500)),
        after_due=AfterDue.CONTINUE,
    )
    offer = quote(terms, 2_000_000, 730, START)
    loan = SignedLoan(terms, 2_000_000, START, offer.schedule)
    rng = random.Random(42)
    events: list[LoanEvent] = []
    for n, instalment in enumerate(offer.schedule):
        # Most paid on time, some late or split in parts: four events per instalment on average.
        late = rng.choice([0, 0, 0, 2, 9, 35])
        parts = rng.choice([3, 4, 5, 6])
        for p in range(parts):
            events.append(
                Repayment(instalment.due_date + timedelta(days=late + p), instalment.total // parts, seq=10 * n + p)
            )
    events = events[:94]
    assert len(events) == 94, "the generator must give at least 94 repayments"
    events += [
        RateChange(START + timedelta(days=200), Decimal("0.0012"), seq=900),
        Waiver(START + timedelta(days=300), Component.PENALTY, 500, seq=901),
        Waiver(START + timedelta(days=400), Component.FINES, 1_000, seq=902),
        FeeCharge(START + timedelta(days=420), 1_500, seq=903),
        RateChange(START + timedelta(days=500), Decimal("0.0015"), seq=904),
        Waiver(START + timedelta(days=600), Component.INTEREST, 700, seq=905),
    ]
    return loan, events, START + timedelta(days=730)


def main(runs: int) -> dict[str, float]:
    loan, events, as_of = busy_loan()
    state = state_as_of(loan, events, as_of)  # warm up, and show what was computed
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        state_as_of(loan, events, as_of)
        timings.append((time.perf_counter() - started) * 1000)
    figures = {
        "events": len(events),
        "days": (as_of - loan.start).days,
        "recompute_ms": round(statistics.median(timings), 3),
        "recompute_p95_ms": round(sorted(timings)[int(len(timings) * 0.95) - 1], 3),
    }
    print(
        f"loan: {figures['days']} days, {len(loan.schedule)} instalments, {len(events)} events; status {state.status}"
    )
    print(
        f"recompute from scratch: median {figures['recompute_ms']} ms, p95 {figures['recompute_p95_ms']} ms ({runs} runs)"
    )
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=200)
    print(json.dumps(main(parser.parse_args().runs)))
