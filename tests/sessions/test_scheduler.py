"""Scheduler jobs against real servers: lease leadership and fencing, dispatch over SMTP
(aiosmtpd), replies from a real IMAP mailbox (dovecot) tracked by UID, reminders across
WIB/WITA/WIT, chase/escalate, missed. (Real scheduler processes: tests/mail/...processes.)"""

from __future__ import annotations

from datetime import UTC, timedelta

from sqlalchemy import select

from mentormatch.extensions import db
from mentormatch.jobs import JOBS, Job, tasks
from mentormatch.jobs.runner import build_scheduler, run_job
from mentormatch.mail.inbox import ImapInbox, ImapSettings
from mentormatch.models import (
    InboundMessage,
    InboxCursor,
    OutboxMessage,
    ProgrammeCoordinator,
    utcnow,
)
from mentormatch.services.lease import Fence, LeaseLost, acquire, acquire_or_renew, current_holder
from tests import factories as f
from tests.helpers import set_settings
from tests.sessions.test_invites import FIRST, make_series, outbox
from tests.sessions.test_replies import reply_mail


def test_job_ids_are_stable_and_unique():
    ids = [j.id for j in JOBS]
    assert ids[:8] == ["dispatch_outbox", "poll_inbox", "reminders", "nudge_log",
                       "chase_invites", "escalate", "mark_missed", "weekly_digest"]
    assert len(set(ids)) == len(ids)


def test_lease_one_winner_and_takeover(app):
    now = utcnow()
    assert acquire_or_renew("a", 60, now=now)
    assert not acquire_or_renew("b", 60, now=now + timedelta(seconds=10))
    assert acquire_or_renew("a", 60, now=now + timedelta(seconds=20))  # renew
    assert current_holder(now=now + timedelta(seconds=30)) == "a"
    # a stops renewing (dies): after expiry b takes over, and a cannot come back
    assert acquire_or_renew("b", 60, now=now + timedelta(seconds=81))
    assert not acquire_or_renew("a", 60, now=now + timedelta(seconds=82))


def test_lease_epoch_fences_a_former_leader(app):
    now = utcnow()
    a = acquire("a", 60, now=now)
    assert acquire("a", 60, now=now + timedelta(seconds=30)).epoch == a.epoch  # renewal
    fence = Fence(a, clock=lambda: now + timedelta(seconds=45))
    fence.check()  # renews (a third of the time passed)
    b = acquire("b", 60, now=now + timedelta(seconds=200))
    assert b.epoch == a.epoch + 1
    with_fence = Fence(a, clock=lambda: now + timedelta(seconds=201))
    try:
        with_fence.check()
    except LeaseLost:
        pass
    else:
        raise AssertionError("a former leader passed the fence")
    # even the same holder starts a new epoch after its lease lapsed
    c = acquire("b", 60, now=now + timedelta(seconds=400))
    assert c.epoch == b.epoch + 1


def test_job_that_outlives_its_lease_stops(app, smtp_server):
    """A dispatch run whose lease was taken over mid-run sends no further row."""
    _smtp_config(app, smtp_server)
    make_series()
    make_series()
    now = utcnow()
    grant = acquire("slow", 60, now=now)
    acquire("other", 60, now=now + timedelta(seconds=61))  # took over meanwhile
    sent = []

    class Watching:
        def __init__(self, inner):
            self.inner = inner

        def send_raw(self, data, **kw):
            sent.append(1)
            return self.inner.send_raw(data, **kw)

        def close(self):
            self.inner.close()

    from mentormatch.services.dispatch import make_transport

    try:
        tasks.run_dispatch(worker="slow", transport=Watching(make_transport(app)),
                           fence=Fence(grant, clock=lambda: now + timedelta(seconds=62)))
    except LeaseLost:
        pass
    else:
        raise AssertionError("the run went on without its lease")
    assert sent == [] and smtp_server.count == 0
    assert db.session.query(OutboxMessage).filter_by(status="pending").count() == 4


def _smtp_config(app, smtp_server):
    set_settings(app, mail={"transport": "smtp", "smtp_host": smtp_server.host,
                            "smtp_port": smtp_server.port, "smtp_security": "none",
                            "smtp_timeout": 5})


def test_two_schedulers_do_not_double_send(app, smtp_server):
    _smtp_config(app, smtp_server)
    make_series()
    dispatch = next(j for j in JOBS if j.id == "dispatch_outbox")
    assert run_job(app, dispatch, "sched-a") == 2
    assert run_job(app, dispatch, "sched-b") is None  # not the leader
    smtp_server.wait_for(2)
    assert smtp_server.count == 2
    assert len(set(smtp_server.message_ids())) == 2


def test_failing_job_is_logged_and_scheduler_keeps_going(app, caplog):
    def boom(now=None):
        raise RuntimeError("boom")

    assert run_job(app, Job("broken", boom, 1), "h") is None
    assert "scheduler job broken failed" in caplog.text
    assert run_job(app, Job("ok", lambda now=None: 42, 1), "h") == 42
    sched = build_scheduler(app, in_process=True, holder="h")
    # PostgreSQL: plus the standby's poll of the leader's advisory lock
    extra = {"leadership"} if app.extensions["sqlalchemy"].engines[None].dialect.name \
        == "postgresql" else set()
    assert {j.id for j in sched.get_jobs()} == {j.id for j in JOBS} | extra


def _inbox(account, **kw) -> ImapInbox:
    return ImapInbox(ImapSettings(host=account.host, port=account.port, security="none",
                                  username=account.user, password=account.password, timeout=5,
                                  **kw))


def test_invite_reply_roundtrip_over_smtp_and_imap(app, smtp_server, imap_server, imap_account):
    _smtp_config(app, smtp_server)
    set_settings(app, inbox={"authserv_id": "mx.test.go.id"})  # reply_mail: dkim=pass there
    series = make_series()
    mentor, mentee = series.attendees
    assert run_job(app, next(j for j in JOBS if j.id == "dispatch_outbox"), "s1") == 2
    got = smtp_server.wait_for(2)
    assert {tuple(m.rcpt_tos) for m in got} == {(mentor.email,), (mentee.email,)}
    rid = series.sessions[1].recurrence_id
    for raw in (
        reply_mail(series, mentor.email, "ACCEPTED"),
        reply_mail(series, mentee.email, "DECLINED", recurrence_id=rid),
        reply_mail(series, mentor.email, "DECLINED", sender="penipu@example.com"),
        b"From: x@example.com\r\nSubject: hi\r\n\r\nnot a calendar\r\n",
    ):
        imap_server.deliver(imap_account.user, raw)
    assert tasks.poll_inbox(inbox=_inbox(imap_account)) == 4
    db.session.expire_all()
    assert series.pair.status == "active"
    assert mentor.partstat == "ACCEPTED"
    outcomes = db.session.scalars(select(InboundMessage.outcome).order_by(InboundMessage.id))
    assert list(outcomes) == ["applied", "applied", "rejected", "rejected"]
    refs = db.session.scalars(select(InboundMessage.mailbox_ref).order_by(InboundMessage.id))
    assert all(r and r.startswith("INBOX;UIDVALIDITY=") for r in refs)
    # processed mail is not read again, and its flags were left alone (still unseen)
    assert tasks.poll_inbox(inbox=_inbox(imap_account)) == 0
    with _inbox(imap_account) as inbox:
        assert len(inbox.fetch_unseen()) == 4


def test_replies_read_by_a_coordinator_in_a_mail_client_are_still_processed(
        app, imap_server, imap_account):
    series = make_series()
    mentor = series.attendees[0]
    # the coordinator opened the organizer mailbox in Thunderbird: the reply is \Seen
    imap_server.deliver(imap_account.user, reply_mail(series, mentor.email, "ACCEPTED"),
                        flags=r"\Seen")
    assert tasks.poll_inbox(inbox=_inbox(imap_account)) == 1
    db.session.expire_all()
    assert mentor.partstat == "ACCEPTED" and series.pair.status == "active"
    cursor = db.session.scalars(select(InboxCursor)).one()
    assert cursor.last_uid >= 1 and cursor.uidvalidity > 0


def test_a_message_that_raises_is_recorded_failed_not_retried_forever(
        app, imap_server, imap_account, monkeypatch):
    series = make_series()
    mentor, mentee = series.attendees
    imap_server.deliver(imap_account.user, reply_mail(series, mentor.email, "ACCEPTED"))
    imap_server.deliver(imap_account.user, reply_mail(series, mentee.email, "ACCEPTED"))
    from mentormatch.services import inbox_cursor

    real = inbox_cursor.apply_reply
    calls = []

    def flaky(raw, **kw):
        calls.append(1)
        if f"From: {mentor.email}".encode() in raw:
            raise RuntimeError("bug while applying")
        return real(raw, **kw)

    monkeypatch.setattr(inbox_cursor, "apply_reply", flaky)
    for _ in range(3):  # inbox.max_attempts = 3: the bad mail blocks at most 3 polls
        tasks.poll_inbox(inbox=_inbox(imap_account))
    monkeypatch.setattr(inbox_cursor, "apply_reply", real)
    assert tasks.poll_inbox(inbox=_inbox(imap_account)) == 0  # nothing left
    rows = list(db.session.scalars(select(InboundMessage).order_by(InboundMessage.id)))
    assert [r.outcome for r in rows] == ["failed", "applied"]
    assert "bug while applying" in rows[0].reason and rows[0].details["attempts"] == 3
    db.session.expire_all()
    assert mentee.partstat == "ACCEPTED" and mentor.partstat == "NEEDS-ACTION"


def test_processed_folder_from_config(app, imap_server, imap_account):
    series = make_series()
    imap_server.deliver(imap_account.user,
                        reply_mail(series, series.attendees[0].email, "ACCEPTED"))
    inbox = _inbox(imap_account, processed_folder="MentorMatch-Processed")
    assert tasks.poll_inbox(inbox=inbox) == 1
    assert imap_server.folder_count(imap_account.user, "INBOX") == 0
    assert imap_server.folder_count(imap_account.user, "MentorMatch-Processed") == 1


def test_reminders_across_zones_at_right_instants_never_twice(app):
    series_wib = make_series(mentor_tz="Asia/Jakarta", mentee_tz="Asia/Makassar")
    series_wit = make_series(mentor_tz="Asia/Jayapura", mentee_tz="Asia/Jakarta",
                             mentee_locale="id")
    assert series_wit.sessions[0].start_at == FIRST
    db.session.query(OutboxMessage).delete()
    db.session.commit()
    before = FIRST - timedelta(hours=24, minutes=1)
    assert tasks.reminders(before) == 0
    assert tasks.reminders(FIRST - timedelta(hours=24)) == 4
    assert tasks.reminders(FIRST - timedelta(hours=20)) == 0  # never twice
    texts = {r.recipient: r.raw.decode() for r in outbox("reminder")}
    assert "09:00 WIB" in texts[series_wib.attendees[0].email]
    assert "10:00 WITA" in texts[series_wib.attendees[1].email]
    assert "11:00 WIT" in texts[series_wit.attendees[0].email]
    assert tasks.reminders(FIRST - timedelta(minutes=59)) == 4
    assert tasks.reminders(FIRST - timedelta(minutes=30)) == 0
    assert len(outbox("reminder")) == 8
    # a cancelled session gets none
    series_wib.sessions[1].status = "cancelled"
    db.session.commit()
    assert tasks.reminders(series_wib.sessions[1].start_at - timedelta(hours=1)) == 2


def test_chase_escalate_nudge_missed_digest(app):
    series = make_series()
    coord = f.user(("coordinator",), email="koord@example.go.id")
    db.session.add(ProgrammeCoordinator(programme_id=series.pair.programme_id, user_id=coord.id))
    db.session.commit()
    invited = series.attendees[0].invited_at
    assert tasks.chase_invites(invited + timedelta(days=2)) == 0
    assert tasks.chase_invites(invited + timedelta(days=3, minutes=1)) == 2
    assert tasks.chase_invites(invited + timedelta(days=4)) == 0
    assert tasks.escalate(invited + timedelta(days=7, minutes=1)) == 1  # one summary
    assert tasks.escalate(invited + timedelta(days=8)) == 0
    assert {r.recipient for r in outbox("escalate")} == {"koord@example.go.id"}
    end = series.sessions[0].end_at
    assert tasks.nudge_log(end + timedelta(minutes=5)) == 1
    assert tasks.nudge_log(end + timedelta(minutes=10)) == 0
    assert [r.recipient for r in outbox("nudge_log")] == [series.attendees[1].email]
    assert tasks.mark_missed(end + timedelta(days=7, minutes=1)) == 1
    assert series.sessions[0].status == "missed"
    monday_7_wib = FIRST.replace(day=1, hour=0, minute=30).astimezone(UTC)  # Mon 07:30 WIB
    assert tasks.weekly_digest(monday_7_wib - timedelta(days=1)) == 0
    assert tasks.weekly_digest(monday_7_wib) == 1
    assert tasks.weekly_digest(monday_7_wib + timedelta(hours=1)) == 0


def test_in_process_scheduler_sends_outbox(app):
    import time

    from mentormatch.jobs.runner import run_scheduler
    from mentormatch.services.dispatch import make_transport

    make_series()
    sched = run_scheduler(app, in_process=True, holder="demo")
    try:
        deadline = time.monotonic() + 30  # generous: a loaded CI machine starts jobs late
        while time.monotonic() < deadline:
            db.session.expire_all()
            if db.session.query(OutboxMessage).filter_by(status="sent").count() == 2:
                break
            time.sleep(0.1)
    finally:
        sched.shutdown(wait=True)
    assert db.session.query(OutboxMessage).filter_by(status="sent").count() == 2
    assert len(make_transport(app).names()) == 2
    assert current_holder() == "demo"


def test_lease_race_between_threads_has_one_winner(app):
    import threading

    now = utcnow()
    results: list[tuple[str, bool]] = []
    barrier = threading.Barrier(6)

    def contend(holder: str) -> None:
        with app.app_context():
            barrier.wait()
            results.append((holder, acquire_or_renew(holder, 60, now=now)))
            db.session.remove()

    threads = [threading.Thread(target=contend, args=(f"h{i % 3}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    winners = {h for h, won in results if won}
    assert len(results) == 6 and len(winners) == 1
    assert current_holder(now=now) == winners.pop()
