"""`GET/POST /v1/wallets` and `POST /v1/transfers`."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.dependencies import CurrentUser, Db, Resources, Temporal
from api.idempotency import Idempotency
from api.problems import Problem
from api.wallets.schemas import OpenWallet, TransferRequest, WalletList, WalletView
from api.wallets.views import transfer_view, wallet_view
from api.workflow_calls import run_workflow
from store.repositories import wallets as wallet_store
from workflows.wallet_transfer import MoneyModel, WalletTransferInput, WalletTransferWorkflow

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


@router.post("/transfers", status_code=201)
async def transfer(
    body: TransferRequest,
    user: CurrentUser,
    db: Db,
    resources: Resources,
    temporal: Temporal,
    idem: Idempotency,
) -> JSONResponse:
    """Between your own wallets (converted at the rate in force when currencies differ), or to another user's
    wallet of the same type (`to_user`). The wallet type's minimum, maximum and fee apply."""
    if (replayed := await idem.replay()) is not None:
        return replayed
    source = await wallet_store.wallet_by_id(db, body.from_wallet)
    if source is None or source.owner_id != user.id:
        raise Problem(404, "not_found", "no such wallet")
    if body.to_user is not None:
        target = await wallet_store.wallet_of(db, body.to_user, source.type_code, source.currency)
        if target is None:
            raise Problem(404, "not_found", f"that user holds no {source.type_code} wallet in {source.currency}")
        to_wallet, mode = target.id, "p2p"
    else:
        assert body.to_wallet is not None
        target = await wallet_store.wallet_by_id(db, body.to_wallet)
        if target is None:
            raise Problem(404, "not_found", "no such wallet")
        to_wallet, mode = target.id, ("own" if target.owner_id == user.id else "p2p")
    transfer_id = idem.operation_id()
    result = await run_workflow(
        temporal, WalletTransferWorkflow.run,
        WalletTransferInput(
            transfer_id=transfer_id, from_wallet=str(source.id), to_wallet=str(to_wallet),
            amount=MoneyModel(amount=body.amount.amount, currency=body.amount.currency), mode=mode,
            initiated_by=str(user.id),
        ),
        workflow_id=f"wallet-transfer-{transfer_id}", task_queue=resources.settings.main_task_queue,
    )  # fmt: skip
    return await idem.answer(201, transfer_view(result))
