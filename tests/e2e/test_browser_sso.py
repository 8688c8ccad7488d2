"""Single sign-on end to end: the certified `oidc-provider` package run by node on loopback,
the app's Authlib client, real Chromium. First login links by NIP (roles only from a mapped
group), RP-initiated logout ends the provider session, tokens with a wrong audience, issuer,
nonce or signature or an expired one are refused, and a provider that is down gives a clear
page while the administrators' break-glass password login keeps working."""

from __future__ import annotations

import json
import subprocess
import threading
from pathlib import Path

import pytest
import requests
from sqlalchemy import select
from werkzeug.serving import make_server

from mentormatch import create_app
from mentormatch.extensions import db
from mentormatch.models import SsoGroupRole, SsoIdentity, User
from tests import factories as f
from tests.conftest import make_settings

pytestmark = pytest.mark.browser

JS = Path(__file__).resolve().parents[1] / "js"
NIP_SITI = "198503122010012001"


class _Holder:
    """A WSGI app whose target is set after the socket is bound (the provider needs the
    app's port for its redirect URIs, the app needs the provider's issuer)."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


def _serve(holder):
    server = make_server("127.0.0.1", 0, holder, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread, f"http://127.0.0.1:{server.server_port}"


def _app(tmp_path, base: str, issuer: str):
    app = create_app(make_settings(
        f"sqlite:///{tmp_path / 'sso.db'}",
        app={"base_url": base},
        sso={"issuer": issuer, "client_id": "mentormatch", "client_secret": "s3cret-for-tests",
             "password_login": False, "leeway_seconds": 60,
             "scope": "openid email profile nip groups"}))
    app.instance_path = str(tmp_path / "instance")
    with app.app_context():
        from mentormatch.services.catalogue import sync_competencies

        db.create_all()
        sync_competencies()
        f.person("Siti Rahma", nip=NIP_SITI, email="siti.rahma@bkpsdm.example.go.id")
        f.person("Budi Santoso", email="budi@bkpsdm.example.go.id")
        f.user(("admin",), email="admin@bkpsdm.example.go.id")
        f.user(("mentee",), email="biasa@bkpsdm.example.go.id")
        db.session.add(SsoGroupRole(group_name="mm-coordinators", role="coordinator"))
        db.session.commit()
        db.session.remove()
    return app


@pytest.fixture(scope="module")
def sso_world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sso")
    holder = _Holder()
    server, thread, base = _serve(holder)
    config = {
        "client_id": "mentormatch", "client_secret": "s3cret-for-tests",
        "redirect_uris": [f"{base}/login/sso/callback"],
        "post_logout_redirect_uris": [f"{base}/login"],
        "accounts": {
            # the provider's e-mail differs from the imported one: the NIP links them
            "siti": {"email": "siti@bkpsdm.example.go.id", "email_verified": True,
                     "nip": NIP_SITI, "groups": ["mm-coordinators", "staff"]},
            "budi": {"email": "budi@bkpsdm.example.go.id", "email_verified": True,
                     "groups": ["staff"]},
            "tamu": {"email": "tamu@bkpsdm.example.go.id", "email_verified": True},
            "palsu": {"email": "budi@bkpsdm.example.go.id", "email_verified": False},
        },
    }
    cfg = tmp / "provider.json"
    cfg.write_text(json.dumps(config))
    proc = subprocess.Popen(["node", str(JS / "oidc_provider.mjs"), str(cfg)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline()  # "ready <issuer>" (bounded by the test timeout)
        assert line.startswith("ready "), line
        issuer = line.split()[1]
        holder.app = _app(tmp, base, issuer)
        yield holder.app, base, issuer
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()
        server.shutdown()
        thread.join(timeout=10)


def _provider_login(page, login: str) -> None:
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", "any-password")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    if page.locator("button:has-text('Continue')").count():
        page.click("button:has-text('Continue')")  # the consent prompt
        page.wait_for_load_state()


def _sso(page, base: str, login: str) -> None:
    page.goto(f"{base}/login")
    page.click("#sso-login")
    page.wait_for_selector("input[name=login]")
    _provider_login(page, login)


def _mode(issuer: str, mode: str) -> None:
    requests.post(f"{issuer}/__mode", params={"m": mode}, timeout=10).raise_for_status()


def test_first_login_links_by_nip_roles_from_mapped_groups_and_logout(sso_world, browser):
    app, base, issuer = sso_world
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    _sso(page, base, "siti")
    page.wait_for_url(f"{base}/")
    assert page.locator("#logout").is_visible()
    with app.app_context():
        ident = db.session.scalar(select(SsoIdentity).where(SsoIdentity.subject == "siti"))
        user = db.session.get(User, ident.user_id)
        assert ident.linked_by == "nip" and ident.issuer == issuer
        assert user.person.nip == NIP_SITI and user.email == "siti.rahma@bkpsdm.example.go.id"
        assert user.roles == {"coordinator"}  # from the mapped group only ("staff" maps none)
    # logout ends the provider session too (RP-initiated logout)
    page.click("#logout")
    page.wait_for_url(f"{issuer}/**")
    page.click("button:has-text('Yes, sign me out')")
    page.wait_for_url(f"{base}/login**")
    page.click("#sso-login")
    page.wait_for_selector("input[name=login]")  # the provider asks again: its session ended
    # verified e-mail links a person without NIP claim; they get no role from the provider
    _provider_login(page, "budi")
    page.wait_for_url(f"{base}/")
    with app.app_context():
        ident = db.session.scalar(select(SsoIdentity).where(SsoIdentity.subject == "budi"))
        assert ident.linked_by == "email"
        assert db.session.get(User, ident.user_id).roles == set()
    context.close()


@pytest.mark.parametrize("who, mode, reason", [
    ("budi", "aud", "aud"), ("budi", "iss", "iss"), ("budi", "exp", "exp"),
    ("budi", "sig", "signature"), ("budi", "nonce", "nonce"),
    ("tamu", "", "no_match"), ("palsu", "", "no_match"),
])
def test_refused_sign_ins(sso_world, browser, who, mode, reason):
    app, base, issuer = sso_world
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    _mode(issuer, mode)
    try:
        _sso(page, base, who)
        heading = page.locator("#sso-refused")
        heading.wait_for()
        assert heading.get_attribute("data-reason") == reason
        page.goto(f"{base}/")
        assert "/login" in page.url  # not signed in
    finally:
        _mode(issuer, "")
        context.close()


def test_password_login_off_but_admin_break_glass(sso_world, browser):
    app, base, _issuer = sso_world
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/login")
    page.click("summary")
    page.fill("input[name=email]", "biasa@bkpsdm.example.go.id")
    page.fill("input[name=password]", f.PASSWORD)
    page.click("#login")
    assert "/login" in page.url and page.locator(".flash, [role=alert], .error").count()
    page.click("summary")
    page.fill("input[name=email]", "admin@bkpsdm.example.go.id")
    page.fill("input[name=password]", f.PASSWORD)
    page.click("#login")
    page.wait_for_url(f"{base}/")
    context.close()


def test_provider_down_clear_page_and_break_glass(tmp_path, browser):
    holder = _Holder()
    server, thread, base = _serve(holder)
    import socket

    with socket.socket() as s:  # a port where nothing listens
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    holder.app = _app(tmp_path, base, dead)
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(f"{base}/login")
        resp = page.goto(f"{base}/login/sso")
        assert resp.status == 503
        assert page.locator("#sso-unavailable").is_visible()
        page.click("#local-login")
        page.click("summary")
        page.fill("input[name=email]", "admin@bkpsdm.example.go.id")
        page.fill("input[name=password]", f.PASSWORD)
        page.click("#login")
        page.wait_for_url(f"{base}/")
        assert page.locator("#logout").is_visible()
    finally:
        context.close()
        server.shutdown()
        thread.join(timeout=10)
