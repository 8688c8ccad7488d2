"""Outbox dispatch against a real loopback SMTP server (aiosmtpd)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from mentormatch.extensions import db
from mentormatch.mail.transport import SmtpSettings, SmtpTransport
from mentormatch.models import OutboxMessage, utcnow
from mentormatch.services import mailer
from mentormatch.services.dispatch import dispatch_outbox, make_transport


def _queue(n: int) -> list[int]:
    ids = []
    for i in range(n):
        msg = mailer.build_message(f"to{i}@example.go.id", f"Subjek {i}", "teks", "<p>html</p>")
        ids.append(mailer.enqueue(msg, kind="test").id)
    db.session.commit()
    return ids


def _rows() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_dispatch_sends_once_with_stored_message_id(app, smtp_server, smtp_settings):
    _queue(3)
    with SmtpTransport(smtp_settings) as t:
        res = dispatch_outbox(t, worker="w1")
        assert res.sent == 3
        again = dispatch_outbox(t, worker="w1", now=utcnow() + timedelta(days=1))
    assert again.sent == 0
    got = smtp_server.wait_for(3)
    assert smtp_server.count == 3
    rows = _rows()
    assert all(r.status == "sent" and r.sent_at is not None for r in rows)
    assert {m.message["Message-ID"] for m in got} == {r.message_id for r in rows}


def test_smtp_down_then_up_nothing_lost_nothing_doubled(app, smtp_server, smtp_settings):
    _queue(2)
    down = SmtpTransport(SmtpSettings(host="127.0.0.1", port=1, timeout=2.0))
    res = dispatch_outbox(down, worker="w1")
    assert res.retried == 2 and res.sent == 0
    rows = _rows()
    assert all(r.status == "pending" and r.attempts == 1 and r.last_error for r in rows)
    # not due yet: backoff respected
    with SmtpTransport(smtp_settings) as t:
        assert dispatch_outbox(t, worker="w1").sent == 0
        smtp_server.fail_next(1)  # the server answers 451 once
        later = utcnow() + timedelta(minutes=5)
        res = dispatch_outbox(t, worker="w1", now=later)
        assert res.sent == 1 and res.retried == 1
        res = dispatch_outbox(t, worker="w1", now=later + timedelta(hours=1))
        assert res.sent == 1
    smtp_server.wait_for(2)
    assert smtp_server.count == 2
    assert [r.status for r in _rows()] == ["sent", "sent"]


def test_permanent_failure_marks_failed(app, smtp_server, smtp_settings):
    _queue(1)
    smtp_server.reject("to0@example.go.id")
    with SmtpTransport(smtp_settings) as t:
        res = dispatch_outbox(t, worker="w1")
    assert res.failed == 1
    row = _rows()[0]
    assert row.status == "failed" and "550" in (row.last_error or "")


class _Killed(BaseException):
    pass


class _DiesAfterClaim:
    """Simulates a worker killed after claiming (and possibly after the server accepted)."""

    def __init__(self, inner=None):
        self.inner = inner

    def send_raw(self, data, *, envelope_from, recipients):
        if self.inner is not None:
            self.inner.send_raw(data, envelope_from=envelope_from, recipients=recipients)
        raise _Killed()


def test_killed_mid_dispatch_is_recovered_with_same_message_id(app, smtp_server, smtp_settings):
    _queue(2)
    with pytest.raises(_Killed):
        dispatch_outbox(_DiesAfterClaim(), worker="dead", batch=1)
    rows = _rows()
    assert [r.status for r in rows] == ["sending", "pending"]
    stored_id = rows[0].message_id
    with SmtpTransport(smtp_settings) as t:
        # the claim is fresh: another worker does not steal it, but sends the other row
        res = dispatch_outbox(t, worker="alive", lease=timedelta(minutes=5))
        assert res.sent == 1 and res.recovered == 0
        assert _rows()[0].status == "sending"
        # after the lease, the stuck row is resent with its stored Message-ID
        res = dispatch_outbox(t, worker="alive", now=utcnow() + timedelta(minutes=10),
                              lease=timedelta(minutes=5))
        assert res.recovered == 1 and res.sent == 1
        assert dispatch_outbox(t, worker="alive", now=utcnow() + timedelta(hours=1)).sent == 0
    got = smtp_server.wait_for(2)
    assert smtp_server.count == 2
    assert stored_id in {m.message["Message-ID"] for m in got}
    assert all(r.status == "sent" for r in _rows())


def test_sent_rows_are_never_recovered(app, smtp_server, smtp_settings):
    _queue(1)
    with SmtpTransport(smtp_settings) as t:
        dispatch_outbox(t, worker="w")
        res = dispatch_outbox(t, worker="w", now=utcnow() + timedelta(days=2),
                              lease=timedelta(seconds=1))
    assert res.recovered == 0 and res.sent == 0
    assert smtp_server.count == 1


def test_make_transport_folder_default(app):
    t = make_transport(app)
    _queue(1)
    assert dispatch_outbox(t, worker="w").sent == 1
    assert len(t.names()) == 1


def test_claim_is_exclusive(app):
    from mentormatch.services.dispatch import claim

    _queue(3)
    now = utcnow()
    first = claim("a", 10, now)
    assert len(first) == 3
    assert claim("b", 10, now) == []
    assert {r.status for r in _rows()} == {"sending"}
