"""A throwaway benchmark database: SQLite in the work folder, or a fresh PostgreSQL database
(dropped afterwards) on the server named by MENTORMATCH_TEST_PG_ADMIN."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, text

PG_ADMIN_URL = os.environ.get(
    "MENTORMATCH_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def database(pg: bool, workdir: Path) -> tuple[str, Callable[[], None] | None]:
    """(SQLAlchemy URL, drop function or None)."""
    if not pg:
        return f"sqlite:///{workdir / 'bench.db'}", None
    name = f"mm_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", drop
