"""What every borrower and partner page needs: the signed-in person (`Signed`), the API as them (`api`), a render
in their language, the words of the page's own messages, and the API's refusals said in their language."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import Depends
from fastapi.responses import HTMLResponse, RedirectResponse

from api.security.tokens import Principal
from services.i18n import translator
from services.wording import N_
from web.people.session import Person, current_person, resources_of
from web.people.templating import render
from web.platform_api import ApiProblem, PlatformApi

Signed = Annotated[Person, Depends(current_person)]

# What the API's error codes mean to a person; the API's own English detail is shown beside it, folded away.
PROBLEMS: dict[str, str] = {
    "validation_error": N_("Please check what you entered."),
    "invalid_code": N_("That code is not right, or it has expired."),
    "invalid_credentials": N_("That code is not right, or it has expired."),
    "rate_limited": N_("Too many attempts. Please wait a few minutes and try again."),
    "limit_exceeded": N_("That is outside the limits for this operation."),
    "insufficient_funds": N_("There is not enough money in the wallet for that."),
    "card_declined": N_("The card was declined."),
    "conflict": N_("That cannot be done at this step."),
    "not_found": N_("We could not find that."),
    "forbidden": N_("That is not allowed."),
    "provider_unavailable": N_("The payment provider did not answer. Please try again."),
    "loan_rule": N_("The loan's terms do not allow that."),
}
SOMETHING_WRONG = N_("Something went wrong. Please try again.")

# Short confirmations after a form did its work (post/redirect/get carries the key, never the text).
DONE: dict[str, str] = {
    "applied": N_("Your application is in. We are checking it now."),
    "accepted": N_("Offer accepted. We sent a signing code to your phone."),
    "signed": N_("Signed. Now link a card to receive the money."),
    "code_sent": N_("A new code is on its way."),
    "card_linked": N_("Card linked. The money is on its way."),
    "cancelled": N_("The application is cancelled."),
    "repaid": N_("Payment received. Thank you."),
    "extended": N_("Your loan is extended."),
    "promised": N_("Thank you. We noted your promise to pay."),
    "transferred": N_("Transfer done."),
    "topped_up": N_("Top-up started."),
    "paid_out": N_("Payout started."),
    "destination_saved": N_("Payout destination saved."),
}


def words(person: Person) -> Callable[[str], str]:
    return translator(person.language).gettext


def api(person: Person) -> PlatformApi:
    request = person.request
    return PlatformApi(
        request.app,
        resources_of(request).settings,
        Principal(kind="user", id=person.user_id, roles=("customer",)),
        request.client.host if request.client else None,
    )


def page(person: Person, template: str, http_status: int = 200, **context: Any) -> HTMLResponse:
    done = person.request.query_params.get("done", "")
    if done in DONE and "flash" not in context:
        context["flash"] = words(person)(DONE[done])
    return render(person.request, template, context, person=person, status=http_status)


def said(person: Person, problem: ApiProblem) -> dict[str, Any]:
    """The refusal as the page shows it: in the person's words, with the API's detail folded beneath."""
    _ = words(person)
    return {
        "text": _(PROBLEMS.get(problem.code, SOMETHING_WRONG)),
        "detail": problem.detail,
        "status": problem.status if problem.status >= 400 else 422,
    }


def back_to(path: str, done: str = "") -> RedirectResponse:
    return RedirectResponse(path + (("&" if "?" in path else "?") + f"done={done}" if done else ""), status_code=303)


def new_key() -> str:
    """A form's Idempotency-Key, made when the form is drawn: a double-submitted form moves money once."""
    return str(uuid.uuid4())


def amount_in_minor_units(typed: str | None, exponent: int) -> int | None:
    """An amount typed in major units ("12.50", "12,50", "1 200") as integer minor units, never through float;
    None for anything else (more decimals than the currency has, letters, nothing)."""
    if typed is None:
        return None
    text = typed.strip().replace("\u00a0", "").replace(" ", "")
    if text.count(".") > 1 or (exponent == 0 and "." in text):
        text = text.replace(".", "")  # dots grouping thousands (vi: 1.200.000)
    if text.count(",") == 1 and "." not in text and exponent > 0:
        text = text.replace(",", ".")  # a decimal comma (vi, uk)
    text = text.replace(",", "")
    if not text:
        return None
    try:
        scaled = Decimal(text).scaleb(exponent)
    except InvalidOperation:
        return None
    if scaled != scaled.to_integral_value() or scaled <= 0:
        return None
    return int(scaled)
