"""Outbox dispatch against a real loopback SMTP server (aiosmtpd): sent once, never twice,
nothing silently dropped; uncertain rows surfaced; the admin outbox page and its resend."""

from __future__ import annotations

import email
import email.policy
import re
import threading
from collections import Counter
from datetime import timedelta
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import event, select

from mentormatch.extensions import db
from mentormatch.mail.transport import SmtpSettings, SmtpTransport
from mentormatch.models import AuditLog, OutboxMessage, utcnow
from mentormatch.services import mailer
from mentormatch.services.dispatch import (
    OutboxError,
    claim,
    dispatch_outbox,
    make_transport,
    outbox_counts,
    resend,
)
from mentormatch.services.lease import Fence, acquire
from tests import factories as f
from tests.helpers import csrf_from, set_settings


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


def _no_duplicates(server) -> list[str]:
    ids = server.message_ids()
    assert len(ids) == len(set(ids)), f"a message was delivered twice: {ids}"
    return ids


def test_dispatch_sends_once_with_stored_message_id_and_send_time_date(
        app, smtp_server, smtp_settings):
    _queue(3)
    send_time = utcnow().replace(microsecond=0) + timedelta(hours=3)
    with SmtpTransport(smtp_settings) as t:
        res = dispatch_outbox(t, worker="w1", now=send_time)
        assert res.sent == 3
        again = dispatch_outbox(t, worker="w1", now=send_time + timedelta(days=1))
    assert again.sent == 0
    got = smtp_server.wait_for(3)
    assert smtp_server.count == 3
    rows = _rows()
    assert all(r.status == "sent" and r.sent_at is not None and r.claim_token is None
               for r in rows)
    assert set(_no_duplicates(smtp_server)) == {r.message_id for r in rows}
    for m in got:  # Date written when sent, not when queued
        assert parsedate_to_datetime(m.message["Date"]) == send_time


def test_smtp_down_then_up_nothing_lost_nothing_doubled(app, smtp_server, smtp_settings):
    _queue(2)
    down = SmtpTransport(SmtpSettings(host="127.0.0.1", port=1, timeout=2.0))
    res = dispatch_outbox(down, worker="w1")
    assert res.retried == 2 and res.sent == 0
    rows = _rows()
    assert all(r.status == "pending" and r.attempts == 1 and r.last_error for r in rows)
    with SmtpTransport(smtp_settings) as t:
        assert dispatch_outbox(t, worker="w1").sent == 0  # backoff respected
        smtp_server.fail_next(1)  # the server answers 451 once
        later = utcnow() + timedelta(minutes=5)
        res = dispatch_outbox(t, worker="w1", now=later)
        assert res.sent == 1 and res.retried == 1
        res = dispatch_outbox(t, worker="w1", now=later + timedelta(hours=1))
        assert res.sent == 1
    smtp_server.wait_for(2)
    assert smtp_server.count == 2
    _no_duplicates(smtp_server)
    assert [r.status for r in _rows()] == ["sent", "sent"]


def test_permanent_failure_marks_failed_and_shows(app, smtp_server, smtp_settings):
    _queue(1)
    smtp_server.reject("to0@example.go.id")
    with SmtpTransport(smtp_settings) as t:
        res = dispatch_outbox(t, worker="w1")
    assert res.failed == 1
    row = _rows()[0]
    assert row.status == "failed" and "550" in (row.last_error or "")
    assert outbox_counts()["failed"] == 1


class _Broken:
    """A transport with a bug before it ever reaches the server."""

    def send_raw(self, data, *, envelope_from, recipients, before_data=None):
        raise RuntimeError("transport bug")


def test_unexpected_errors_count_attempts_then_fail(app):
    set_settings(app, mail={"max_attempts": 3})
    _queue(1)
    now = utcnow()
    for i in range(5):  # bounded: must end as failed after 3 attempts
        dispatch_outbox(_Broken(), worker="w", now=now + timedelta(days=i))
    row = _rows()[0]
    assert row.status == "failed" and row.attempts == 3
    assert "transport bug" in row.last_error


class _Killed(BaseException):
    """Stands for SIGKILL inside the dispatcher."""


class _DiesAfterHandOver:
    """Commits 'sending' (the hand-over) and dies before DATA: delivery unknown to the DB."""

    def __init__(self, inner):
        self.inner = inner

    def send_raw(self, data, *, envelope_from, recipients, before_data=None):
        def hand_over_then_die():
            assert before_data()
            raise _Killed()

        return self.inner.send_raw(data, envelope_from=envelope_from, recipients=recipients,
                                   before_data=hand_over_then_die)


def test_claimed_rows_of_a_dead_worker_are_sent_once(app, smtp_server, smtp_settings):
    _queue(2)
    now = utcnow()
    assert len(claim("dead", 10, now)) == 2  # ... and the worker dies before any SMTP
    with SmtpTransport(smtp_settings) as t:
        fresh = dispatch_outbox(t, worker="alive")
        assert fresh.sent == 0 and fresh.recovered == 0  # the claim is fresh: left alone
        res = dispatch_outbox(t, worker="alive", now=now + timedelta(minutes=10))
    assert res.recovered == 2 and res.sent == 2
    smtp_server.wait_for(2)
    assert len(_no_duplicates(smtp_server)) == 2
    assert all(r.status == "sent" for r in _rows())


def test_worker_killed_after_hand_over_is_flagged_uncertain_not_resent(
        app, smtp_server, smtp_settings, caplog):
    _queue(2)
    with SmtpTransport(smtp_settings) as t:
        with pytest.raises(_Killed):
            dispatch_outbox(_DiesAfterHandOver(t), worker="dead", batch=1)
        db.session.rollback()
        assert [r.status for r in _rows()] == ["sending", "pending"]
        res = dispatch_outbox(t, worker="alive")  # other row goes; the stuck one waits
        assert res.sent == 1 and res.flagged == 0
        later = utcnow() + timedelta(minutes=10)
        res = dispatch_outbox(t, worker="alive", now=later)
        assert res.flagged == 1 and res.sent == 0
        assert dispatch_outbox(t, worker="alive", now=later + timedelta(hours=1)).sent == 0
    rows = _rows()
    assert [r.status for r in rows] == ["uncertain", "sent"]
    assert "delivery uncertain" in caplog.text and "Subjek" not in caplog.text
    assert outbox_counts()["uncertain"] == 1
    assert smtp_server.count == 1


def test_connection_lost_during_data_is_uncertain_and_admin_resend(
        app, smtp_server, smtp_settings):
    _queue(1)
    admin = f.user(("admin",))
    smtp_server.drop_after_data(1)  # the server stores it, the client never hears "250"
    with SmtpTransport(smtp_settings) as t:
        res = dispatch_outbox(t, worker="w")
        assert res.uncertain == 1 and res.sent == 0
        row = _rows()[0]
        assert row.status == "uncertain" and row.claim_token is None
        assert dispatch_outbox(t, worker="w", now=utcnow() + timedelta(days=1)).sent == 0
        assert smtp_server.count == 1  # delivered once, not again by itself
        resend(row, actor=admin)  # an admin decided: the recipient did not get it
        db.session.commit()
        assert dispatch_outbox(t, worker="w").sent == 1
    assert _rows()[0].status == "sent"
    assert db.session.scalar(select(AuditLog.action).where(AuditLog.action == "outbox.resend"))
    with pytest.raises(OutboxError):
        resend(_rows()[0], actor=admin)  # a sent row is not resent


def test_fresh_uncertain_row_of_a_live_owner_cannot_be_resent(app, smtp_server, smtp_settings):
    _queue(1)
    with SmtpTransport(smtp_settings) as t, pytest.raises(_Killed):
        dispatch_outbox(_DiesAfterHandOver(t), worker="slow")
    db.session.rollback()
    row = _rows()[0]
    row.status = "uncertain"  # as a recovery by another worker would mark it
    db.session.commit()
    with pytest.raises(OutboxError) as info:
        resend(row, actor=None)
    assert info.value.code == "still_owned"


class _Stalls:
    """Stops before contacting the server until released (a slow/paused worker)."""

    def __init__(self, inner):
        self.inner, self.reached, self.go = inner, threading.Event(), threading.Event()

    def send_raw(self, data, **kw):
        self.reached.set()
        assert self.go.wait(20)
        return self.inner.send_raw(data, **kw)


class _StalledWorker:
    """Runs dispatch_outbox in a thread whose transport stalls at its first message."""

    def __init__(self, app, smtp_settings, **kwargs):
        self.result = None
        self.stall = _Stalls(SmtpTransport(smtp_settings))

        def run():
            with app.app_context():
                try:
                    self.result = dispatch_outbox(self.stall, **kwargs)
                finally:
                    self.stall.inner.close()
                    db.session.remove()

        self.thread = threading.Thread(target=run)

    def __enter__(self):
        self.thread.start()
        assert self.stall.reached.wait(20), "the worker never reached the server"
        return self

    def __exit__(self, *exc):
        self.stall.go.set()
        self.thread.join(30)
        assert not self.thread.is_alive()


def test_slow_worker_whose_claim_expired_does_not_send_again(app, smtp_server, smtp_settings):
    """The audit's scenario: A claims, stalls past the claim timeout, B recovers and sends;
    when A wakes up its hand-over finds the claim gone and it sends nothing."""
    _queue(2)
    with _StalledWorker(app, smtp_settings, worker="A") as a, SmtpTransport(smtp_settings) as t:
        res_b = dispatch_outbox(t, worker="B", now=utcnow() + timedelta(minutes=10))
    assert res_b.recovered == 2 and res_b.sent == 2
    assert a.result.sent == 0 and a.result.aborted == 2
    smtp_server.wait_for(2)
    assert len(_no_duplicates(smtp_server)) == 2 and smtp_server.count == 2
    assert [r.status for r in _rows()] == ["sent", "sent"]


def test_dispatch_fenced_by_the_scheduler_lease(app, smtp_server, smtp_settings):
    """A leader that lost its lease cannot hand rows to SMTP; the new leader recovers its
    claims at once (older epoch, no need to wait for the claim timeout) and sends each once."""
    _queue(3)
    now = utcnow()
    grant_a = acquire("A", 60, now=now)
    with _StalledWorker(app, smtp_settings, worker="A", fence=Fence(grant_a)) as a:
        assert {r.claim_epoch for r in _rows()} == {grant_a.epoch}
        # A stalls; its lease runs out and B takes over (a new epoch)
        later = now + timedelta(seconds=61)
        grant_b = acquire("B", 60, now=later)
        assert grant_b is not None and grant_b.epoch == grant_a.epoch + 1
        with SmtpTransport(smtp_settings) as t:
            res_b = dispatch_outbox(t, worker="B", fence=Fence(grant_b, clock=lambda: later))
    assert res_b.recovered == 3 and res_b.sent == 3
    assert a.result.sent == 0 and a.result.aborted + int(a.result.lease_lost) >= 1
    smtp_server.wait_for(3)
    assert len(_no_duplicates(smtp_server)) == 3 and smtp_server.count == 3
    assert all(r.status == "sent" and r.claimed_by == "B" for r in _rows())


def test_sent_rows_are_never_recovered(app, smtp_server, smtp_settings):
    _queue(1)
    with SmtpTransport(smtp_settings) as t:
        dispatch_outbox(t, worker="w")
        res = dispatch_outbox(t, worker="w", now=utcnow() + timedelta(days=2))
    assert res.recovered == 0 and res.flagged == 0 and res.sent == 0
    assert smtp_server.count == 1


def test_make_transport_folder_default(app):
    t = make_transport(app)
    _queue(1)
    assert dispatch_outbox(t, worker="w").sent == 1
    assert len(t.names()) == 1


def test_claim_is_exclusive(app):
    _queue(3)
    now = utcnow()
    first = claim("a", 10, now)
    assert len(first) == 3
    assert claim("b", 10, now) == []
    assert {r.status for r in _rows()} == {"claimed"}


def test_temporary_error_on_a_live_row_is_never_uncertain(app, smtp_server, smtp_settings):
    """An explicit SMTP error is a definite non-delivery, even after the hand-over."""
    _queue(1)
    smtp_server.fail_next(1)  # 451 to the end of DATA
    with SmtpTransport(smtp_settings) as t:
        res = dispatch_outbox(t, worker="w")
    assert res.retried == 1 and res.uncertain == 0
    assert _rows()[0].status == "pending"


# --------------------------------------------------------------------------- admin page


def test_outbox_page_admin_only_and_resend(app, client, smtp_server, smtp_settings):
    _queue(1)
    smtp_server.drop_after_data(1)
    with SmtpTransport(smtp_settings) as t:
        dispatch_outbox(t, worker="w")
    row_id = _rows()[0].id
    coordinator = f.user(("coordinator",))
    f.login(client, coordinator)
    assert client.get("/admin/outbox").status_code == 403
    admin = f.user(("admin",))
    f.login(client, admin)
    page = client.get("/admin/outbox?state=uncertain")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and f'id="row-{row_id}"' in html
    assert "Pengiriman tidak pasti" in html  # Indonesian by default
    # every state's tab has its own name (two were both "Sedang dikirim")
    tabs = re.findall(r'<a href="[^"]*state=\w+"[^>]*>([^(<]+)', html)
    assert len(tabs) >= 6 and len(set(tabs)) == len(tabs), tabs
    assert "teks" not in html  # no message content on this page
    token = csrf_from(client, "/admin/outbox")
    resp = client.post(f"/admin/outbox/{row_id}/resend", data={"csrf_token": token})
    assert resp.status_code == 302
    assert _rows()[0].status == "pending"
    health = client.get("/healthz").get_json()
    assert health["outbox"]["uncertain"] == 0 and health["outbox"]["pending"] == 1


def test_dev_mailbox_admin_only_and_gone_with_smtp(app, client):
    _queue(1)
    dispatch_outbox(make_transport(app), worker="w")
    f.login(client, f.user(("coordinator",)))
    assert client.get("/dev/mailbox/").status_code == 403
    f.login(client, f.user(("admin",)))
    page = client.get("/dev/mailbox/")
    assert page.status_code == 200 and "Subjek 0" in page.get_data(as_text=True)
    assert " WIB<" in page.get_data(as_text=True)  # when it was written, in local time
    assert 'href="/dev/mailbox/"' in client.get("/").get_data(as_text=True)  # in the menu
    set_settings(app, mail={"transport": "smtp"})
    try:
        assert client.get("/dev/mailbox/").status_code == 404
        assert 'href="/dev/mailbox/"' not in client.get("/").get_data(as_text=True)
        name = make_transport_folder_names(app)[0]
        assert client.get(f"/dev/mailbox/{name}").status_code == 404
    finally:
        set_settings(app, mail={"transport": "folder"})


def make_transport_folder_names(app) -> list[str]:
    from pathlib import Path

    from mentormatch.mail.transport import FolderTransport

    return FolderTransport(Path(app.instance_path) / "outbox").names()


def test_raw_bytes_sent_are_the_stored_ones_apart_from_date(app, smtp_server, smtp_settings):
    _queue(1)
    stored = _rows()[0].raw
    with SmtpTransport(smtp_settings) as t:
        dispatch_outbox(t, worker="w")
    got = smtp_server.wait_for(1)[0].message
    want = email.message_from_bytes(stored, policy=email.policy.default)
    for header in ("Message-ID", "Subject", "To", "From"):
        assert got[header] == want[header]
    def body(m):
        return m.get_body(("plain",)).get_content().replace("\r\n", "\n")

    assert body(got) == body(want)


class _Observing:
    """Wraps a transport and reads the committed outbox from a connection of its own right
    before each message and right after its hand-over (what a crash at that moment leaves)."""

    def __init__(self, inner, engine):
        self.inner, self.engine = inner, engine
        self.before: list[Counter] = []
        self.handed: list[Counter] = []

    def _committed(self) -> Counter:
        with self.engine.connect() as conn:
            return Counter(conn.scalars(select(OutboxMessage.status)))

    def send_raw(self, data, *, envelope_from, recipients, before_data=None):
        self.before.append(self._committed())

        def hand_over():
            ok = before_data()
            self.handed.append(self._committed())
            return ok

        return self.inner.send_raw(data, envelope_from=envelope_from, recipients=recipients,
                                   before_data=hand_over)


def test_one_commit_per_message_and_at_most_one_row_in_doubt(app, smtp_server, smtp_settings):
    n, batch = 12, 5
    _queue(n)
    commits = [0]

    def count(_conn) -> None:
        commits[0] += 1

    with SmtpTransport(smtp_settings) as t:
        watcher = _Observing(t, db.engine)
        event.listen(db.engine, "commit", count)
        try:
            res = dispatch_outbox(watcher, worker="w1", batch=batch)
        finally:
            event.remove(db.engine, "commit", count)
    batches = -(-n // batch)
    assert res.sent == n and res.commits == n + batches  # the rows' own writes
    # + recovery, and per batch its claim and its release; one more claim finds nothing
    assert commits[0] <= n + 3 * batches + 2, commits
    assert [r.status for r in _rows()] == ["sent"] * n
    assert len(_no_duplicates(smtp_server)) == n
    for k, (before, handed) in enumerate(zip(watcher.before, watcher.handed, strict=True)):
        # a crash before the message: at most the previous one undecided, and 'sending'
        assert before["sent"] in (k - 1, k) and before["sending"] == k - before["sent"]
        # the hand-over committed the previous delivery with it: exactly this row in doubt
        assert handed["sent"] == k and handed["sending"] == 1, (k, handed)


def test_dev_mailbox_pages_filters_and_links(app, client):
    """Every stored mail can be found (50 a page, a count, a recipient filter), and the
    service's own links in a mail open with a click."""
    base = "http://127.0.0.1"  # the tests' base_url
    for i in range(55):
        text = f"Aktifkan akun: {base}/activate/tok{i}. Lainnya: https://contoh.example/x{i}"
        msg = mailer.build_message(f"to{i}@example.go.id", f"Subjek {i}", text, "<p>html</p>")
        mailer.enqueue(msg, kind="test")
    db.session.commit()
    dispatch_outbox(make_transport(app), worker="w")
    f.login(client, f.user(("admin",)))
    html = client.get("/dev/mailbox/").get_data(as_text=True)
    assert "Menampilkan 1–50 dari 55" in html and 'rel="next"' in html
    assert len(re.findall(r'href="/dev/mailbox/\d', html)) == 50
    assert "Menampilkan 51–55 dari 55" in client.get("/dev/mailbox/?page=2").get_data(
        as_text=True)
    one = client.get("/dev/mailbox/?to=to7@").get_data(as_text=True)
    assert "Menampilkan 1–1 dari 1" in one and "Subjek 7" in one
    name = re.search(r'href="/dev/mailbox/([^"?]+)"', one).group(1)
    mail = client.get(f"/dev/mailbox/{name}").get_data(as_text=True)
    assert f'<a href="{base}/activate/tok7">{base}/activate/tok7</a>.' in mail
    assert 'href="https://contoh.example' not in mail  # only the service's own links
