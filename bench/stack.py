"""A throwaway embedded PostgreSQL, migrated to head, for bench scripts (configured as `lendflow dev` runs it)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from store.migrate import upgrade
from workers.devstack.ports import free_port
from workers.devstack.postgres import EmbeddedPostgres


@contextmanager
def bench_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="lendflow-bench-") as tmp:
        server = EmbeddedPostgres(Path(tmp) / "data", free_port(), durable=True)
        server.start()
        try:
            url = server.ensure_database("bench")
            upgrade(url)
            yield url
        finally:
            server.stop()
