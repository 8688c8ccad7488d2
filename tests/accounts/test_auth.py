"""Login, logout, CSRF, rate limiting, activation and password reset through HTTP."""

from __future__ import annotations

import re

from sqlalchemy import select

from mentormatch.models import OutboxMessage, User
from mentormatch.services import accounts
from mentormatch.settings import settings
from tests import factories as f
from tests.helpers import csrf_from, form_login


def test_login_logout(client, db):
    u = f.user(["coordinator"])
    db.session.commit()
    resp = form_login(client, u.email)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/")
    page = client.get("/").get_data(as_text=True)
    assert u.email in page
    token = csrf_from(client, "/")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302  # back to login


def test_wrong_password_rejected_in_indonesian(client, db):
    u = f.user(["coordinator"])
    db.session.commit()
    resp = form_login(client, u.email, "salah-salah-salah")
    assert resp.status_code == 200
    assert "salah" in resp.get_data(as_text=True).lower()
    assert client.get("/").status_code == 302  # still anonymous


def test_password_is_hashed(db):
    u = f.user(["mentor"])
    assert u.password_hash and f.PASSWORD not in u.password_hash
    assert u.password_hash.startswith(("scrypt:", "pbkdf2:"))


def test_csrf_required(client, db):
    u = f.user(["coordinator"])
    db.session.commit()
    resp = client.post("/login", data={"email": u.email, "password": f.PASSWORD})
    assert resp.status_code == 400
    assert "Traceback" not in resp.get_data(as_text=True)


def test_login_rate_limited(database_url, tmp_path):
    from mentormatch import create_app
    from tests.conftest import make_settings

    app = create_app(make_settings(database_url, app={"login_rate_limit": "10 per minute"}))
    app.instance_path = str(tmp_path)
    from mentormatch.extensions import db
    from tests.conftest import FreshClient

    app.test_client_class = FreshClient
    client = app.test_client()

    with app.app_context():
        db.create_all()
    token = csrf_from(client, "/login")
    codes = [client.post("/login", data={"email": "target@example.go.id", "password": "x" * 12,
                                         "csrf_token": token}).status_code for _ in range(12)]
    assert 429 in codes
    assert codes[:10] == [200] * 10
    with app.app_context():
        db.engine.dispose()


def test_activation_flow(app, client, db):
    with app.test_request_context(base_url="http://127.0.0.1"):
        u = accounts.create_user("baru@example.go.id", ["mentee"])
        accounts.send_activation(u)
    db.session.commit()
    assert not u.is_active
    mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == u.email))
    assert mail is not None and "Aktifkan" in mail.subject
    link = re.search(rb"http://127\.0\.0\.1(/activate/[^\s\"<]+)", mail.raw.replace(b"=\n", b""))
    path = link.group(1).decode()
    token = csrf_from(client, path)
    resp = client.post(path, data={"password": "kata-sandi-baru", "confirm": "kata-sandi-baru",
                                   "csrf_token": token})
    assert resp.status_code == 302
    assert form_login(client, "baru@example.go.id", "kata-sandi-baru").status_code == 302
    # the link works once
    client.post("/logout", data={"csrf_token": csrf_from(client, "/")})
    assert client.get(path).status_code == 302


def test_reset_does_not_reveal_accounts(client, db):
    token = csrf_from(client, "/reset")
    resp = client.post("/reset", data={"email": "nobody@example.go.id", "csrf_token": token})
    assert resp.status_code == 302
    assert db.session.scalar(select(OutboxMessage)) is None


def test_reset_flow(app, client, db):
    u = f.user(["mentor"], email="lupa@example.go.id")
    db.session.commit()
    token = csrf_from(client, "/reset")
    client.post("/reset", data={"email": "LUPA@example.go.id", "csrf_token": token})
    mail = db.session.scalar(select(OutboxMessage))
    assert mail is not None
    path = re.search(rb"(/reset/[^\s\"<]+)", mail.raw.replace(b"=\n", b"")).group(1).decode()
    token = csrf_from(client, path)
    client.post(path, data={"password": "yang-baru-123", "confirm": "yang-baru-123",
                            "csrf_token": token})
    db.session.expire_all()
    assert accounts.authenticate(u.email, "yang-baru-123") is not None
    assert accounts.authenticate(u.email, f.PASSWORD) is None


def test_bad_token_is_a_clear_message(client):
    resp = client.get("/activate/forged-token", follow_redirects=True)
    assert resp.status_code == 200
    assert "tidak valid" in resp.get_data(as_text=True)


def test_session_cookie_flags(app):
    prod = app.config.copy()
    assert prod["SESSION_COOKIE_HTTPONLY"] is True
    assert prod["SESSION_COOKIE_SAMESITE"] == "Lax"
    from mentormatch.config import load_typed

    assert load_typed(environ={}).app.session_cookie_secure is True


def test_inactive_user_cannot_log_in(client, db):
    u = f.user(["coordinator"])
    u.active = False
    db.session.commit()
    assert form_login(client, u.email).status_code == 200
    assert db.session.scalar(select(User).where(User.id == u.id)).last_login_at is None


def test_account_locks_after_repeated_failures_for_every_worker(app, client, db, database_url):
    """The failure counter lives in the database: wrong passwords spread over two workers
    (two app instances on one database) still lock the account; the right password is then
    refused too, with the same message as a wrong one; a reset unlocks it."""
    from mentormatch import create_app
    from tests.conftest import FreshClient, make_settings

    u = f.user(["coordinator"], email="target@example.go.id")
    db.session.commit()
    email = u.email  # read here: inside the other app, its engine would load it
    limit = settings().app.login_max_failures
    other = create_app(make_settings(database_url))
    other.test_client_class = FreshClient
    with other.app_context():
        worker2 = other.test_client()
        for _ in range(limit // 2):
            assert form_login(worker2, email, "salah-salah-salah").status_code == 200
        other_db = other.extensions["sqlalchemy"]
        other_db.session.remove()
        other_db.engine.dispose()
    for _ in range(limit - limit // 2):
        assert form_login(client, u.email, "salah-salah-salah").status_code == 200
    resp = form_login(client, u.email)  # the right password, but locked
    assert resp.status_code == 200 and "dikunci" in resp.get_data(as_text=True)
    db.session.expire_all()
    user = db.session.get(User, u.id)
    assert user.locked_until is not None
    with app.test_request_context(base_url="http://127.0.0.1"):
        token = accounts.make_token(user, "reset")
    accounts.complete_token(token, "reset", "kata-sandi-lain-9")
    db.session.commit()
    assert form_login(client, u.email, "kata-sandi-lain-9").status_code == 302


def test_client_address_from_proxy_only_when_configured(database_url, tmp_path):
    from flask import request

    from mentormatch import create_app
    from tests.conftest import make_settings

    for proxies, expected in ((0, "127.0.0.1"), (1, "203.0.113.7")):
        app = create_app(make_settings(database_url, app={"proxy_count": proxies}))
        seen: dict[str, str] = {}

        @app.get("/_addr")
        def _addr(seen=seen):
            seen["addr"] = request.remote_addr
            return "ok"

        _addr._access = "public"
        app.test_client().get("/_addr", headers={"X-Forwarded-For": "203.0.113.7"},
                              environ_base={"REMOTE_ADDR": "127.0.0.1"})
        assert seen["addr"] == expected
        with app.app_context():
            app.extensions["sqlalchemy"].engine.dispose()

