"""`GET /v1/me` (who is signed in) and `GET /v1/me/messages`: what the platform sent the signed-in person (SMS and e-mail), newest first. The texts of
sign-in and signing codes are not shown back: a code belongs on the phone it was sent to, and showing a signing
code on a page would let whoever holds the session sign without the phone."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.dependencies import CurrentUser, Db, Resources
from api.pages import Page
from api.problems import Problem
from store.repositories import affiliate, identity, loans, messages

router = APIRouter(prefix="/v1/me", tags=["sign-in"])

CODE_PURPOSES = frozenset({"sign_in", "signing_code"})


class MyMessage(BaseModel):
    id: uuid.UUID
    channel: str
    purpose: str
    status: str
    body: str | None = Field(description="the text sent; none for codes")
    created_at: datetime


class Me(BaseModel):
    id: uuid.UUID
    phone: str = Field(description="the number the person signs in with (E.164)")
    kind: str
    partner: bool = Field(description="whether the person is a partner in any project")


@router.get("", response_model=Me)
async def me(user: CurrentUser, db: Db, resources: Resources) -> Me:
    """The signed-in borrower or partner, as the API knows them."""
    person = await identity.user(db, user.id)
    if person is None:
        raise Problem(404, "not_found", "no such user")
    return Me(
        id=person.id,
        phone=resources.cipher.decrypt(person.phone_encrypted),
        kind=person.kind,
        partner=bool(await affiliate.partners_of_user(db, user.id)),
    )


class MyCard(BaseModel):
    id: uuid.UUID
    payment_method: str = Field(description="the provider's token for the card (never its number)")
    brand: str | None
    last4: str | None


@router.get("/cards", response_model=Page[MyCard])
async def my_cards(user: CurrentUser, db: Db) -> Page[MyCard]:
    """Cards the person linked on the payment provider's page (a top-up or repayment may name one)."""
    return Page[MyCard](
        data=[
            MyCard(id=c.id, payment_method=c.payment_method, brand=c.brand, last4=c.last4)
            for c in await loans.cards_of_user(db, user.id)
        ]
    )


@router.get("/messages", response_model=Page[MyMessage])
async def my_messages(
    user: CurrentUser, db: Db, resources: Resources, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> Page[MyMessage]:
    person = await identity.user(db, user.id)
    if person is None:
        return Page[MyMessage](data=[])
    found = await messages.sent_to(db, resources.cipher, person.phone_lookup, limit + 1)
    return Page[MyMessage](
        data=[MyMessage(**{**m, "body": None if m["purpose"] in CODE_PURPOSES else m["body"]}) for m in found[:limit]],
        has_more=len(found) > limit,
    )
