"""A session cookie captured before logout, a password reset, a deactivation or a role removal
stops working, on this worker and on another one (a second app on the same database)."""

from __future__ import annotations

import contextlib
from email import message_from_bytes, policy

import pytest
from sqlalchemy import select

from mentormatch import create_app
from mentormatch.models import OutboxMessage, User
from tests import factories as f
from tests.conftest import FreshClient, make_settings
from tests.helpers import csrf_from, form_login


@pytest.fixture
def worker2(app, database_url):
    """Another worker: its own app instance (same secret key) on the same database."""
    other = create_app(make_settings(database_url,
                                     app={"secret_key": app.config["SECRET_KEY"]}))
    other.test_client_class = FreshClient
    yield other
    with other.app_context():
        other.extensions["sqlalchemy"].session.remove()
        other.extensions["sqlalchemy"].engine.dispose()


def _signed_in(application, cookie: str) -> bool:
    """Replay a captured session cookie in a fresh browser against ``application``."""
    ctx = application.app_context() if application.name else contextlib.nullcontext()
    with ctx:
        browser = application.test_client()
        browser.set_cookie("session", cookie)
        return browser.get("/").status_code == 200


def _capture(client, email: str) -> str:
    assert form_login(client, email).status_code == 302
    return client.get_cookie("session").value


def test_cookie_dies_with_logout_on_every_worker(app, client, db, worker2):
    u = f.user(["coordinator"])
    db.session.commit()
    stolen = _capture(client, u.email)
    assert _signed_in(worker2, stolen) and _signed_in(app, stolen)
    assert client.post("/logout", data={"csrf_token": csrf_from(client, "/")}).status_code == 302
    assert not _signed_in(app, stolen)
    assert not _signed_in(worker2, stolen)
    assert form_login(client, u.email).status_code == 302  # a new login works


def test_cookie_dies_with_password_reset(app, client, db, worker2):
    u = f.user(["mentee"])
    db.session.commit()
    stolen = _capture(client, u.email)  # the session the owner forgets on a shared PC
    owner = app.test_client()
    owner.post("/reset", data={"email": u.email, "csrf_token": csrf_from(owner, "/reset")})
    db.session.expire_all()
    raw = db.session.scalar(select(OutboxMessage.raw).where(
        OutboxMessage.recipient == u.email, OutboxMessage.kind == "account"))
    body = message_from_bytes(raw, policy=policy.default).get_body(("plain",)).get_content()
    path = body[body.index("http://127.0.0.1/reset/") + len("http://127.0.0.1"):].split()[0]
    token = csrf_from(owner, path)
    resp = owner.post(path, data={"password": "kata-sandi-baru-1", "confirm": "kata-sandi-baru-1",
                                  "csrf_token": token})
    assert resp.status_code == 302
    assert not _signed_in(worker2, stolen)
    assert not _signed_in(app, stolen)


def test_cookie_dies_with_deactivation_and_role_removal(app, client, db, worker2):
    admin = f.user(["admin"])
    victim = f.user(["coordinator", "mentor"])
    other = f.user(["coordinator"])
    db.session.commit()
    victim_id, other_id, victim_email, other_email = victim.id, other.id, victim.email, other.email
    admin_email = admin.email
    stolen_victim = _capture(app.test_client(), victim_email)
    stolen_other = _capture(app.test_client(), other_email)
    assert _signed_in(worker2, stolen_victim) and _signed_in(worker2, stolen_other)

    form_login(client, admin_email)
    token = csrf_from(client, "/admin/users")
    resp = client.post(f"/admin/users/{victim_id}", data={"csrf_token": token,
                                                           "roles": ["mentor"], "active": "1"})
    assert resp.status_code == 302
    resp = client.post(f"/admin/users/{other_id}", data={"csrf_token": token,
                                                          "roles": ["coordinator"]})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, other_id).active is False
    assert {r.role for r in db.session.get(User, victim_id).role_rows} == {"mentor"}
    assert not _signed_in(worker2, stolen_victim)  # role removed
    assert not _signed_in(worker2, stolen_other)   # deactivated
    assert not _signed_in(app, stolen_other)
