"""Alembic environment: runs migrations on the URL handed in by `store.migrate` (sync psycopg connection)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from store.db import sqlalchemy_url
from store.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connectable = create_engine(sqlalchemy_url(config.get_main_option("sqlalchemy.url") or ""), poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
