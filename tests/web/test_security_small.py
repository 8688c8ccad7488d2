"""Smaller hardening, tried through HTTP and the CLI: odd URLs, caching of personal pages,
/healthz details, feed TTL, single addresses in invites, control characters in names, long
reply UIDs, unsafe production settings, the demo's request log."""

from __future__ import annotations

import contextlib
import logging
import threading
import urllib.request
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from werkzeug.serving import make_server

from mentormatch.access_log import _werkzeug_handler
from mentormatch.cli import main as cli
from mentormatch.models import InboundMessage, User
from mentormatch.services import programmes
from mentormatch.services.replies import apply_reply
from mentormatch.settings import settings
from tests import factories as f
from tests.helpers import csrf_from


def test_huge_ids_and_odd_methods_are_404_405(client, db):
    u = f.user(["coordinator"])
    db.session.commit()
    f.login(client, u)
    for path in ("/pairs/99999999999999999999", "/programmes/99999999999999999999/edit",
                 "/pairs/2147483648"):
        assert client.get(path).status_code == 404, path
    assert client.open("/", method="PROPFIND").status_code == 405
    assert client.delete("/login").status_code == 405
    assert client.put("/logout").status_code == 405


def test_personal_pages_are_not_cached(client, db):
    assert client.get("/reset/some-token").headers.get("Cache-Control") == "no-store"
    u = f.user(["coordinator"])
    db.session.commit()
    f.login(client, u)
    assert client.get("/").headers["Cache-Control"] == "no-store"
    static = client.get("/static/app.css")
    assert "no-store" not in static.headers.get("Cache-Control", "")
    static.close()


def test_healthz_details_only_for_loopback_or_admin(client, db):
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    body = client.get("/healthz", environ_base=outside).get_json()
    assert body == {"status": "ok"}
    assert "scheduler" in client.get("/healthz").get_json()  # the machine itself
    admin = f.user(["admin"])
    db.session.commit()
    f.login(client, admin)
    assert "outbox" in client.get("/healthz", environ_base=outside).get_json()


def test_feed_ttl_is_a_duration(client, db):
    p = f.person(feed_token="t" * 40)
    db.session.commit()
    body = client.get(f"/feed/{p.feed_token}.ics").get_data(as_text=True)
    assert "X-PUBLISHED-TTL:PT1H" in body


@pytest.mark.parametrize("address", [
    "a@example.go.id, b@evil.example", "a@example.go.id\r\nBcc: b@evil.example",
    "<img src=x onerror=alert(1)>@example.go.id", "a@example.go.id;b@evil.example",
])
def test_invite_takes_one_address_and_escapes_the_message(client, db, address):
    admin = f.user(["admin"])
    db.session.commit()
    f.login(client, admin)
    token = csrf_from(client, "/admin/users")
    resp = client.post("/admin/users", data={"csrf_token": token, "email": address,
                                             "roles": ["mentee"]}, follow_redirects=True)
    page = resp.get_data(as_text=True)
    assert "<img src=x" not in page
    assert "satu alamat e-mail" in page
    db.session.expire_all()
    assert db.session.scalar(select(User).where(User.email.contains("evil"))) is None
    assert db.session.scalar(select(User).where(User.email.contains("img"))) is None


def test_flash_with_markup_in_an_accepted_address_is_escaped(client, db):
    admin = f.user(["admin"])
    db.session.commit()
    f.login(client, admin)
    token = csrf_from(client, "/admin/users")
    resp = client.post("/admin/users", data={"csrf_token": token, "roles": ["mentee"],
                                             "email": "o'neil&x@example.go.id"},
                       follow_redirects=True)
    page = resp.get_data(as_text=True)
    assert "o&#39;neil&amp;x@example.go.id" in page


def test_names_refuse_line_breaks(app, db):
    admin = f.user(["coordinator"])
    with pytest.raises(programmes.ProgrammeError):
        programmes.create(admin, name="Mentoring\r\nBcc: x@evil.example",
                          start_date=date(2027, 1, 4), end_date=date(2027, 6, 30))


def test_reply_with_a_huge_uid_is_refused_cleanly(app, db):
    ics = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//y//EN\r\nMETHOD:REPLY\r\n"
           "BEGIN:VEVENT\r\nUID:" + "u" * 400 + "\r\nDTSTAMP:20270101T000000Z\r\n"
           "ATTENDEE;PARTSTAT=ACCEPTED:mailto:a@example.go.id\r\nEND:VEVENT\r\n"
           "END:VCALENDAR\r\n").encode()
    row = apply_reply(ics, source="upload")
    db.session.commit()
    assert row.outcome == "rejected" and row.reason_code == "unknown_uid"
    assert len(db.session.scalars(select(InboundMessage)).one().uid) <= 255


def test_serve_and_scheduler_refuse_unsafe_settings(monkeypatch):
    monkeypatch.setenv("MENTORMATCH_APP__RATELIMIT_STORAGE_URI", "memory://")
    result = CliRunner().invoke(cli, ["serve", "--workers", "3"])
    assert result.exit_code != 0 and "ratelimit_storage_uri" in result.output
    monkeypatch.setenv("MENTORMATCH_MAIL__TRANSPORT", "smtp")
    result = CliRunner().invoke(cli, ["scheduler"])
    assert result.exit_code != 0 and "mentormatch@localhost" in result.output


def test_demo_request_log_redacts_tokens(app, caplog):
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_werkzeug_handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            for path in ("/reset/SeCrEt-Reset.abc", "/feed/SeCrEtFeed.ics"):
                with contextlib.suppress(OSError):  # a 404 is fine: only the log line matters
                    urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}{path}",
                                           timeout=5).close()
    finally:
        server.shutdown()
        thread.join(timeout=10)
    assert "/reset/[redacted]" in caplog.text and "SeCrEt" not in caplog.text


def test_api_reply_needs_csrf_token_and_refuses_foreign_origin(client, db):
    from tests.sessions.test_invites import make_series
    from tests.sessions.test_replies import reply_mail

    series = make_series()
    mentor_user = f.user(("mentor",), person_row=series.pair.mentor)
    db.session.commit()
    f.login(client, mentor_user)
    raw = reply_mail(series, series.attendees[0].email, "ACCEPTED")
    # what a page on another site can send with the user's cookie
    forged = client.post("/api/itip/reply", data=raw, content_type="text/plain",
                         headers={"Origin": "https://evil.example"})
    assert forged.status_code == 403 and forged.json["error"] == "origin"
    no_token = client.post("/api/itip/reply", data=raw, content_type="message/rfc822")
    assert no_token.status_code == 403 and no_token.json["error"] == "csrf"
    db.session.expire_all()
    assert series.attendees[0].partstat == "NEEDS-ACTION"
    token = csrf_from(client, "/calendar/reply")
    ok = client.post("/api/itip/reply", data=raw, content_type="message/rfc822",
                     headers={"X-CSRFToken": token, "Origin": "http://127.0.0.1"})
    assert ok.status_code == 200 and ok.json["outcome"] == "applied"


def test_reset_answers_as_slowly_for_unknown_addresses(client, db):
    import time

    u = f.user(["mentee"])
    db.session.commit()
    token = csrf_from(client, "/reset")
    took = {}
    for who in (u.email, "tidak.ada@example.go.id"):
        started = time.monotonic()
        assert client.post("/reset", data={"email": who, "csrf_token": token}).status_code == 302
        took[who] = time.monotonic() - started
    assert min(took.values()) >= 0.5, took  # both padded to the same floor


def test_rsvp_link_is_single_use(client, db):
    from tests.sessions.test_invites import make_series

    series = make_series()
    mentor = series.attendees[0]
    from mentormatch.services import invites

    link = invites.rsvp_links(series, mentor)["declined"]
    path = link[len("http://127.0.0.1"):]
    assert client.get(path).status_code == 200  # asks first
    token = csrf_from(client, path)
    assert client.post(path, data={"csrf_token": token}).status_code == 200
    db.session.expire_all()
    assert series.pair.status == "declined"
    again = client.post(path, data={"csrf_token": token})
    assert again.status_code == 410 and "sudah digunakan" in again.get_data(as_text=True)


def test_lockout_storm_does_not_lock_out_a_known_browser(app, client, db):
    from tests.helpers import form_login

    u = f.user(["coordinator"], email="pemilik@example.go.id")
    db.session.commit()
    assert form_login(client, u.email).status_code == 302  # the owner's browser, before
    client.post("/logout", data={"csrf_token": csrf_from(client, "/")})
    attacker = app.test_client()
    for _ in range(settings(app).app.login_max_failures + 2):
        form_login(attacker, u.email, "salah-salah-salah")
    db.session.expire_all()
    assert db.session.get(User, u.id).locked_until is not None
    assert form_login(attacker, u.email).status_code == 200  # still locked for others
    assert form_login(client, u.email).status_code == 302   # the owner gets in


def test_mentor_and_mentee_do_not_see_each_others_nip(client, db):
    from tests.sessions.test_invites import make_series

    series = make_series()
    pair = series.pair
    mentee_user = f.user(("mentee",), person_row=pair.mentee)
    coord = f.user(["coordinator"])
    db.session.commit()
    f.login(client, mentee_user)
    page = client.get(f"/people/{pair.mentor_id}")
    assert page.status_code == 200 and pair.mentor.name in page.get_data(as_text=True)
    assert pair.mentor.nip not in page.get_data(as_text=True)
    assert pair.mentee.nip in client.get(f"/people/{pair.mentee_id}").get_data(as_text=True)
    f.login(client, coord)
    assert pair.mentor.nip in client.get(f"/people/{pair.mentor_id}").get_data(as_text=True)
