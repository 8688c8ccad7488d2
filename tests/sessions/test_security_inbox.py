"""Replies read from a real IMAP mailbox are neither lost nor a flood: a big signature image
does not get an Outlook acceptance refused, 300 copies of one decline give one notice, a
refused COUNTER gets an answer back, and coordinators see what was refused."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import select

from mentormatch.extensions import db
from mentormatch.jobs import tasks
from mentormatch.models import InboundMessage
from tests import factories as f
from tests.helpers import set_settings
from tests.sessions.test_invites import make_series, outbox
from tests.sessions.test_replies import _coordinator, counter_ics, reply_ics
from tests.sessions.test_scheduler import _inbox

MX = "mx.bkpsdm.go.id"


def _mail(ics: bytes, sender: str, method: str = "REPLY", image: bytes = b"") -> bytes:
    msg = EmailMessage()
    msg["Authentication-Results"] = f"{MX}; dkim=pass header.d={sender.rpartition('@')[2]}"
    msg["From"] = sender
    msg["To"] = "mentoring@example.go.id"
    msg["Subject"] = "Accepted: Mentoring"
    msg.set_content("Terima kasih")
    msg.add_alternative(ics, maintype="text", subtype="calendar",
                        params={"method": method, "charset": "UTF-8"})
    if image:
        msg.add_attachment(image, maintype="image", subtype="png", filename="image001.png")
    return msg.as_bytes()


def test_outlook_acceptance_with_a_big_signature_image(app, imap_server, imap_account):
    set_settings(app, inbox={"authserv_id": MX})
    series = make_series()
    mentor = series.attendees[0]
    raw = _mail(reply_ics(series, mentor.email, "ACCEPTED"), mentor.email,
                image=os.urandom(1_200_000))
    assert len(raw) > 1_500_000
    imap_server.deliver(imap_account.user, raw)
    assert tasks.poll_inbox(inbox=_inbox(imap_account)) == 1
    db.session.expire_all()
    row = db.session.scalars(select(InboundMessage)).one()
    assert row.outcome == "applied", row.reason
    assert series.pair.status == "active"


def test_three_hundred_copies_of_one_decline_give_one_notice(app, imap_server, imap_account):
    set_settings(app, inbox={"authserv_id": MX})
    series = make_series()
    mentee = series.attendees[1]
    rid = series.sessions[1].recurrence_id
    stamp = datetime.now(UTC).replace(microsecond=0)
    one = reply_ics(series, mentee.email, "DECLINED", recurrence_id=rid, dtstamp=stamp)
    block = re.search(rb"BEGIN:VEVENT.*?END:VEVENT\r\n", one, re.S).group(0)
    copies = [re.sub(rb"DTSTAMP:[0-9TZ]+", (stamp + timedelta(seconds=i))
                     .strftime("DTSTAMP:%Y%m%dT%H%M%SZ").encode(), block) for i in range(300)]
    ics = one.replace(block, b"".join(copies))
    imap_server.deliver(imap_account.user, _mail(ics, mentee.email))
    assert tasks.poll_inbox(inbox=_inbox(imap_account)) == 1
    db.session.expire_all()
    notices = outbox("occurrence_decline_notice")
    assert [n.recipient for n in notices] == [series.pair.mentor.email]


def test_refused_counter_is_answered_and_shown_to_the_coordinator(app, client, imap_server,
                                                                  imap_account):
    series = make_series()
    mentor = series.attendees[0]
    coord = _coordinator(series)
    db.session.commit()
    past = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    raw = _mail(counter_ics(series, mentor.email, past,
                            recurrence_id=series.sessions[0].recurrence_id),
                mentor.email, method="COUNTER")
    imap_server.deliver(imap_account.user, raw)
    assert tasks.poll_inbox(inbox=_inbox(imap_account)) == 1
    db.session.expire_all()
    row = db.session.scalars(select(InboundMessage)).one()
    assert (row.outcome, row.reason_code) == ("rejected", "counter_invalid")
    answers = outbox("counter_refused")
    assert [a.recipient for a in answers] == [mentor.email]
    assert "tidak diterima" in answers[0].subject
    f.login(client, coord)
    page = client.get("/calendar/replies")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f'id="inbound-{row.id}"' in text and mentor.email in text
    assert "Ditolak" in text or "Rejected" in text
    # a mentee has no such page
    other = f.user(["mentee"])
    db.session.commit()
    f.login(client, other)
    assert client.get("/calendar/replies").status_code == 403
