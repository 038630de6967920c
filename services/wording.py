"""What the platform tells people by SMS and e-mail, as catalog messages (locales/): the sign-in and signing
codes, the application's outcome, the loan's reminders and the partner's statement notice. The English text is
the message id; `N_` marks it for extraction (`make messages`) without translating it here, and `say` renders it
in the recipient's language: the language of their phone's country (domain/language.py)."""

from __future__ import annotations

from datetime import date

from domain.language import language_for_phone
from domain.money import Money
from services import formatting
from services.i18n import translator


def N_(message: str) -> str:
    return message


def NN_(singular: str, plural: str) -> tuple[str, str]:
    return singular, plural


TEXTS: dict[str, str] = {
    # sign-in and signing
    "sign_in_code": N_("Your lendflow code is {code}. It expires in {minutes} minutes. Never share it."),
    "signing_code": N_("Your lendflow signing code is {code}. It expires in {minutes} minutes. Never share it."),
    # the application's outcome
    "approved": N_("Good news: your loan of {amount} is approved. Open the app to accept the offer."),
    "lower_amount": N_("Your application is approved for {amount}. Open the app to accept the offer."),
    "rejected": N_("We are sorry: we cannot offer you a loan now."),
    "funded": N_("Your loan of {amount} has been paid to your card. Due date: {due_date}."),
    "cancelled": N_("Your loan application has been cancelled."),
    "expired": N_("Your loan application has expired. You are welcome to apply again."),
    "failed": N_("We could not pay the loan to your card. Nothing is owed; please contact us."),
    # the loan's life
    "due_soon": N_("Reminder: {amount} is due on your loan on {due_date}."),
    "due_today": N_("Your loan payment of {amount} is due today."),
    "repaid": N_("Thank you: your loan is repaid in full."),
    "payment_received": N_("We received {amount} for your loan. Still owed: {owed}."),
    "extended": N_("Your loan is extended. New due date: {due_date}."),
    "written_off": N_("Your loan account has been closed. Contact us about the remaining balance."),
    # partners
    "statement_ready": N_(
        "{project}: your commission statement for {period} is ready. Credited this period: {amount}."
    ),
}

# The warnings a regulatory profile requires before a borrower takes the loan (domain/lending/profiles.py).
WARNINGS: dict[str, str] = {
    "late_repayment_money_problems": N_(
        "Warning: Late repayment can cause you serious money problems. For help, go to moneyhelper.org.uk."
    ),
    "withdrawal_14_days": N_("You may withdraw from this agreement within 14 days without giving a reason."),
    "penalty_caps": N_(
        "Late payment penalties are at most 15% of the overdue payment for each delay and at most 50% of the amount"
        " received in total."
    ),
}

# Texts with a count in them (the value named `days`): the catalog decides the plural form.
COUNTED: dict[str, tuple[str, str]] = {
    "overdue": NN_(
        "Your loan is {days} day overdue. {amount} is owed. Please pay now to stop charges growing.",
        "Your loan is {days} days overdue. {amount} is owed. Please pay now to stop charges growing.",
    ),
    "collections": NN_(
        "Your loan is {days} day overdue and {amount} is owed. Contact us to agree a plan.",
        "Your loan is {days} days overdue and {amount} is owed. Contact us to agree a plan.",
    ),
}


def _shown(value: object, language: str) -> object:
    """Money and dates as the recipient reads them (babel, their language's conventions); the rest as given."""
    if isinstance(value, Money):
        return formatting.money(value.amount, value.currency, language)
    if isinstance(value, date):
        return formatting.day(value, language)
    return value


def say(kind: str, language: str, **values: object) -> str:
    """The text of one kind of message in one language, its placeholders filled: `Money` and `date` values are
    written the recipient's way (`1.250,00 ₫`, `5 thg 1, 2027`)."""
    words = translator(language)
    shown = {name: _shown(value, language) for name, value in values.items()}
    if kind in COUNTED:
        singular, plural = COUNTED[kind]
        count = values["days"]
        assert isinstance(count, int)
        return _one_stop(words.ngettext(singular, plural, count).format(**shown))
    return _one_stop(words.gettext(TEXTS[kind]).format(**shown))


def _one_stop(text: str) -> str:
    """A date that ends in an abbreviation's period (the Ukrainian year, `2027 r.` with a Cyrillic r) at a sentence's end: one period."""
    return text.replace("..", ".")


def say_to(kind: str, phone: str, **values: object) -> str:
    """The text for the person behind a phone number, in their country's language."""
    return say(kind, language_for_phone(phone), **values)


def warning(code: str, language: str) -> str:
    return translator(language).gettext(WARNINGS[code])
