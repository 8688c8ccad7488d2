"""Real scheduler processes (``python -m mentormatch.cli scheduler``) against one database
(SQLite and PostgreSQL) and a slow loopback aiosmtpd server:

* a scheduler SIGKILLed in the middle of SMTP DATA, then started again: no message arrives
  twice, every row ends ``sent`` or flagged ``uncertain``, none is lost;
* two schedulers at once: only the lease holder dispatches; when it is killed the other takes
  over within the lease time and nothing is doubled.

Every wait is bounded in time; all sockets are on 127.0.0.1.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from mentormatch.extensions import db
from mentormatch.mail.transport import SmtpSettings, SmtpTransport
from mentormatch.models import OutboxMessage, SchedulerLease, utcnow
from mentormatch.services import mailer
from mentormatch.services.dispatch import dispatch_outbox, resend
from tests.servers.smtp import SmtpTestServer

# times itself or runs several servers: scripts/test runs it alone, after the parallel part
pytestmark = pytest.mark.serial

ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 3
DISPATCH_SECONDS = 0.5


def _queue(n: int) -> None:
    for i in range(n):
        msg = mailer.build_message(f"penerima{i}@example.go.id", f"Undangan {i}", "teks",
                                   "<p>html</p>")
        mailer.enqueue(msg, kind="test")
    db.session.commit()
    db.session.remove()


def _config(tmp_path: Path, database_url: str, smtp: SmtpTestServer) -> Path:
    path = tmp_path / "scheduler.toml"
    path.write_text(f"""
[app]
database_url = "{database_url}"
base_url = "http://127.0.0.1"
[mail]
transport = "smtp"
from_address = "mentoring@example.go.id"
smtp_host = "{smtp.host}"
smtp_port = {smtp.port}
smtp_timeout = 10
dispatch_seconds = {DISPATCH_SECONDS}
dispatch_batch = 5
# long on purpose: recovery after a takeover must come from the lease epoch, not from age
claim_timeout_seconds = 600
[scheduler]
lease_seconds = {LEASE_SECONDS}
[inbox]
enabled = false
""")
    return path


class Scheduler:
    """One `mentormatch scheduler` process with its own log file."""

    def __init__(self, config: Path, log: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MENTORMATCH_")}
        env.update(MENTORMATCH_CONFIG=str(config), MENTORMATCH_SECRET_KEY="process-test",
                   PYTHONUNBUFFERED="1")
        self.log = log
        self._fh = log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mentormatch.cli", "scheduler"], cwd=ROOT, env=env,
            stdin=subprocess.DEVNULL, stdout=self._fh, stderr=subprocess.STDOUT,
            start_new_session=True)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        self._fh.close()

    def tail(self) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-25:])
        except OSError:
            return ""


@pytest.fixture
def slow_smtp():
    server = SmtpTestServer(delay=0.3)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _statuses() -> Counter:
    db.session.remove()
    counts = Counter(db.session.scalars(select(OutboxMessage.status)))
    db.session.remove()
    return counts


def _rows() -> list[OutboxMessage]:
    db.session.remove()
    rows = list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    db.session.expunge_all()
    db.session.remove()
    return rows


def _holder() -> str | None:
    db.session.remove()
    lease = db.session.get(SchedulerLease, "scheduler")
    holder = lease.holder if lease is not None else None
    db.session.remove()
    return holder


def _pid_of(holder: str | None) -> int | None:
    return int(holder.split(":")[1]) if holder else None


def _wait(predicate, timeout: float, what: str, *procs: Scheduler) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return time.monotonic()
        time.sleep(0.1)
    logs = "\n---\n".join(p.tail() for p in procs)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{logs}")


def _settled() -> bool:
    c = _statuses()
    return c["pending"] + c["claimed"] + c["sending"] == 0


def _check_nothing_doubled_nothing_lost(server: SmtpTestServer, total: int) -> list:
    ids = server.message_ids()
    doubled = [m for m, n in Counter(ids).items() if n > 1]
    assert not doubled, f"delivered twice: {doubled}"
    rows = _rows()
    assert len(rows) == total
    assert {r.status for r in rows} <= {"sent", "uncertain"}, [r.status for r in rows]
    received = set(ids)
    for r in rows:
        if r.status == "sent":
            assert r.message_id in received, f"row {r.id} marked sent but never arrived"
    assert received <= {r.message_id for r in rows}
    return rows


def test_scheduler_killed_mid_data_then_restarted(app, database_url, tmp_path, slow_smtp):
    total = 12
    _queue(total)
    config = _config(tmp_path, database_url, slow_smtp)
    first = Scheduler(config, tmp_path / "first.log")
    try:
        slow_smtp.wait_in_data(4, timeout=60)  # message 4 is in DATA, waiting for its "250"
        first.kill()
        killed_at = time.monotonic()
    finally:
        first.stop()
    in_doubt = _statuses()
    assert in_doubt["sending"] == 1, (in_doubt, first.tail())
    assert in_doubt["sent"] == 3
    second = Scheduler(config, tmp_path / "second.log")
    try:
        done = _wait(_settled, 60, "the restarted scheduler to finish", second)
    finally:
        second.stop()
    if database_url.startswith("sqlite"):
        # it had to wait for the dead one's lease to run out before taking over (PostgreSQL:
        # the dead one's advisory lock is gone at once, see test_scheduler_failover.py)
        assert done - killed_at >= LEASE_SECONDS * 0.8
    rows = _check_nothing_doubled_nothing_lost(slow_smtp, total)
    statuses = Counter(r.status for r in rows)
    assert statuses == {"sent": total - 1, "uncertain": 1}
    (doubtful,) = [r for r in rows if r.status == "uncertain"]
    assert "delivery unknown" in doubtful.last_error
    assert "Undangan" not in second.tail()  # the log names rows, never message content
    # the server dropped the half-finished transaction (aiosmtpd cancels it when the client
    # vanishes) - the real "may or may not": an admin checks and sends it again, once
    arrived = doubtful.message_id in slow_smtp.message_ids()
    assert slow_smtp.count == total - 1 + arrived
    if not arrived:
        later = utcnow() + timedelta(hours=1)  # past the claim timeout of the dead owner
        resend(db.session.get(OutboxMessage, doubtful.id), actor=None, now=later)
        db.session.commit()
        with SmtpTransport(SmtpSettings(host=slow_smtp.host, port=slow_smtp.port,
                                        timeout=10)) as t:
            assert dispatch_outbox(t, worker="admin-resend", now=later).sent == 1
        _check_nothing_doubled_nothing_lost(slow_smtp, total)
        assert slow_smtp.count == total


def test_two_schedulers_one_leader_and_takeover(app, database_url, tmp_path, slow_smtp):
    total = 30
    _queue(total)
    config = _config(tmp_path, database_url, slow_smtp)
    a = Scheduler(config, tmp_path / "a.log")
    b = Scheduler(config, tmp_path / "b.log")
    procs = {a.pid: a, b.pid: b}
    try:
        slow_smtp.wait_for(4, timeout=60)
        leader_holder = _holder()
        leader = procs[_pid_of(leader_holder)]
        standby = b if leader is a else a
        slow_smtp.wait_in_data(6, timeout=30)
        leader.kill()
        killed_at = time.monotonic()
        took_over = _wait(lambda: _pid_of(_holder()) == standby.pid, LEASE_SECONDS + 10,
                          "the standby to take the lease", standby)
        # within the lease time (plus one job interval and a little slack)
        assert took_over - killed_at <= LEASE_SECONDS + DISPATCH_SECONDS + 2.5
        _wait(_settled, 90, "the new leader to finish", standby)
    finally:
        for p in (a, b):
            p.stop()
    rows = _check_nothing_doubled_nothing_lost(slow_smtp, total)
    new_holder = _holder()
    assert _pid_of(new_holder) == standby.pid
    by_worker = Counter(r.claimed_by for r in rows)
    assert set(by_worker) <= {leader_holder, new_holder}
    assert by_worker[leader_holder] >= 4 and by_worker[new_holder] >= 1
    # only one dispatched at a time: the standby sent nothing while the leader was alive
    first_by_standby = min(r.sent_at for r in rows if r.claimed_by == new_holder
                           and r.sent_at is not None)
    last_by_leader = max(r.sent_at for r in rows if r.claimed_by == leader_holder
                         and r.sent_at is not None)
    assert last_by_leader < first_by_standby
    assert Counter(r.status for r in rows)["uncertain"] <= 1
