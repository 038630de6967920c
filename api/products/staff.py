"""`POST /v1/staff/products`, `POST /v1/staff/products/{id}/versions`, `GET /v1/staff/products` (admin)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.dependencies import Db, StaffAudit, StaffWith
from api.idempotency import Idempotency
from api.pages import Page
from api.problems import Problem
from api.products.schemas import NewProduct, NewVersion, ProductView, Segment, VersionView
from domain.lending.products import ProductInvalid
from services import products as product_service
from services.products import VersionDraft
from store.repositories import products as product_store

router = APIRouter(prefix="/v1/staff/products", tags=["staff: credit products"])


def version_view(version: product_store.ProductVersion) -> VersionView:
    return VersionView(
        id=version.id,
        version=version.version,
        valid_from=version.valid_from,
        profile=version.profile,
        segment=Segment(min_repaid_loans=version.min_repaid_loans, max_repaid_loans=version.max_repaid_loans),
        terms=version.terms,
    )


@router.post("", status_code=201, response_model=ProductView)
async def add_product(body: NewProduct, _: StaffWith("admin"), db: Db, audit: StaffAudit) -> ProductView:
    product = await product_store.add_product(db, code=body.code, name=body.name, currency=body.currency)
    if product is None:
        raise Problem(409, "conflict", f"a product with code {body.code!r} exists")
    await audit.record("product.add", target_type="product", target_id=str(product.id), details=body.model_dump())
    return ProductView(id=product.id, code=product.code, name=product.name, currency=product.currency)


@router.post("/{product_id}/versions", status_code=201, response_model=VersionView)
async def add_version(
    product_id: uuid.UUID, body: NewVersion, _: StaffWith("admin"), db: Db, audit: StaffAudit, idem: Idempotency
) -> JSONResponse:
    """A new version applies to loans started from `valid_from`; running loans keep the terms they signed. With an
    `Idempotency-Key`, a repeated request answers the version it made instead of making another."""
    if (replayed := await idem.replay()) is not None:
        return replayed
    draft = VersionDraft(
        valid_from=body.valid_from,
        terms=body.terms.model_dump(mode="json"),
        profile=body.profile,
        min_repaid_loans=body.segment.min_repaid_loans,
        max_repaid_loans=body.segment.max_repaid_loans,
    )
    try:
        version = await product_service.add_version(db, product_id, draft)
    except product_service.ProductNotFound:
        raise Problem(404, "not_found", "no such product") from None
    except ProductInvalid as invalid:
        raise Problem(
            422, "validation_error", "; ".join(invalid.problems), extra={"problems": invalid.problems}
        ) from None
    await audit.record(
        "product.version_add",
        target_type="product",
        target_id=str(product_id),
        details={"version": version.version, **body.model_dump(mode="json")},
    )
    return await idem.answer(201, version_view(version))


@router.get("", response_model=Page[ProductView])
async def list_products(_: StaffWith("underwriter", "accountant", "support"), db: Db) -> Page[ProductView]:
    return Page[ProductView](
        data=[
            ProductView(
                id=p.id,
                code=p.code,
                name=p.name,
                currency=p.currency,
                versions=[version_view(v) for v in await product_store.versions(db, p.id)],
            )
            for p in await product_store.products(db)
        ]
    )
