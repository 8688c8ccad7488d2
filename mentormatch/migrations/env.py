"""Alembic environment: runs against the engine of the current Flask app."""

from __future__ import annotations

from alembic import context
from flask import current_app

from mentormatch.extensions import db

target_metadata = db.metadata


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        with db.engine.connect() as connection:
            _run(connection)
            connection.commit()
    else:
        _run(connection)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


assert current_app, "migrations run inside a Flask app context"
run_migrations_online()
