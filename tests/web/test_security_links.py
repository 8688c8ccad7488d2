"""Links come from base_url only, requests for foreign hosts are refused, and every `next`
redirect stays on this site: tried through HTTP as an attacker would."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from urllib.parse import unquote, urljoin, urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from mentormatch import create_app
from mentormatch.models import OutboxMessage
from mentormatch.urls import safe_next
from tests import factories as f
from tests.conftest import FreshClient, make_settings
from tests.helpers import csrf_from

LINK = re.compile(r"https?://[^\s\"'<>]+/reset/[^\s\"'<>]+")


def _reset_links(db, email: str) -> list[str]:
    db.session.expire_all()
    rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == email))
    bodies = [message_from_bytes(row.raw, policy=policy.default).get_body(("plain",))
              .get_content() for row in rows]
    return [m for body in bodies for m in LINK.findall(body)]


def test_reset_with_forged_host_is_refused_and_link_uses_base_url(client, db):
    u = f.user(["mentee"], email="korban@example.go.id")
    db.session.commit()
    token = csrf_from(client, "/reset")
    forged = client.post("/reset", data={"email": u.email, "csrf_token": token},
                         headers={"Host": "evil.example"})
    assert forged.status_code == 400
    assert _reset_links(db, u.email) == []
    # a trusted extra name (the test client's "localhost") is served, but the mailed link
    # still comes from base_url (http://127.0.0.1), not from the request's host
    resp = client.post("/reset", data={"email": u.email, "csrf_token": token})
    assert resp.status_code == 302
    links = _reset_links(db, u.email)
    assert links and all(link.startswith("http://127.0.0.1/reset/") for link in links), links


def test_forwarded_host_behind_proxy_is_refused(database_url, tmp_path, db):
    app = create_app(make_settings(database_url, app={"proxy_count": 1}))
    app.instance_path = str(tmp_path)
    app.test_client_class = FreshClient
    other = app.test_client()
    u = f.user(["mentee"], email="korban2@example.go.id")
    db.session.commit()
    token = csrf_from(other, "/reset")
    resp = other.post("/reset", data={"email": u.email, "csrf_token": token},
                      headers={"X-Forwarded-Host": "evil.example", "X-Forwarded-For": "1.2.3.4"})
    assert resp.status_code == 400
    assert _reset_links(db, u.email) == []
    with app.app_context():
        app.extensions["sqlalchemy"].engine.dispose()


def test_activation_link_without_any_request_uses_base_url(app, db):
    from mentormatch.services import accounts

    u = accounts.create_user("baru.sekali@example.go.id", ["mentee"])
    accounts.send_activation(u)  # no request context at all: as from a CLI or a job
    db.session.commit()
    raw = db.session.scalar(select(OutboxMessage.raw).where(OutboxMessage.recipient == u.email))
    body = message_from_bytes(raw, policy=policy.default).get_body(("plain",)).get_content()
    assert "http://127.0.0.1/activate/" in body


# --------------------------------------------------------------------------- redirects

ATTACKS = [
    "//evil.example", "///evil.example", "/\\evil.example", "\\\\evil.example",
    "/\tevil.example", "/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example",
    "/%09/evil.example", "/%2F/evil.example", "/%5Cevil.example", "%2F%2Fevil.example",
    "/%252F/evil.example", "https://evil.example/", "http:evil.example", "javascript:alert(1)",
    " //evil.example", "/\x00/evil.example", "/ /\\evil.example",
]


def _browser_target(location: str, base: str = "https://site.example/a/b") -> str:
    """The host a browser would go to for this Location, leniently modelled on the WHATWG
    URL parser: C0 controls and spaces trimmed, tab/CR/LF removed, backslash read as slash."""
    value = location.strip("".join(chr(c) for c in range(0x21)))
    value = re.sub(r"[\t\r\n]", "", value).replace("\\", "/")
    return urlsplit(urljoin(base, value)).netloc


TOKENS = list("/\\\t\n\r %.:@ex?#&=") + ["\x00", "\x0b", "%2f", "%2F", "%5c", "%5C", "%09",
                                          "%0a", "%25", "%252f", "evil.example", "http:"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=10).map("".join))
def test_no_accepted_next_leaves_the_site(value):
    accepted = safe_next(value, "/home")
    for _level in range(4):  # also as read after each round of percent-decoding
        assert _browser_target(accepted) == "site.example", (value, accepted)
        accepted = unquote(accepted)


@given(st.from_regex(r"/[a-z0-9_\-/]{0,20}(\?[a-z]=[a-z0-9]{0,5})?", fullmatch=True))
def test_ordinary_paths_are_kept(value):
    if "//" not in value:
        assert safe_next(value, "/home") == value


def test_login_next_never_leaves_the_site(client, db):
    u = f.user(["coordinator"])
    db.session.commit()
    for target in ("//evil.example", "/\\evil.example", "/\t/evil.example",
                   "/%2F/evil.example", "/\r\n/evil.example"):
        token = csrf_from(client, "/login")
        resp = client.post("/login", query_string={"next": target},
                           data={"email": u.email, "password": f.PASSWORD, "csrf_token": token})
        assert resp.status_code == 302
        assert _browser_target(resp.headers["Location"]) == "site.example", target
        client.post("/logout", data={"csrf_token": token})


def test_language_switch_and_login_keep_local_next(client, db):
    u = f.user(["coordinator"])
    db.session.commit()
    token = csrf_from(client, "/login")
    resp = client.post("/login", query_string={"next": "/people?q=a"},
                       data={"email": u.email, "password": f.PASSWORD, "csrf_token": token})
    assert resp.headers["Location"] == "/people?q=a"
    token = csrf_from(client, "/")
    for target in ATTACKS:
        resp = client.post("/language", data={"locale": "en", "next": target,
                                              "csrf_token": token})
        assert resp.status_code == 302
        assert _browser_target(resp.headers["Location"]) == "site.example", target
    resp = client.post("/language", data={"locale": "id", "next": "/calendar/feed",
                                          "csrf_token": token})
    assert resp.headers["Location"] == "/calendar/feed"
