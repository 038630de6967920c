"""How staff sign-in failures slow down guessing without locking out the account's owner.

Counted over the last `WINDOW` from the audit log (every failed sign-in is recorded there with its address):
- an address that failed `PER_ADDRESS` times (any accounts) is refused until the window passes: that is the
  guesser, whoever they are guessing;
- an address that failed `PER_ACCOUNT_FROM_ADDRESS` times for one account is refused for that account;
- an account failed from anywhere `BACKOFF_AFTER` times makes every further attempt wait: 2^(extra failures)
  seconds after the latest failure, at most `BACKOFF_MAX`. The owner, signing in from an address of their own,
  waits at most that long, never the whole window, while a guesser spread over many addresses gets one try per
  `BACKOFF_MAX` at best."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

WINDOW = timedelta(minutes=15)
PER_ADDRESS = 20
PER_ACCOUNT_FROM_ADDRESS = 5
BACKOFF_AFTER = 5
BACKOFF_MAX = timedelta(seconds=60)


@dataclass(frozen=True)
class Failures:
    from_address: int  # failed sign-ins from this address, any account
    account_from_address: int  # failed sign-ins for this account from this address
    account: int  # failed sign-ins for this account from anywhere
    latest_for_account: datetime | None


def retry_after(failures: Failures, now: datetime) -> timedelta | None:
    """How long this address must wait before trying this account again, or None when it may try now."""
    if failures.from_address >= PER_ADDRESS or failures.account_from_address >= PER_ACCOUNT_FROM_ADDRESS:
        return WINDOW
    if failures.account >= BACKOFF_AFTER and failures.latest_for_account is not None:
        wait = min(BACKOFF_MAX, timedelta(seconds=2 ** (failures.account - BACKOFF_AFTER)))
        ready = failures.latest_for_account + wait
        if ready > now:
            return ready - now
    return None
