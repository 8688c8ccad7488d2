"""Shared fixtures: `app` (app context pushed), `db`, `client`; every database test runs on SQLite
and on PostgreSQL (the server at 127.0.0.1:5432; a throwaway database per run)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import flask_babel
import pytest
from flask import g, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from mentormatch import create_app
from mentormatch.extensions import db as _db

pytest_plugins = ["tests.servers.fixtures"]

PG_ADMIN_URL = os.environ.get(
    "MENTORMATCH_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = [b for b in os.environ.get("MENTORMATCH_TEST_DBS", "sqlite,postgresql").split(",") if b]


def _throwaway_pg() -> Iterator[str]:
    name = f"mm_test_{uuid.uuid4().hex[:10]}"
    # no pool: each admin connection is closed at once (none stays open for the whole run)
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """One database per test process, its schema made by the first test that needs it."""
    yield from _throwaway_pg()


@pytest.fixture
def empty_pg_url() -> Iterator[str]:
    """A database of its own with no tables: for a test that runs ``mentormatch init``."""
    yield from _throwaway_pg()


def make_settings(database_url: str, instance: str | None = None, **extra) -> dict:
    settings = {
        "app": {
            "testing": True,
            "database_url": database_url,
            "session_cookie_secure": False,
            "base_url": "http://127.0.0.1",
            "trusted_hosts": ["localhost"],  # the test client's host
            "login_rate_limit": "1000 per minute",
        },
        "mail": {"transport": "folder"},
        # logs dated "yesterday" must not depend on the weekday the suite runs on; the off-day
        # rules are tested with the programme's own rule (tests/logbook/test_log_dates.py)
        "logbook": {"off_day_logs": "allow"},
        # solves run inline in tests (spawning a solve process costs seconds); the worker
        # process has its own test (tests/rounds/test_solve_pool.py)
        "rounds": {"solve_processes": 0},
    }
    for section, values in extra.items():
        settings.setdefault(section, {}).update(values)
    return settings


_schemas: dict[str, bool] = {}


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def database_url(backend, tmp_path_factory, request) -> str:
    if backend == "postgresql":
        return request.getfixturevalue("pg_url")
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture
def app(database_url, tmp_path):
    application = create_app(make_settings(database_url))
    application.instance_path = str(tmp_path / "instance")
    os.makedirs(application.instance_path, exist_ok=True)
    with application.app_context():
        from mentormatch.services.catalogue import sync_competencies

        if database_url not in _schemas:
            _db.create_all()
            _schemas[database_url] = True
        _empty_tables()  # before, not after: a failed test leaves its rows to look at
        sync_competencies()
        _db.session.commit()
        yield application
        _db.session.remove()
        _db.engine.dispose()


_sequences: dict[str, str] = {}


def _empty_tables() -> None:
    """Every table emptied and ids from 1 again, as on a new database. On PostgreSQL a DELETE
    per table plus one ``setval`` statement is 10x faster than TRUNCATE (which replaces each
    table's files) on the suite's few-row tables; SQLite reuses ids once a table is empty."""
    engine = _db.engine
    with engine.begin() as conn:
        for table in reversed(_db.metadata.sorted_tables):
            conn.execute(table.delete())
        if engine.dialect.name == "postgresql":
            url = str(engine.url)
            if url not in _sequences:
                names = conn.scalars(text(
                    "SELECT quote_ident(sequence_schema) || '.' || quote_ident(sequence_name) "
                    "FROM information_schema.sequences")).all()
                _sequences[url] = ("SELECT " + ", ".join(
                    f"setval('{n}', 1, false)" for n in names)) if names else ""
            if _sequences[url]:
                conn.execute(text(_sequences[url]))


@pytest.fixture
def db(app):
    return _db


class FreshClient(FlaskClient):
    """Each request behaves as in production: no per-request state (logged-in user, locale)
    survives from the previous request through the app context the fixture keeps pushed."""

    def open(self, *args, **kwargs):
        if has_app_context():
            for name in ("_login_user", "_flask_babel", "csrf_token"):
                g.pop(name, None)
            flask_babel.refresh()
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = FreshClient
    return app.test_client()
