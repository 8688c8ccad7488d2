"""The invitations a round's approval queues (all pairs at once), read by Mozilla ical.js and
by icalendar: every occurrence at the instant stored for it - WIB, WITA and WIT people, and a
mentor in a DST zone (timezone_override) whose series is written in Australia/Sydney."""

from __future__ import annotations

import email
import email.policy

from cal_helpers import icalendar_view, icaljs, iso
from sqlalchemy import select

from mentormatch.extensions import db
from mentormatch.models import OutboxMessage, Person, SessionSeries
from mentormatch.services import rounds
from tests.rounds.test_rounds_publish import TODAY, big_round


def _calendar(row: OutboxMessage) -> bytes:
    msg = email.message_from_bytes(row.raw, policy=email.policy.default)
    cal = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
    att = [p for p in msg.walk() if p.get_content_type() == "application/ics"]
    assert len(cal) == 1 and len(att) == 1
    ics = cal[0].get_payload(decode=True)
    assert ics == att[0].get_payload(decode=True)
    return ics


def _occurrences(view: list[dict]) -> list[str]:
    (master,) = view
    return sorted(master["occurrences"])


def test_approved_round_invites_read_by_icaljs(app):
    rnd, coord = big_round(9)
    abroad = db.session.get(Person, rnd.proposals[0].mentor_id)
    abroad.timezone_override = "Australia/Sydney"
    db.session.commit()
    rounds.approve(rnd, coord, today=TODAY)
    db.session.commit()
    zones = set()
    for series in db.session.scalars(select(SessionSeries)):
        want = sorted(iso(s.start_at) for s in series.sessions)
        rows = list(db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.dedupe_key.like(f"invite:{series.uid}:%"))))
        assert {r.recipient for r in rows} == {a.email for a in series.attendees}
        (ics,) = {_calendar(r) for r in rows}  # one calendar object for both people
        js = icaljs(ics)
        assert js["method"] == "REQUEST" and series.tzid in js["timezones"]
        assert _occurrences(js["events"]) == want
        assert _occurrences(icalendar_view(ics)) == want
        zones.add(series.tzid)
    assert zones == {"Australia/Sydney", "Asia/Makassar", "Asia/Jayapura"}
