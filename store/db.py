"""Engine and session factory on psycopg 3 (async), the only way the rest of the code reaches PostgreSQL."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def sqlalchemy_url(database_url: str) -> str:
    """Accept plain `postgresql://` URLs (as hosting providers hand them out) and pin the psycopg 3 driver."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if database_url.startswith(prefix):
            return "postgresql+psycopg://" + database_url.removeprefix(prefix)
    raise ValueError("DATABASE_URL must be a postgresql:// URL")


def psycopg_conninfo(database_url: str) -> str:
    """The same database as a plain libpq URL, for the connections psycopg opens itself."""
    return "postgresql://" + sqlalchemy_url(database_url).removeprefix("postgresql+psycopg://")


def make_engine(database_url: str, *, pool_size: int = 10) -> AsyncEngine:
    # No pre-ping: it costs a round trip on every checkout, a third of a ledger transfer. Connections are recycled
    # instead, and a connection that died with its server fails that one request, which the client retries.
    return create_async_engine(
        sqlalchemy_url(database_url), pool_size=pool_size, max_overflow=max(1, pool_size // 2), pool_recycle=1800
    )


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
