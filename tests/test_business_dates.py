"""What a borrower is told about dates is what the loan has: quotes, offers, the agreement and the "funded" message
all start from the market's open business date (the one `book_loan` uses), however far close of business has moved
the calendar from the wall clock."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx

from services import formatting
from store.repositories import agreements
from tests.conftest import Stack
from tests.helpers import admin_token, bearer, borrower_token, outbox_messages
from tests.origination_steps import application_body, apply, lending_product, signing_code, wait_status
from tests.servicing_steps import close_through, loan, open_date, product_with_terms, wait_until


async def test_every_date_a_borrower_sees_agrees_after_close_of_business_moved_the_calendar(
    http: httpx.AsyncClient, clean: Stack
) -> None:
    admin = await admin_token(http, clean.settings)
    product_id = await lending_product(http, admin)
    # Forty business dates closed ahead of the wall clock (allowed in dev): the open business date is a month on.
    await close_through(http, admin, (await open_date(http, admin)) + timedelta(days=40))
    start = await open_date(http, admin)
    due = start + timedelta(days=30)
    phone = "+447700930001"
    token = await borrower_token(http, phone)

    quoted = await http.post(
        "/v1/quotes", json={"product_id": product_id, "principal": 50_000, "term_days": 30}, headers=bearer(token)
    )
    assert quoted.status_code == 200, quoted.text
    assert (quoted.json()["start_date"], quoted.json()["due_date"]) == (start.isoformat(), due.isoformat())

    created = await apply(http, token, application_body(product_id, phone))
    offer = (await wait_status(http, token, created["id"], "offered"))["offer"]
    assert (offer["start_date"], offer["due_date"]) == (start.isoformat(), due.isoformat())
    assert offer["total_due"] == quoted.json()["total_due"]["amount"]

    assert (await http.post(f"/v1/applications/{created['id']}/accept", headers=bearer(token))).status_code == 200
    code = await signing_code(http, phone)
    signed = await http.post(f"/v1/applications/{created['id']}/sign", json={"code": code}, headers=bearer(token))
    assert signed.status_code == 200, signed.text
    async with clean.sessions() as session:
        agreement = await agreements.agreement(session, uuid.UUID(created["id"]))
    assert agreement is not None
    document = agreements.document_text(agreement, clean.cipher)
    assert f"Date: {start.isoformat()}" in document and "Alice Example" not in agreement.document  # sealed at rest
    assert f"  {due.isoformat()}: " in document  # the schedule's one instalment

    card = await http.post(
        f"/v1/applications/{created['id']}/card", json={"payment_method": "pm_card_visa"}, headers=bearer(token)
    )
    assert card.status_code == 200, card.text
    funded = await wait_status(http, token, created["id"], "disbursed")
    booked = await loan(http, token, str(funded["loan_id"]))
    assert booked["due_date"] == due.isoformat()

    async def funded_message() -> dict[str, object] | None:
        return next((m for m in await outbox_messages(http, phone) if m["purpose"] == "application_funded"), None)

    message = await wait_until(funded_message, "the funded SMS")
    assert f"Due date: {formatting.day(due)}" in str(message["body"])


async def test_a_loan_with_a_broken_first_period_is_the_quote_the_borrower_was_given(
    http: httpx.AsyncClient, clean: Stack
) -> None:
    """Three monthly instalments, the first on a date the borrower picked: the quote, the application, the offer
    and the booked loan's schedule (as staff see it) are one and the same."""
    admin = await admin_token(http, clean.settings)
    terms = {
        "principal_min": 10_000,
        "principal_max": 100_000,
        "principal_step": 1_000,
        "term_min_days": 30,
        "term_max_days": 200,
        "interest_rate": {"rate": "0.36", "per": "year", "day_count": "30e_360_isda"},
        "interest_rounding": "per_period",
        "repayment": "annuity",
        "frequency": "monthly",
    }
    product_id = await product_with_terms(http, admin, "instalments-gb", "GBP", terms)
    start = await open_date(http, admin)
    first = start + timedelta(days=45)
    phone = "+447700930002"
    token = await borrower_token(http, phone)
    asked = {"principal": 60_000, "term_periods": 3, "first_repayment_date": first.isoformat()}
    quoted = (await http.post("/v1/quotes", json={"product_id": product_id, **asked}, headers=bearer(token))).json()
    assert quoted["schedule"][0]["due_date"] == first.isoformat()

    body = application_body(product_id, phone) | asked
    del body["term_days"]
    created = await apply(http, token, body)
    assert (created["term_days"], created["first_repayment_date"]) == (quoted["term_days"], first.isoformat())
    offer = (await wait_status(http, token, created["id"], "offered"))["offer"]
    assert (offer["total_due"], offer["due_date"]) == (quoted["total_due"]["amount"], quoted["due_date"])
    assert (await http.post(f"/v1/applications/{created['id']}/accept", headers=bearer(token))).status_code == 200
    code = await signing_code(http, phone)
    signed = await http.post(f"/v1/applications/{created['id']}/sign", json={"code": code}, headers=bearer(token))
    assert signed.status_code == 200, signed.text
    card = await http.post(
        f"/v1/applications/{created['id']}/card", json={"payment_method": "pm_card_visa"}, headers=bearer(token)
    )
    assert card.status_code == 200, card.text
    funded = await wait_status(http, token, created["id"], "disbursed")
    view = (await http.get(f"/v1/staff/loans/{funded['loan_id']}", headers=bearer(admin))).json()
    assert view["schedule"] == quoted["schedule"]
