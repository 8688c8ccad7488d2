"""E-mails of the week-to-week loop: queued once per action, to the right person, in their
language and time zone."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes
from email.policy import default as default_policy

from sqlalchemy import select

from mentormatch.extensions import db
from mentormatch.models import OutboxMessage, utcnow
from mentormatch.services import logbook
from mentormatch.services.logbook import LogInput
from tests import factories as f
from tests.helpers import csrf_from
from tests.logbook.test_logbook import make_pair, workday


def outbox(kind: str | None = None) -> list[OutboxMessage]:
    stmt = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        stmt = stmt.where(OutboxMessage.kind == kind)
    return list(db.session.scalars(stmt))


def body(msg: OutboxMessage) -> str:
    return message_from_bytes(msg.raw, policy=default_policy).get_body(("plain",)).get_content()


def _log(pair, **kw):
    base = {"held_on": utcnow().date() - timedelta(days=1), "duration_minutes": 90,
            "topics": "Rencana kerja"}
    return LogInput(**{**base, **kw})


def test_log_submitted_disputed_confirmed(app):
    pair = make_pair()
    pair.mentee.locale = "en"  # the mentee reads English, the mentor Indonesian
    log, _ = logbook.submit_log(pair, pair.mentee, _log(pair, token="t1"))
    logbook.submit_log(pair, pair.mentee, _log(pair, token="t1"))  # double submit
    [asked] = outbox("log_submitted")
    assert asked.recipient == pair.mentor.email
    assert asked.subject == f"Mohon konfirmasi catatan sesi {pair.mentee.name}"
    assert f"/logs/{log.id}" in body(asked) and "Rencana kerja" in body(asked)

    logbook.dispute_log(log, pair.mentor, "Durasinya 60 menit")
    logbook.dispute_log(log, pair.mentor, "Durasinya 60 menit")  # the same click twice
    [told] = outbox("log_disputed")
    assert told.recipient == pair.mentee.email and told.subject.startswith("Your mentor disputed")
    assert "Durasinya 60 menit" in body(told) and f"/logs/{log.id}/edit" in body(told)

    logbook.update_log(log, pair.mentee, _log(pair, duration_minutes=60))
    assert len(outbox("log_submitted")) == 2  # corrected: the mentor is asked again
    logbook.update_log(log, pair.mentee, _log(pair, duration_minutes=60))
    assert len(outbox("log_submitted")) == 2  # an edit of a pending log asks nobody

    logbook.confirm_log(log, pair.mentor)
    logbook.confirm_log(log, pair.mentor)
    [done] = outbox("log_confirmed")
    assert done.recipient == pair.mentee.email
    # per session minutes; JP only for totals (a 40-minute session is not "0 JP")
    assert done.subject == "Session confirmed: 60 minutes credited"
    assert "of 20 JP" in body(done) and "60 minutes are credited" in body(done)


def test_http_double_submit_sends_one_request(app, client):
    pair = make_pair()
    mentee = f.user(("mentee",), person_row=pair.mentee)
    db.session.commit()
    f.login(client, mentee)
    page = client.get(f"/pairs/{pair.id}/logs/new").get_data(as_text=True)
    token = page.split('name="submit_token" value="')[1].split('"')[0]
    form = {"held_on": (utcnow().date() - timedelta(days=1)).isoformat(),
            "duration_minutes": "45", "topics": "x", "submit_token": token,
            "csrf_token": csrf_from(client, f"/pairs/{pair.id}/logs/new")}
    for _ in range(3):
        client.post(f"/pairs/{pair.id}/logs/new", data=form)
    assert len(outbox("log_submitted")) == 1


def test_proposal_mail_in_mentees_zone_and_language(app):
    pair = make_pair(mentee_tz="Asia/Makassar")
    series = f.series(pair, workday(7, 9), count=2, is_holiday=lambda d: False)
    session = series.sessions[0]
    new = session.start_at + timedelta(hours=1)  # 10:00 WIB = 11:00 WITA
    logbook.propose_time(session, pair.mentor, new)
    logbook.propose_time(session, pair.mentor, new)  # double click
    [msg] = outbox("proposal_new")
    assert msg.recipient == pair.mentee.email
    assert msg.subject == f"{pair.mentor.name} mengusulkan waktu baru untuk sesi mentoring Anda"
    text = body(msg)
    assert "11:00 WITA" in text and "10:00 WITA" in text and "WIB" not in text
    assert "/mentee#proposals" in text

    before = len(outbox("itip_request"))
    logbook.answer_proposal(session, pair.mentee, accept=True)
    requests = outbox("itip_request")[before:]
    assert sorted(m.recipient for m in requests) == sorted([pair.mentor.email,
                                                             pair.mentee.email])
    assert session.start_at == new

    logbook.propose_time(session, pair.mentor, workday(14, 10))
    logbook.answer_proposal(session, pair.mentee, accept=False)
    [kept] = outbox("proposal_declined")
    assert kept.recipient == pair.mentor.email and "WIB" in body(kept)
    assert len(outbox("proposal_new")) == 2  # the second proposal was mailed too
