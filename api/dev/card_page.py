"""The fake payment provider's hosted card page (development and tests only), standing where Stripe Checkout's
page stands in production: the borrower picks one of Stripe's documented test cards and the page sends the browser
back to the return URL with the payment method it "set up". It is the provider's page, not lendflow's: no session,
no lendflow styles, and nothing typed here reaches lendflow but the payment method id."""

from __future__ import annotations

from html import escape
from typing import Annotated
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.problems import Problem

router = APIRouter(prefix="/dev/payments", include_in_schema=False)

TEST_CARDS = (
    ("pm_card_visa", "Visa •••• 4242"),
    ("pm_card_mastercard", "Mastercard •••• 4444"),
    ("pm_card_chargeDeclinedInsufficientFunds", "Visa •••• 9995 (insufficient funds on charge)"),
)


def _same_site(request: Request, url: str) -> str:
    """The fake only sends browsers back to the platform that sent them (no open redirect, even in dev)."""
    target = urlsplit(url)
    if target.scheme not in ("http", "https") or target.netloc != request.url.netloc:
        raise Problem(422, "validation_error", "the return URL is not this platform's")
    return url


@router.get("/card-setup", response_class=HTMLResponse)
async def card_setup_page(
    request: Request,
    reference: Annotated[str, Query(max_length=100)],
    return_url: Annotated[str, Query(max_length=2000)],
    cancel_url: Annotated[str, Query(max_length=2000)],
) -> HTMLResponse:
    _same_site(request, return_url)
    choices = "".join(
        f'<label><input type="radio" name="payment_method" value="{escape(pm)}"{" checked" if i == 0 else ""}>'
        f" {escape(label)}</label><br>"
        for i, (pm, label) in enumerate(TEST_CARDS)
    )
    body = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>FakePay · add a card</title></head>
<body style="font-family: sans-serif; max-width: 26rem; margin: 2rem auto; padding: 0 1rem">
<h1 style="font-size: 1.3rem">FakePay</h1><p>Test payment page for reference {escape(reference)}.</p>
<form method="post" action="/dev/payments/card-setup">
<input type="hidden" name="return_url" value="{escape(return_url)}">
<fieldset><legend>Test card</legend>{choices}</fieldset>
<p><button type="submit" data-test="fakepay-save">Save card</button>
<a href="{escape(_same_site(request, cancel_url))}">Cancel</a></p></form></body></html>"""
    return HTMLResponse(body, headers={"Cache-Control": "no-store"})


@router.post("/card-setup")
async def card_setup_done(
    request: Request,
    return_url: Annotated[str, Form(max_length=2000)],
    payment_method: Annotated[str, Form(max_length=100)],
) -> RedirectResponse:
    if payment_method not in {pm for pm, _ in TEST_CARDS}:
        raise Problem(422, "validation_error", "not one of the test cards")
    joiner = "&" if "?" in return_url else "?"
    target = _same_site(request, return_url) + joiner + urlencode({"payment_method": payment_method})
    return RedirectResponse(target, status_code=303)
