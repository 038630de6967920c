"""What the app holds for its lifetime: settings, the database, the PII cipher, the Temporal client.

Tests hand in resources they built; `lendflow api` lets the lifespan build them from settings.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.client import Client

from config import Settings
from providers.payments.card_pages import CardSetupPage, FakeCardSetupPage, StripeCardSetupPage
from store.notifications import ApplicationStatusListener
from store.pii import PiiCipher
from workflows.payload_codec import EncryptionCodec


@dataclass
class AppResources:
    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    cipher: PiiCipher
    # Connects on first use, so the API can start (and say "not ready") while Temporal is still coming up.
    temporal_connector: Callable[[], Awaitable[Client]]
    _temporal: Client | None = field(default=None, init=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)
    _status_listener: ApplicationStatusListener | None = field(default=None, init=False)
    _card_page: CardSetupPage | None = field(default=None, init=False)
    _payload_codec: EncryptionCodec | None = field(default=None, init=False)

    def payload_codec(self) -> EncryptionCodec:
        """The keys that encrypt workflow payloads, for the codec server (the Temporal client has its own)."""
        if self._payload_codec is None:
            self._payload_codec = EncryptionCodec.from_settings(
                self.settings.payload_keys, self.settings.payload_key_id
            )
        return self._payload_codec

    def card_page(self) -> CardSetupPage:
        """The payment provider's page where a borrower types their card (never lendflow's)."""
        if self._card_page is None:
            settings = self.settings
            self._card_page = (
                StripeCardSetupPage(settings.stripe_api_key, api_base=settings.stripe_api_base)
                if settings.payment_provider == "stripe"
                else FakeCardSetupPage()
            )
        return self._card_page

    def status_listener(self) -> ApplicationStatusListener:
        """One LISTEN connection per API process, opened when the first borrower follows an application."""
        if self._status_listener is None:
            self._status_listener = ApplicationStatusListener(self.settings.database_url or "")
        return self._status_listener

    async def close_listeners(self) -> None:
        if self._status_listener is not None:
            await self._status_listener.close()

    async def temporal(self) -> Client:
        if self._temporal is None:
            async with self._lock:
                if self._temporal is None:
                    self._temporal = await self.temporal_connector()
        return self._temporal
