"""Nudges from the alert lists: real outbox rows, the real count (and what the daily dedupe
held back), the bulk path (the list is built once), the batch bound, deep links from
app.base_url, the recipient's language, the audit entry, and the invite chase."""

from __future__ import annotations

import email
from datetime import timedelta
from email import policy

import pytest
from sqlalchemy import select

from mentormatch.extensions import db
from mentormatch.models import Attendee, AuditLog, OutboxMessage
from mentormatch.services import nudges, reports
from tests import factories as f
from tests.helpers import recorded_statements, set_settings
from tests.reports.test_reports import NOW, world  # noqa: F401  (fixture)


@pytest.fixture
def coordinator(world):  # noqa: F811
    from mentormatch.models import ProgrammeCoordinator

    user = f.user(("coordinator",))
    db.session.add(ProgrammeCoordinator(programme_id=world["prog"].id, user_id=user.id))
    db.session.commit()
    return user


def outbox(kind=nudges.KIND):
    return db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)
                              .order_by(OutboxMessage.id)).all()


def parse(row: OutboxMessage):
    msg = email.message_from_bytes(row.raw, policy=policy.default)
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    return str(msg["Subject"]), text, html


def test_nudge_queues_reports_the_count_and_dedupes_per_day(world, coordinator):  # noqa: F811
    prog, m1 = world["prog"], world["m1"]
    result = nudges.nudge(prog, "over_capacity", actor=coordinator, now=NOW)
    assert (result.queued, result.already, result.remaining) == (1, 0, 0)
    (row,) = outbox()
    assert row.recipient == m1.email and row.status == "pending"
    assert row.dedupe_key == f"report-nudge:{prog.id}:over_capacity:{m1.id}:2026-05-01"

    again = nudges.nudge(prog, "over_capacity", actor=coordinator, now=NOW)
    assert (again.queued, again.already) == (0, 1)  # nothing new: said so, not "sent"
    assert len(outbox()) == 1
    tomorrow = nudges.nudge(prog, "over_capacity", actor=coordinator,
                            now=NOW + timedelta(days=1))
    assert tomorrow.queued == 1 and len(outbox()) == 2

    audits = db.session.scalars(select(AuditLog).where(AuditLog.action == "report.nudge")
                                .order_by(AuditLog.id)).all()
    assert len(audits) == 2  # the empty second click wrote nothing
    assert audits[0].actor_id == coordinator.id and audits[0].programme_id == prog.id
    assert audits[0].details["kind"] == "over_capacity"
    assert audits[0].details["queued"] == 1 and audits[0].details["recipients"] == [m1.id]


def test_nudge_someone_not_on_the_list_queues_nothing(world, coordinator):  # noqa: F811
    flt = reports.AlertFilter(person_ids=frozenset({world["e1"].id}))
    result = nudges.nudge(world["prog"], "over_capacity", actor=coordinator, flt=flt, now=NOW)
    assert (result.queued, result.already) == (0, 0) and outbox() == []


def test_behind_pace_mail_in_each_recipients_language_with_a_deep_link(world,  # noqa: F811
                                                                       coordinator):
    result = nudges.nudge(world["prog"], "behind_jp", actor=coordinator, now=NOW)
    assert result.queued == 2 and set(result.recipients) == {world["e1"].id, world["e2"].id}
    mails = {row.recipient: parse(row) for row in outbox()}

    subject, text, html = mails[world["e1"].email]  # e1 reads English
    assert subject == "Reminder: your mentoring JP in Mentoring 2026"
    assert "You have 2 JP credited so far" in text and "about 6.6 JP" in text
    link = f"http://127.0.0.1/pairs/{world['pa'].id}/logs/new"
    assert link in text and f'href="{link}"' in html

    subject, text, html = mails[world["e2"].email]  # e2 reads Indonesian (the default)
    assert subject == "Pengingat: JP mentoring Anda di Mentoring 2026"
    assert "Yth. Mentee Dua," in text and "0 JP" in text
    assert "6,6 JP" in text and "6.6" not in text  # Indonesian decimals for Indonesian readers
    assert f"http://127.0.0.1/pairs/{world['pb'].id}/logs/new" in text


def test_no_session_mail_goes_to_both_members_with_the_pair_link(world,  # noqa: F811
                                                                 coordinator):
    result = nudges.nudge(world["prog"], "no_session", actor=coordinator, days=30, now=NOW)
    assert result.queued == 4  # pa: m1, e1; pd: m2, e5
    recipients = {row.recipient for row in outbox()}
    assert recipients == {world[k].email for k in ("m1", "e1", "m2", "e5")}
    mails = {row.recipient: parse(row) for row in outbox()}
    _, text, _ = mails[world["e1"].email]
    assert "Your mentoring pair with Mentor Satu last held a session on 2026-03-01, 61 days ago." \
        in text
    assert f"http://127.0.0.1/pairs/{world['pa'].id}" in text
    _, text, _ = mails[world["m2"].email]
    assert "Mentee Lima" in text and "37 hari" in text

    # a unit filter narrows "everyone" to that unit's list
    flt = reports.AlertFilter(unit_id=world["m1"].unit_id)
    again = nudges.nudge(world["prog"], "no_session", actor=coordinator, days=30, now=NOW,
                         flt=flt)
    assert (again.queued, again.already) == (0, 2)


def test_unanswered_nudge_chases_the_invite_with_answer_links(world, coordinator):  # noqa: F811
    result = nudges.nudge(world["prog"], "unanswered", actor=coordinator, now=NOW)
    assert result.queued == 1
    (row,) = outbox()
    assert row.recipient == world["e2"].email
    _, text, html = parse(row)
    assert "http://127.0.0.1/rsvp/" in text and "http://127.0.0.1/rsvp/" in html
    att = db.session.scalar(select(Attendee).where(Attendee.person_id == world["e2"].id))
    assert att.chased_at is not None


def test_bulk_path_builds_the_list_once_and_is_bounded(world, coordinator, app):  # noqa: F811
    """Many behind-pace mentees: one alert query and one dedupe lookup per chunk, never a
    list per person; at most `nudge_limit` per click, the rest on the next click."""
    from datetime import date

    from mentormatch.models import Pair, Participant

    prog = world["prog"]
    m = f.person("Mentor Banyak", grade=15, unit_name="Dinas A")
    db.session.add(Participant(programme_id=prog.id, person_id=m.id, role="mentor",
                               capacity=20))
    for i in range(60):
        e = f.person(f"Mentee Massal {i:02d}", grade=4, unit_name="Dinas A")
        db.session.add(Participant(programme_id=prog.id, person_id=e.id, role="mentee"))
        db.session.add(Pair(programme_id=prog.id, mentor_id=m.id, mentee_id=e.id,
                            status="active"))
    db.session.commit()
    assert prog.start_date == date(2026, 1, 1)
    assert reports.alert_count(prog, "behind_jp", now=NOW) == 62

    set_settings(app, reports={"nudge_limit": 50})
    with recorded_statements() as statements:
        first = nudges.nudge(prog, "behind_jp", actor=coordinator, now=NOW)
    assert (first.queued, first.already, first.remaining) == (50, 0, 12)
    alert_queries = [s for s in statements if "session_log" in s]
    jp_reads = [s for s in alert_queries if "STRFTIME('%Y'" in s or "EXTRACT(year" in s]
    assert len(alert_queries) - len(jp_reads) == 1  # the list was built once for all 50
    assert len(jp_reads) <= 2  # + the programme's JP, read once (per side of a pair)
    second = nudges.nudge(prog, "behind_jp", actor=coordinator, now=NOW)
    assert (second.queued, second.already, second.remaining) == (12, 50, 0)
    assert len(outbox()) == 62
