"""The invitation e-mails the service really queued, read by Mozilla ical.js (Thunderbird's
parser) and by icalendar: both must see every occurrence at the instant stored for it - a WIB
mentor with a WITA mentee, a mentor in a DST zone (timezone_override), a moved session and a
series cut (the pair ended) after it was held."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta

from cal_helpers import icalendar_view, icaljs, iso

from mentormatch.extensions import db
from mentormatch.services import invites
from tests import factories as f
from tests.sessions.test_invites import FIRST, make_pair, make_series, no_holiday, outbox


def _calendar_parts(row) -> tuple[bytes, bytes]:
    msg = email.message_from_bytes(row.raw, policy=email.policy.default)
    cal = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
    att = [p for p in msg.walk() if p.get_content_type() == "application/ics"]
    assert len(cal) == 1 and len(att) == 1
    return cal[0].get_payload(decode=True), att[0].get_payload(decode=True)


def _effective(view: list[dict]) -> list[str]:
    """Occurrence instants after applying RECURRENCE-ID overrides to the master."""
    moved = {e["recurrence_id"]: e["start"] for e in view if e["recurrence_id"]}
    master = [e for e in view if not e["recurrence_id"]]
    if not master:  # an occurrence-only REQUEST
        return sorted(moved.values())
    return sorted(moved.get(o, o) for e in master for o in e["occurrences"])


def _check(series, rows) -> None:
    want = sorted(iso(s.start_at) for s in series.sessions if s.status != "cancelled")
    assert rows
    for row in rows:
        ics, attachment = _calendar_parts(row)
        assert ics == attachment  # the inline part and the .ics attachment are one object
        js = icaljs(ics)
        assert js["method"] == "REQUEST" and series.tzid in js["timezones"]
        assert _effective(js["events"]) == want, row.recipient
        assert _effective(icalendar_view(ics)) == want, row.recipient


def test_wib_mentor_and_wita_mentee_invites(app):
    series = make_series(mentor_tz="Asia/Jakarta", mentee_tz="Asia/Makassar")
    rows = outbox("itip_request")
    assert {r.recipient for r in rows} == {a.email for a in series.attendees}
    _check(series, rows)
    # 09:00 WIB is 10:00 WITA: each person's mail shows their own hour
    texts = {r.recipient: email.message_from_bytes(r.raw, policy=email.policy.default)
             .get_body(("plain",)).get_content() for r in rows}
    assert "09:00 WIB" in texts[series.attendees[0].email]
    assert "10:00 WITA" in texts[series.attendees[1].email]


def test_mentor_studying_in_sydney_gets_the_right_hour_across_dst(app):
    pair = make_pair(mentor_tz="Asia/Jakarta", mentee_tz="Asia/Jakarta")
    pair.mentor.timezone_override = "Australia/Sydney"
    db.session.flush()
    series = f.series(pair, FIRST, interval_weeks=3, is_holiday=no_holiday)
    invites.send_invites(series)
    db.session.commit()
    assert series.tzid == "Australia/Sydney"
    # 13:00 in Sydney every time: AEDT (UTC+11) until 4 April 2027, then AEST (UTC+10)
    assert [s.start_at.hour for s in series.sessions] == [2, 2, 3]
    _check(series, outbox("itip_request"))


def test_moved_session_and_a_series_cut_after_it(app):
    series = make_series()
    s1 = series.sessions[1]
    invites.reschedule_session(s1, s1.start_at + timedelta(days=1, hours=2), actor=None,
                               now=FIRST - timedelta(days=7))
    db.session.commit()
    moved_one = [r for r in outbox("itip_request") if b"RECURRENCE-ID" in _calendar_parts(r)[0]]
    for row in moved_one:  # the occurrence REQUEST alone: its new start, in both parsers
        ics = _calendar_parts(row)[0]
        js = icaljs(ics)["events"]
        assert [e["start"] for e in js] == [iso(s1.start_at)]
        assert js[0]["recurrence_id"] == iso(s1.recurrence_id)
        assert [e["start"] for e in icalendar_view(ics)] == [iso(s1.start_at)]
    # the first two sessions are held (the moved one too), then the pair ends: the REQUEST
    # that cuts the series carries the master (RRULE up to the last held session) plus the
    # moved occurrence's override, same UID
    series.sessions[0].status = s1.status = "held"
    db.session.commit()
    before = len(outbox("itip_request"))
    invites.cancel_series(series, actor=None, now=s1.end_at + timedelta(hours=1))
    db.session.commit()
    rows = outbox("itip_request")[before:]
    assert len(rows) == 2 and all(b"RRULE" in _calendar_parts(r)[0] for r in rows)
    _check(series, rows)
    assert series.sessions[0].start_at == FIRST  # the held session did not move
    assert s1.start_at == datetime(2027, 3, 17, 4, 0, tzinfo=UTC)
