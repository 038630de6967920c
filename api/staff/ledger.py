"""The ledger explorer for accountants: any journal entry by id with its postings (`GET
/v1/staff/ledger/entries/{id}`), the journal filtered by loan, wallet, account, kind and value dates (`GET
/v1/staff/ledger/entries`), and any account's statement with its running balance (`GET
/v1/staff/ledger/accounts/{id}/statement`). Reads only: nothing here writes money."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from api.dependencies import Db, StaffWith
from api.problems import Problem
from store.repositories import journal

router = APIRouter(prefix="/v1/staff/ledger", tags=["staff: ledger"])

Reader = StaffWith("accountant", "support")
MAX_ID = 2**63 - 1


class PostingView(BaseModel):
    account_id: int
    account: str
    account_kind: str
    amount: int
    currency: str


class EntryView(BaseModel):
    id: int
    idempotency_key: str
    kind: str
    value_date: date
    recorded_at: datetime
    corrects_entry_id: int | None
    metadata: dict[str, Any]
    postings: list[PostingView]


class EntryList(BaseModel):
    data: list[EntryView]
    has_more: bool


class StatementLineView(BaseModel):
    posting_id: int
    entry_id: int
    key: str
    kind: str
    value_date: date
    recorded_at: datetime
    amount: int
    balance_after: int
    metadata: dict[str, Any]


class Statement(BaseModel):
    account_id: int
    data: list[StatementLineView]
    has_more: bool


def entry_view(entry: journal.Entry) -> EntryView:
    return EntryView(
        id=entry.id,
        idempotency_key=entry.key,
        kind=entry.kind,
        value_date=entry.value_date,
        recorded_at=entry.recorded_at,
        corrects_entry_id=entry.corrects_entry_id,
        metadata=entry.metadata,
        postings=[PostingView(**vars(p)) for p in entry.postings],
    )


@router.get("/entries/{entry_id}", response_model=EntryView)
async def read_entry(entry_id: Annotated[int, Path(ge=1, le=MAX_ID)], _: Reader, db: Db) -> EntryView:
    found = await journal.entry(db, entry_id)
    if found is None:
        raise Problem(404, "not_found", "no such journal entry")
    return entry_view(found)


@router.get("/entries", response_model=EntryList)
async def list_entries(
    _: Reader,
    db: Db,
    loan_id: uuid.UUID | None = None,
    wallet_id: uuid.UUID | None = None,
    account_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    kind: Annotated[str | None, Query(pattern=r"^[a-z_]{1,64}$")] = None,
    value_from: date | None = Query(default=None, alias="from"),
    value_to: date | None = Query(default=None, alias="to"),
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    starting_after: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
) -> EntryList:
    """In posting order; each filter narrows the journal to the entries that touched those accounts."""
    accounts: list[int] | None = None
    if loan_id is not None:
        accounts = await journal.account_ids(db, code_prefix=f"loan:{loan_id}:")
    if wallet_id is not None:
        found = await journal.account_ids(db, code=f"wallet:{wallet_id}")
        accounts = found if accounts is None else [a for a in accounts if a in found]
    if account_id is not None:
        accounts = [account_id] if accounts is None else [a for a in accounts if a == account_id]
    rows = await journal.entries(
        db,
        accounts=accounts,
        kind=kind,
        value_from=value_from,
        value_to=value_to,
        starting_after=starting_after,
        limit=limit + 1,
    )
    return EntryList(data=[entry_view(e) for e in rows[:limit]], has_more=len(rows) > limit)


@router.get("/accounts/{account_id}/statement", response_model=Statement)
async def account_statement(
    account_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    _: Reader,
    db: Db,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    starting_after: Annotated[int | None, Query(ge=0, le=MAX_ID, description="a posting id")] = None,
) -> Statement:
    lines = await journal.statement(db, account_id, starting_after=starting_after, limit=limit + 1)
    return Statement(
        account_id=account_id,
        data=[StatementLineView(**vars(line)) for line in lines[:limit]],
        has_more=len(lines) > limit,
    )
