"""`GET/POST /v1/wallets`, a wallet's statement, `POST /v1/transfers` (to your own wallets, or another user's by id
or phone), `GET /v1/transfers/{id}`, and the FX rates in force."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from api.dependencies import CurrentUser, Db, Resources, Temporal
from api.idempotency import Idempotency
from api.money import Amount
from api.problems import Problem
from api.wallets.schemas import (
    FxRateList,
    FxRateView,
    OpenWallet,
    TransferPreview,
    TransferRequest,
    TransferView,
    WalletList,
    WalletStatement,
    WalletStatementLine,
    WalletView,
)
from api.wallets.views import transfer_view, wallet_view
from api.workflow_calls import run_workflow
from config.task_queues import Family
from contracts.wallets import MoneyModel, WalletTransferInput
from domain.money import Money
from domain.wallet_rules import TransferRefused
from services.wallet_transfers import previewed, transfer_terms
from store.repositories import identity, journal
from store.repositories import wallets as wallet_store
from workflows.wallet_transfer import WalletTransferWorkflow

router = APIRouter(prefix="/v1", tags=["wallets"])


@router.get("/wallets", response_model=WalletList)
async def my_wallets(user: CurrentUser, db: Db) -> WalletList:
    return WalletList(data=[wallet_view(w) for w in await wallet_store.wallets_of(db, user.id)])


@router.post("/wallets", status_code=201, response_model=WalletView)
async def open_wallet(body: OpenWallet, user: CurrentUser, db: Db, idem: Idempotency) -> JSONResponse:
    if (replayed := await idem.replay()) is not None:
        return replayed
    wallet_type = await wallet_store.wallet_type(db, body.type)
    if wallet_type is None:
        raise Problem(422, "validation_error", f"there is no wallet type {body.type!r}")
    if body.currency not in wallet_type.currencies:
        raise Problem(422, "validation_error", f"a {body.type} wallet holds one of {', '.join(wallet_type.currencies)}")
    if await wallet_store.wallet_of(db, user.id, body.type, body.currency) is not None:
        raise Problem(409, "conflict", f"you already hold a {body.type} wallet in {body.currency}")
    wallet = await wallet_store.open_wallet(db, owner_id=user.id, wallet_type=wallet_type, currency=body.currency)
    return await idem.answer(201, wallet_view(wallet))


async def _ends(db: Db, resources: Resources, body: TransferRequest, user_id: uuid.UUID) -> tuple[Any, uuid.UUID, str]:
    """The source wallet, the destination wallet and the mode ("own" or "p2p") a transfer request names."""
    source = await wallet_store.wallet_by_id(db, body.from_wallet)
    if source is None or source.owner_id != user_id:
        raise Problem(404, "not_found", "no such wallet")
    recipient = body.to_user
    if body.to_phone is not None:
        found = await identity.user_by_phone(db, resources.cipher, body.to_phone)
        if found is None:
            raise Problem(404, "not_found", "nobody has signed in with that phone number")
        recipient = found.id
    if recipient is not None:
        target = await wallet_store.wallet_of(db, recipient, source.type_code, source.currency)
        if target is None:
            raise Problem(404, "not_found", f"that user holds no {source.type_code} wallet in {source.currency}")
        to_wallet, mode = target.id, "p2p"
    else:
        assert body.to_wallet is not None
        target = await wallet_store.wallet_by_id(db, body.to_wallet)
        if target is None:
            raise Problem(404, "not_found", "no such wallet")
        to_wallet, mode = target.id, ("own" if target.owner_id == user_id else "p2p")
    return source, to_wallet, mode


@router.post("/transfers/preview", response_model=TransferPreview)
async def preview_transfer(body: TransferRequest, user: CurrentUser, db: Db, resources: Resources) -> TransferPreview:
    """What `POST /v1/transfers` with the same body would debit, credit and charge now (the rate in force, the
    wallet type's fee and limits). Moves nothing; the rate may change before the transfer is made."""
    source, to_wallet, mode = await _ends(db, resources, body, user.id)
    amount = Money(body.amount.amount, body.amount.currency)
    try:
        terms = await transfer_terms(db, source.id, to_wallet, amount, mode, user.id, datetime.now(UTC))
        plan = previewed(terms)
    except TransferRefused as refused:
        status = {"not_found": 404, "forbidden": 403}.get(refused.code, 422)
        raise Problem(status, refused.code, refused.detail) from None
    except ValueError as refused:
        raise Problem(422, "validation_error", str(refused)) from None
    return TransferPreview(
        from_wallet=str(source.id),
        to_wallet=str(to_wallet),
        debited=Amount(amount=plan.debited.amount, currency=plan.debited.currency),
        credited=Amount(amount=plan.credited.amount, currency=plan.credited.currency),
        fee=Amount(amount=plan.fee.amount, currency=plan.fee.currency),
        rate=None if plan.rate is None else format(plan.rate.normalize(), "f"),
    )


@router.post("/transfers", status_code=201, response_model=TransferView)
async def transfer(
    body: TransferRequest,
    user: CurrentUser,
    db: Db,
    resources: Resources,
    temporal: Temporal,
    idem: Idempotency,
) -> JSONResponse:
    """Between your own wallets (converted at the rate in force when currencies differ), or to another user's
    wallet of the same type (`to_user`, or `to_phone`: the phone they sign in with). The wallet type's minimum,
    maximum and fee apply."""
    if (replayed := await idem.replay()) is not None:
        return replayed
    source, to_wallet, mode = await _ends(db, resources, body, user.id)
    transfer_id = idem.operation_id()
    result = await run_workflow(
        temporal,
        WalletTransferWorkflow.run,
        WalletTransferInput(
            transfer_id=transfer_id,
            from_wallet=str(source.id),
            to_wallet=str(to_wallet),
            amount=MoneyModel(amount=body.amount.amount, currency=body.amount.currency),
            mode=mode,
            initiated_by=str(user.id),
        ),
        workflow_id=f"wallet-transfer-{transfer_id}",
        task_queue=resources.settings.queue_for(Family.PAYMENTS),
    )
    return await idem.answer(201, transfer_view(result))


@router.get("/wallets/{wallet_id}/statement", response_model=WalletStatement)
async def wallet_statement(
    wallet_id: uuid.UUID,
    user: CurrentUser,
    db: Db,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    starting_after: Annotated[int | None, Query(ge=0, le=2**63 - 1, description="a posting id")] = None,
) -> WalletStatement:
    """Every movement of the wallet in order, with the balance after each; page with `starting_after`."""
    wallet = await wallet_store.wallet_by_id(db, wallet_id)
    if wallet is None or wallet.owner_id != user.id:
        raise Problem(404, "not_found", "no such wallet")
    lines = await journal.statement(db, wallet.account_id, starting_after=starting_after, limit=limit + 1)
    return WalletStatement(
        wallet_id=wallet.id,
        data=[
            WalletStatementLine(
                posting_id=line.posting_id,
                entry_id=line.entry_id,
                kind=line.kind,
                value_date=line.value_date,
                recorded_at=line.recorded_at,
                amount=Amount(amount=line.amount, currency=wallet.currency),
                balance_after=Amount(amount=line.balance_after, currency=wallet.currency),
                reference=line.key,
            )
            for line in lines[:limit]
        ],
        has_more=len(lines) > limit,
    )


@router.get("/transfers/{transfer_id}", response_model=TransferView)
async def read_transfer(transfer_id: uuid.UUID, user: CurrentUser, db: Db) -> TransferView:
    """A transfer you made or received, as it was posted (the ledger is its record)."""
    entry = await journal.entry_by_key(db, f"transfer:{transfer_id}")
    result = None if entry is None else entry.metadata.get("result")
    if entry is None or not isinstance(result, dict):
        raise Problem(404, "not_found", "no such transfer")
    ends = await wallet_store.wallets_by_ids(db, [uuid.UUID(result["from_wallet"]), uuid.UUID(result["to_wallet"])])
    if user.id not in {w.owner_id for w in ends.values()} and entry.metadata.get("initiated_by") != str(user.id):
        raise Problem(404, "not_found", "no such transfer")
    return TransferView.model_validate(result)


@router.get("/fx-rates", response_model=FxRateList)
async def fx_rates(user: CurrentUser, db: Db) -> FxRateList:
    """The conversion rates in force now, one per pair (a pair converts both ways: quote per unit of base)."""
    found = await wallet_store.rates_in_force(db, datetime.now(UTC))
    return FxRateList(
        data=[
            FxRateView(base=r.base, quote=r.quote, rate=format(r.rate.normalize(), "f"), valid_from=since)
            for r, since in found
        ]
    )
