"""The platform's codes (statuses, payment purposes, journal entry kinds, wallet operations) as a person reads
them, in their language. The API answers codes, in English words for integrators; these are for people."""

from __future__ import annotations

from functools import cache

from services.i18n import translator
from services.wording import N_

# Statuses as a person reads them (the API's codes are English words for integrators).
STATUS_WORDS: dict[str, str] = {
    "received": N_("Received"),
    "checking": N_("Checking"),
    "manual_review": N_("Being reviewed"),
    "offered": N_("Offer ready"),
    "awaiting_signature": N_("Waiting for your signature"),
    "awaiting_card": N_("Waiting for your card"),
    "disbursing": N_("Paying out"),
    "disbursed": N_("Paid out"),
    "rejected": N_("Declined"),
    "cancelled": N_("Cancelled"),
    "expired": N_("Expired"),
    "failed": N_("Failed"),
    "active": N_("Active"),
    "overdue": N_("Overdue"),
    "repaid": N_("Repaid"),
    "written_off": N_("Closed by us"),
    "open": N_("Open"),
    "closed": N_("Closed"),
    "pending": N_("Pending"),
    "succeeded": N_("Done"),
    "paid": N_("Paid"),
    "queued": N_("Queued"),
    "sent": N_("Sent"),
    "delivered": N_("Delivered"),
    "undelivered": N_("Not delivered"),
}

PURPOSE_WORDS: dict[str, str] = {
    "repayment": N_("Repayment"),
    "extension": N_("Extension"),
    "auto_debit": N_("Automatic payment"),
}

ENTRY_WORDS: dict[str, str] = {
    "loan_disbursement": N_("Money paid to you"),
    "loan_accrual": N_("Interest and charges"),
    "loan_repayment": N_("Your payment"),
    "loan_payment": N_("Your payment"),
    "loan_auto_debit": N_("Automatic payment"),
    "loan_extension": N_("Extension"),
    "loan_write_off": N_("Closed by us"),
    "loan_recovery": N_("Recovered"),
    "wallet_transfer": N_("Transfer"),
    "topup": N_("Top-up"),
    "payout": N_("Payout"),
    "bonus": N_("Bonus"),
    "commission_distribution": N_("Commission"),
    "commission_clawback": N_("Commission reversed"),
    "commission_adjustment": N_("Commission adjusted"),
}

MESSAGE_WORDS: dict[str, str] = {
    "sign_in": N_("Sign-in code"),
    "signing_code": N_("Signing code"),
    "sms": N_("SMS"),
    "email": N_("E-mail"),
}


@cache
def vocabulary(language: str) -> dict[str, dict[str, str]]:
    words = translator(language).gettext
    return {
        name: {code: words(text) for code, text in table.items()}
        for name, table in (
            ("status_words", STATUS_WORDS),
            ("purpose_words", PURPOSE_WORDS),
            ("entry_words", ENTRY_WORDS),
            ("message_words", MESSAGE_WORDS),
        )
    }
