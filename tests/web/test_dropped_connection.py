"""A database connection that dies (failover, restart, a killed backend) costs a reader no error
page: pooled connections are pinged before use and a read-only request whose connection drops
mid-way runs once more. A write is never repeated: it gets the error page and changes nothing.
PostgreSQL only - the backend is really terminated with pg_terminate_backend."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, event, text

from tests import factories as f
from tests.conftest import PG_ADMIN_URL


@pytest.fixture
def pg(app, db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("terminates PostgreSQL backends")
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    yield admin
    admin.dispose()


class Killer:
    """Terminates the backend of the connection about to run the first statement that
    contains ``marker`` (after ``armed`` is set), and counts such statements."""

    def __init__(self, engine, admin, marker: str) -> None:
        self.admin, self.marker, self.armed, self.seen, self.killed = admin, marker, False, 0, 0
        event.listen(engine, "before_cursor_execute", self)
        self.engine = engine

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self.marker not in statement:
            return
        self.seen += 1
        if self.armed:
            self.armed = False
            pid = conn.connection.dbapi_connection.info.backend_pid
            with self.admin.connect() as c:
                assert c.scalar(text("SELECT pg_terminate_backend(:p, 5000)"), {"p": pid})
            self.killed += 1

    def remove(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self)


def _coordinator(client, db):
    f.person("Andi Lamba", grade=13)
    u = f.user(["coordinator"])
    db.session.commit()
    f.login(client, u)
    return u


def test_read_retried_once_when_the_backend_dies_mid_request(client, db, pg):
    _coordinator(client, db)
    assert client.get("/people/").status_code == 200
    killer = Killer(db.engine, pg, "FROM person")
    try:
        killer.armed = True
        killer.seen = 0
        resp = client.get("/people/")
    finally:
        killer.remove()
    assert killer.killed == 1
    assert resp.status_code == 200, resp.get_data(as_text=True)[-500:]
    assert "Andi Lamba" in resp.get_data(as_text=True)
    assert killer.seen >= 2  # the list query ran again, on a new connection


def test_pooled_connections_killed_between_requests(client, db, pg):
    _coordinator(client, db)
    assert client.get("/people/").status_code == 200
    db.session.remove()
    name = db.engine.url.database
    with pg.connect() as c:
        killed = c.scalar(text("SELECT count(pg_terminate_backend(pid, 5000)) FROM "
                               "pg_stat_activity WHERE datname = :d AND pid <> pg_backend_pid()"),
                          {"d": name})
    assert killed >= 1
    for _ in range(3):
        resp = client.get("/people/")
        assert resp.status_code == 200 and "Andi Lamba" in resp.get_data(as_text=True)


def test_write_is_not_repeated_when_the_backend_dies(client, db, pg):
    from tests.helpers import csrf_from

    uid = _coordinator(client, db).id  # the failed request's rollback expires the object
    token = csrf_from(client, "/")
    killer = Killer(db.engine, pg, 'UPDATE user_account')
    try:
        killer.armed = True
        resp = client.post("/language", data={"locale": "en", "csrf_token": token, "next": "/"})
    finally:
        killer.remove()
    assert killer.killed == 1 and killer.seen == 1, resp.status_code  # tried once, never again
    assert resp.status_code == 500
    assert "Traceback" not in resp.get_data(as_text=True)
    db.session.remove()
    locale = db.session.scalar(text("SELECT locale FROM user_account WHERE id = :i"), {"i": uid})
    assert locale is None
    assert client.get("/people/").status_code == 200  # and the next request is fine
