"""Forged declines by e-mail: with the shipped defaults (no authserv_id), a mail forged From: a
mentor that declines the pair changes nothing until the mentor confirms through a signed link
mailed to their own address; acceptances apply directly. Replies come from a real IMAP mailbox."""

from __future__ import annotations

import re
from email import message_from_bytes, policy

from sqlalchemy import select

from mentormatch.extensions import db
from mentormatch.jobs import tasks
from mentormatch.models import InboundMessage, OutboxMessage
from mentormatch.settings import settings
from tests.helpers import csrf_from, set_settings
from tests.sessions.test_invites import make_series, outbox
from tests.sessions.test_replies import reply_mail
from tests.sessions.test_scheduler import _inbox


def _body(row: OutboxMessage) -> str:
    return message_from_bytes(row.raw, policy=policy.default).get_body(("plain",)).get_content()


def test_forged_decline_is_held_until_the_mentor_confirms(app, client, imap_server,
                                                          imap_account):
    assert not settings(app).inbox.authserv_id  # the shipped default
    series = make_series()
    mentor, mentee = series.attendees
    # the mentee knows the UID and forges a decline "from" the mentor
    forged = reply_mail(series, mentor.email, "DECLINED", headers={})
    imap_server.deliver(imap_account.user, forged)
    assert tasks.poll_inbox(inbox=_inbox(imap_account)) == 1
    db.session.expire_all()
    assert series.pair.status == "invited" and series.status == "active"
    assert mentor.partstat == "NEEDS-ACTION"
    row = db.session.scalars(select(InboundMessage)).one()
    assert (row.outcome, row.reason_code) == ("held", "decline_unconfirmed")
    assert outbox("decline_notice") == [] and outbox("itip_cancel") == []
    asks = outbox("confirm_decline")
    assert [m.recipient for m in asks] == [mentor.email]  # the address on file, not From:
    body = _body(asks[0])
    assert "Mohon konfirmasi" in asks[0].subject
    link = re.search(r"http://127\.0\.0\.1(/rsvp/\S+)", body).group(1)

    # a forged acceptance is harmless and applies directly
    imap_server.deliver(imap_account.user, reply_mail(series, mentee.email, "ACCEPTED",
                                                      headers={}))
    assert tasks.poll_inbox(inbox=_inbox(imap_account)) == 1
    db.session.expire_all()
    assert mentee.partstat == "ACCEPTED"

    # the real mentor confirms: only then the pair is declined and the series cancelled
    assert client.get(link).status_code == 200  # a confirm page: scanners change nothing
    db.session.expire_all()
    assert series.pair.status == "invited"
    resp = client.post(link, data={"csrf_token": csrf_from(client, link)})
    assert resp.status_code == 200
    db.session.expire_all()
    assert series.pair.status == "declined" and series.status == "cancelled"


def test_decline_vouched_for_by_our_mx_applies_directly(app, imap_server, imap_account):
    set_settings(app, inbox={"authserv_id": "mx.bkpsdm.go.id"})
    series = make_series()
    mentor = series.attendees[0]
    domain = mentor.email.rpartition("@")[2]
    imap_server.deliver(imap_account.user, reply_mail(
        series, mentor.email, "DECLINED",
        headers={"Authentication-Results": f"mx.bkpsdm.go.id; dkim=pass header.d={domain}"}))
    assert tasks.poll_inbox(inbox=_inbox(imap_account)) == 1
    db.session.expire_all()
    assert series.pair.status == "declined"
    assert outbox("confirm_decline") == []
