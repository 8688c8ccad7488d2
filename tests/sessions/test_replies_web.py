"""HTTP side: one-click RSVP (confirm page, then POST), in-app buttons for the series and for
one session, upload and JSON API (staff on behalf, participants only for themselves), the
calendar page with its feed token (created on the first visit, revocable), access."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from mentormatch.extensions import db
from mentormatch.models import AuditLog, InboundMessage, OccurrenceResponse, ProgrammeCoordinator
from mentormatch.services import invites
from mentormatch.web import calendar_views
from tests import factories as f
from tests.helpers import csrf_in
from tests.sessions.test_invites import make_series
from tests.sessions.test_replies import moved_by_the_pair, reply_mail


@pytest.fixture
def web(app, client):
    if "calendar" not in app.blueprints:  # the lead registers it in web/__init__.py
        app.register_blueprint(calendar_views.bp)
    return client


def _api_headers(web) -> dict[str, str]:
    """The API takes the CSRF token of a page in X-CSRFToken (tests/web/test_security_small)."""
    return {"X-CSRFToken": csrf_in(web.get("/calendar/reply").get_data(as_text=True))}


def _token(url: str) -> str:
    return url.rsplit("/rsvp/", 1)[1]


def test_one_click_link_needs_confirmation(web):
    series = make_series()
    mentor = series.attendees[0]
    links = invites.rsvp_links(series, mentor)
    page = web.get(f"/rsvp/{_token(links['accepted'])}")
    assert page.status_code == 200
    assert mentor.partstat == "NEEDS-ACTION"  # a scanner's GET changes nothing
    resp = web.post(f"/rsvp/{_token(links['accepted'])}",
                    data={"csrf_token": csrf_in(page.get_data(as_text=True))})
    assert resp.status_code == 200
    db.session.expire_all()
    assert mentor.partstat == "ACCEPTED" and series.pair.status == "active"


def test_tampered_or_foreign_link_is_refused(web):
    series = make_series()
    token = _token(invites.rsvp_links(series, series.attendees[0])["declined"])
    assert web.get(f"/rsvp/{token[:-2]}xx").status_code == 404
    assert web.get("/rsvp/garbage").status_code == 404


def test_stale_link_after_change_is_rejected(web):
    series = make_series()
    mentee = series.attendees[1]
    moving = series.sessions[1]
    token = _token(invites.rsvp_links(series, mentee, moving.recurrence_id)["declined"])
    moved_by_the_pair(moving)
    db.session.commit()
    page = web.get(f"/rsvp/{token}")
    resp = web.post(f"/rsvp/{token}", data={"csrf_token": csrf_in(page.get_data(as_text=True))})
    assert resp.status_code == 409
    assert "Balasan ini menjawab versi undangan yang lebih lama." in resp.get_data(as_text=True)
    db.session.expire_all()
    assert mentee.partstat == "NEEDS-ACTION"
    assert db.session.scalars(select(OccurrenceResponse)).all() == []  # nothing applied
    # the 409 rolls the request back; the answer's own record was committed before it
    rows = db.session.scalars(select(InboundMessage).where(InboundMessage.source == "link")).all()
    assert len(rows) == 1 and rows[0].outcome != "applied"
    assert rows[0].mailbox_ref.startswith("rsvp:")


def test_in_app_buttons_only_for_attendees(web):
    series = make_series()
    mentee_person = series.pair.mentee
    stranger = f.user(("mentee",), person_row=f.person("Orang Lain"))
    f.login(web, stranger)
    page = web.get("/calendar/feed")
    token = csrf_in(page.get_data(as_text=True))
    resp = web.post(f"/calendar/series/{series.id}/answer",
                    data={"partstat": "DECLINED", "csrf_token": token})
    assert resp.status_code == 404
    me = f.user(("mentee",), person_row=mentee_person)
    f.login(web, me)
    token = csrf_in(web.get("/calendar/feed").get_data(as_text=True))
    resp = web.post(f"/calendar/series/{series.id}/answer",
                    data={"partstat": "ACCEPTED", "csrf_token": token})
    assert resp.status_code == 302
    db.session.expire_all()
    assert series.attendees[1].partstat == "ACCEPTED"


def _coordinator(web, series):
    coord = f.user(("coordinator",), email="koord@example.go.id")
    db.session.add(ProgrammeCoordinator(programme_id=series.pair.programme_id, user_id=coord.id))
    db.session.commit()
    f.login(web, coord)
    return coord


def test_upload_form(web):
    series = make_series()
    _coordinator(web, series)
    page = web.get("/calendar/reply")
    raw = reply_mail(series, series.attendees[0].email, "ACCEPTED")
    resp = web.post("/calendar/reply", data={
        "csrf_token": csrf_in(page.get_data(as_text=True)),
        "file": (io.BytesIO(raw), "reply.eml")}, content_type="multipart/form-data")
    assert resp.status_code == 200 and "Diterapkan" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert series.pair.status == "active"
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "attendee.answer"))
    assert entry.details["on_behalf_of"] == series.pair.mentor_id  # staff, on behalf
    assert entry.actor_id is not None


def test_participants_may_upload_only_for_themselves(web):
    series = make_series()
    mentor_user = f.user(("mentor",), person_row=series.pair.mentor)
    f.login(web, mentor_user)
    page = web.get("/calendar/reply")
    for_mentee = reply_mail(series, series.attendees[1].email, "DECLINED")
    resp = web.post("/calendar/reply", data={
        "csrf_token": csrf_in(page.get_data(as_text=True)),
        "file": (io.BytesIO(for_mentee), "reply.eml")}, content_type="multipart/form-data")
    html = resp.get_data(as_text=True)
    assert "Anda hanya dapat menjawab untuk diri sendiri." in html
    own = reply_mail(series, series.attendees[0].email, "ACCEPTED")
    ok = web.post("/api/itip/reply", data=own, content_type="message/rfc822",
                  headers=_api_headers(web))
    assert ok.status_code == 200 and ok.json["outcome"] == "applied"
    db.session.expire_all()
    assert series.attendees[1].partstat == "NEEDS-ACTION"
    assert series.attendees[0].partstat == "ACCEPTED"
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "attendee.answer"))
    assert entry.details["on_behalf_of"] is None


def test_api_reply(web):
    series = make_series()
    raw = reply_mail(series, series.attendees[1].email, "TENTATIVE")
    anon = web.post("/api/itip/reply", data=raw, content_type="message/rfc822")
    assert anon.status_code == 401 and anon.json["error"] == "unauthenticated"
    _coordinator(web, series)
    headers = _api_headers(web)
    ok = web.post("/api/itip/reply", data=raw, content_type="message/rfc822", headers=headers)
    assert ok.status_code == 200 and ok.json["outcome"] == "applied"
    dup = web.post("/api/itip/reply", data=raw, content_type="message/rfc822", headers=headers)
    assert dup.json["outcome"] == "duplicate"
    bad = web.post("/api/itip/reply", data=b"nonsense", content_type="text/calendar",
                   headers=headers)
    assert bad.status_code == 422 and bad.json["error"] == "rejected"
    assert bad.json["reason_code"] == "malformed" and bad.json["message"]
    assert db.session.query(InboundMessage).count() == 3


def test_api_refuses_other_programmes_series(web):
    series = make_series()
    other = f.user(("coordinator",), email="lain@example.go.id")
    f.login(web, other)
    raw = reply_mail(series, series.attendees[0].email, "DECLINED")
    resp = web.post("/api/itip/reply", data=raw, content_type="message/rfc822",
                    headers=_api_headers(web))
    assert resp.status_code == 404
    db.session.expire_all()
    assert series.pair.status == "invited"


def test_calendar_page_creates_feed_token_and_answers_one_session(web):
    series = make_series()
    mentee = series.pair.mentee
    assert mentee.feed_token is None
    me = f.user(("mentee",), person_row=mentee)
    f.login(web, me)
    page = web.get("/calendar/feed")
    html = page.get_data(as_text=True)
    db.session.expire_all()
    assert mentee.feed_token is None and 'id="create-feed"' in html  # a GET writes nothing
    resp = web.post("/calendar/feed/rotate", data={"csrf_token": csrf_in(html)})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/calendar/feed")
    html = web.get("/calendar/feed").get_data(as_text=True)
    db.session.expire_all()
    assert mentee.feed_token and f"/feed/{mentee.feed_token}.ics" in html  # the button
    # this mentee reads English (make_pair): the page follows the person's language
    assert "I cannot attend" in html and f'id="series-{series.id}"' in html
    s1 = series.sessions[1]
    resp = web.post(f"/calendar/series/{series.id}/answer", data={
        "csrf_token": csrf_in(html), "partstat": "DECLINED",
        "recurrence_id": s1.recurrence_id.isoformat(), "next": "/calendar/feed"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/calendar/feed")
    db.session.expire_all()
    occ = db.session.scalars(select(OccurrenceResponse)).one()
    assert occ.recurrence_id == s1.recurrence_id and occ.partstat == "DECLINED"
    assert series.attendees[1].partstat == "NEEDS-ACTION"  # the series answer is untouched
    again = web.get("/calendar/feed").get_data(as_text=True)
    row = again.split(f'id="session-{s1.id}"')[1].split("</tr>")[0]
    assert "Declined" in row
    # the token stays the same on later visits
    db.session.expire_all()
    token = mentee.feed_token
    web.get("/calendar/feed")
    db.session.expire_all()
    assert mentee.feed_token == token
    # an open redirect through "next" is not possible
    resp = web.post(f"/calendar/series/{series.id}/answer", data={
        "csrf_token": csrf_in(again), "partstat": "ACCEPTED", "next": "//evil.example/"})
    assert resp.headers["Location"].endswith("/calendar/feed")


def test_feed_token_rotation_revokes(web):
    series = make_series()
    me = f.user(("mentor",), person_row=series.pair.mentor)
    f.login(web, me)
    page = web.get("/calendar/feed")
    web.post("/calendar/feed/rotate", data={"csrf_token": csrf_in(page.get_data(as_text=True))})
    db.session.expire_all()
    old = series.pair.mentor.feed_token
    assert old
    web.get("/auth/logout")
    feed = web.get(f"/feed/{old}.ics")
    assert feed.status_code == 200 and series.uid.encode() in feed.data
    assert feed.headers["Content-Type"].startswith("text/calendar")
    f.login(web, me)
    page = web.get("/calendar/feed")
    web.post("/calendar/feed/rotate", data={"csrf_token": csrf_in(page.get_data(as_text=True))})
    db.session.expire_all()
    assert series.pair.mentor.feed_token != old
    assert web.get(f"/feed/{old}.ics").status_code == 404
    assert web.get("/feed/not-a-real-token-at-all-x.ics").status_code == 404
