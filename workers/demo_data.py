"""Demo data for `lendflow dev`: a wallet type, FX rates and a credit product, so a fresh platform can be tried at
once (README "Try it"). Created only when absent; never in production."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.products.schemas import TermsBody
from domain.fx import FxRate
from services import products as product_service
from services.products import VersionDraft
from store.repositories import products as product_store
from store.repositories import wallets as wallet_store

SINCE = datetime(2020, 1, 1, tzinfo=UTC)
DEMO_WALLET_TYPE = wallet_store.WalletType(
    code="main",
    currencies=["EUR", "GBP", "USD"],
    rules_currency="USD",
    min_amount=100,
    max_amount=1_000_000,
    fee_percent=Decimal("1"),
    fee_fixed=0,
    allow_negative=False,
    payouts_allowed=True,
    topups_allowed=True,
)
DEMO_PAYDAY = TermsBody(
    principal_min=5_000,
    principal_max=100_000,
    principal_step=1_000,
    term_min_days=7,
    term_max_days=60,
    daily_rate="0.008",
    fines=[],
    extension_days=[7, 14, 30],
    max_extensions=2,
)


async def ensure_demo_data(session_factory: async_sessionmaker[AsyncSession]) -> list[str]:
    """What it created (empty when everything was there already)."""
    created: list[str] = []
    async with session_factory.begin() as session:
        if await wallet_store.wallet_type(session, DEMO_WALLET_TYPE.code) is None:
            await wallet_store.put_wallet_type(session, DEMO_WALLET_TYPE)
            created.append("wallet type 'main' (EUR, GBP, USD; 1% fee)")
        if await wallet_store.rate_in_force(session, "USD", "EUR", SINCE) is None:
            await wallet_store.add_fx_rate(session, FxRate("USD", "EUR", Decimal("0.92")), SINCE)
            await wallet_store.add_fx_rate(session, FxRate("USD", "GBP", Decimal("0.79")), SINCE)
            created.append("FX rates USD/EUR 0.92, USD/GBP 0.79")
        if not any(p.code == "payday-gb" for p in await product_store.products(session)):
            product = await product_store.add_product(session, code="payday-gb", name="Payday (UK)", currency="GBP")
            assert product is not None
            # Through the same service as staff's versions: checked, and stored with the profile's caps.
            await product_service.add_version(
                session,
                product.id,
                VersionDraft(
                    valid_from=SINCE,
                    terms=DEMO_PAYDAY.model_dump(mode="json"),
                    profile="uk_fca_hcstc",
                ),
            )
            created.append("credit product 'payday-gb' (0.8% a day, FCA profile)")
    return created
