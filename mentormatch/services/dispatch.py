"""Send committed outbox rows - never one row twice, and none silently dropped.

A row moves ``pending -> claimed -> sending -> sent``; every step after the claim is a
conditional ``UPDATE`` that repeats the row's fencing token (``claim_token``), and under the
scheduler also the lease epoch, so a worker that lost its claim or its lease cannot act:

* **claim**: due ``pending`` rows get this run's token (``attempts + 1``), committed.
* **hand over**: after the server accepted sender and recipients, right before DATA, the row
  goes ``claimed -> sending`` (token, and lease epoch, checked) and that is committed. If the
  update finds nothing, the SMTP transaction is reset: nothing is sent.
* **sent**: after the server's final ``250`` the row is marked ``sent``; that update is
  committed together with the next hand-over (or failure, or the end of the batch), so each
  message costs one commit, and still at most the one row last handed over is ever
  ``sending`` without its outcome recorded.

Everything that fails before DATA (connect, TLS, auth, MAIL/RCPT refusals, SMTP error codes)
is a definite non-delivery: retried with backoff up to ``mail.max_attempts``, then ``failed``
(visible to admins). Unexpected errors count as attempts too.

What cannot be known is never guessed: a row found in ``sending`` whose owner died, or whose
connection broke during DATA, becomes ``uncertain`` - it is NOT resent automatically (that
could deliver it twice); admins see it on the outbox page, /healthz counts it, the log names it,
and an admin may resend it. Rows merely ``claimed`` by a dead owner never reached SMTP and go
back to ``pending``. The ``Date`` header is set at send time; the Message-ID is the stored one.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import getaddresses
from pathlib import Path
from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy import Connection, and_, bindparam, func, or_, select, update

from ..extensions import db
from ..mail.transport import (
    FolderTransport,
    SendAborted,
    SmtpSettings,
    SmtpTransport,
    TransportError,
    restamp_date,
)
from ..models import Actor, OutboxMessage, utcnow
from ..settings import settings
from . import audit
from .errors import ServiceError
from .lease import Fence, LeaseLost

log = logging.getLogger(__name__)

MAX_ERROR = 1000
LIVE_CLAIM = ("claimed", "sending")
RESENDABLE = ("uncertain", "failed")


class OutboxError(ServiceError):
    """A refused admin action on the outbox."""

    messages = {
        "not_resendable": _l("Only messages whose delivery is uncertain or that failed can be "
                             "sent again."),
        "still_owned": _l("A dispatcher may still be sending this message; try again in a few "
                          "minutes."),
    }


@dataclass
class DispatchResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    uncertain: int = 0  # delivery unknown in this run (connection lost during DATA)
    recovered: int = 0  # claimed rows of a dead owner put back to pending
    flagged: int = 0  # sending rows of a dead owner flagged uncertain
    aborted: int = 0  # claim lost right before DATA: not sent by us
    lease_lost: bool = False
    commits: int = 0  # of the run's per-row writes: one per message (+1 per batch)


def make_transport(app: Flask) -> Any:
    """The configured transport: FolderTransport(instance/outbox) or SmtpTransport."""
    mail = settings(app).mail
    if mail.transport == "folder":
        return FolderTransport(Path(app.instance_path) / "outbox")
    return SmtpTransport(SmtpSettings(
        host=mail.smtp_host,
        port=mail.smtp_port,
        security=mail.smtp_security,
        username=mail.smtp_username or None,
        password=(mail.smtp_password or None) if mail.smtp_username else None,
        timeout=mail.smtp_timeout,
    ))


def claim_timeout() -> timedelta:
    """How long a claim may go without progress before its owner counts as dead."""
    return timedelta(seconds=settings().mail.claim_timeout_seconds)


def backoff(attempts: int, base_seconds: float) -> timedelta:
    """Exponential: base, 2*base, 4*base ... capped at one day."""
    return timedelta(seconds=min(base_seconds * 2 ** max(attempts - 1, 0), 86400))


def _orphaned(now: datetime, timeout: timedelta, epoch: int | None, column: Any) -> Any:
    """Claims whose owner is gone: too old, or made under an older scheduler leadership."""
    old = column < now - timeout
    if epoch is None:
        return old
    return or_(old, and_(OutboxMessage.claim_epoch.is_not(None),
                         OutboxMessage.claim_epoch < epoch))


def recover_stale(now: datetime, timeout: timedelta | None = None, *,
                  epoch: int | None = None, max_attempts: int | None = None) -> tuple[int, int]:
    """Clean up after dead workers; returns (put back to pending, flagged uncertain).

    'claimed' never reached SMTP: back to 'pending' (or 'failed' once ``max_attempts`` claims
    were used up - a row that keeps killing its worker must not loop forever). 'sending' was
    handed to SMTP: 'uncertain', never resent automatically."""
    timeout = timeout or claim_timeout()
    max_attempts = max_attempts or settings().mail.max_attempts
    m = OutboxMessage
    dead_claim = and_(m.status == "claimed", _orphaned(now, timeout, epoch, m.claimed_at))
    exhausted = db.session.execute(
        update(m).where(dead_claim, m.attempts >= max_attempts)
        .values(status="failed", claim_token=None,
                last_error="failed: the worker stopped before sending, too many times")
        .execution_options(synchronize_session=False)
    ).rowcount or 0  # type: ignore[attr-defined]  # a CursorResult
    back = db.session.execute(
        update(m).where(dead_claim)
        .values(status="pending", next_attempt_at=now, claim_token=None, claimed_by=None,
                claim_epoch=None,
                last_error="claim of a stopped worker released (never handed to SMTP)")
        .execution_options(synchronize_session=False)
    ).rowcount or 0  # type: ignore[attr-defined]  # a CursorResult
    dead_send = and_(m.status == "sending",
                     _orphaned(now, timeout, epoch, func.coalesce(m.handed_at, m.claimed_at)))
    flagged_ids = list(db.session.scalars(select(m.id).where(dead_send)))
    flagged = 0
    if flagged_ids:
        flagged = db.session.execute(
            update(m).where(m.id.in_(flagged_ids), m.status == "sending")
            .values(status="uncertain",
                    last_error="delivery unknown: the worker stopped while handing the message "
                               "to the SMTP server; not resent automatically")
            .execution_options(synchronize_session=False)
        ).rowcount or 0  # type: ignore[attr-defined]  # a CursorResult
    db.session.commit()
    for row_id in flagged_ids:
        log.error("outbox %s: delivery uncertain (worker stopped during SMTP DATA); "
                  "an admin must check and resend if needed", row_id)
    if exhausted:
        log.error("outbox: %d row(s) failed after repeatedly stopping their worker", exhausted)
    return back + exhausted, flagged


def claim(worker: str, batch: int, now: datetime, *, fence: Fence | None = None
          ) -> list[OutboxMessage]:
    """Atomically claim up to ``batch`` due rows; the claim (with a fresh token) is committed."""
    token = uuid.uuid4().hex
    q = (
        select(OutboxMessage.id)
        .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(batch)
    )
    if db.engine.dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    ids = list(db.session.scalars(q))
    if not ids:
        db.session.commit()
        return []
    cond = [OutboxMessage.id.in_(ids), OutboxMessage.status == "pending"]
    if fence is not None:
        cond.append(fence.condition(now))
    db.session.execute(
        update(OutboxMessage)
        .where(*cond)
        .values(status="claimed", claim_token=token, claimed_by=worker[:100], claimed_at=now,
                claim_epoch=fence.epoch if fence is not None else None, handed_at=None,
                attempts=OutboxMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.claim_token == token, OutboxMessage.status == "claimed")
            .order_by(OutboxMessage.id)
        )
    )


def _finish(row_id: int, token: str, states: tuple[str, ...], **values: Any) -> Any:
    """A fenced state change of one row (by its claim token), to run in a :class:`_Writer`."""
    return (update(OutboxMessage)
            .where(OutboxMessage.id == row_id, OutboxMessage.claim_token == token,
                   OutboxMessage.status.in_(states))
            .values(**values))


class _Writer:
    """The run's own row updates, on the one connection it holds: ONE commit per message.

    A message's ``sent`` is not committed on its own: it rides along with the next commit -
    the hand-over of the next message (right before its DATA), a failure, or the end of the
    batch. So at any moment at most one row is delivered-but-not-yet-recorded, and it is the
    row still ``sending``: a crash leaves that one row ``sending`` (then ``uncertain``, never
    resent), exactly as a crash during its DATA would. The updates wait in memory, not in an
    open transaction, so no lock is held while SMTP talks."""

    def __init__(self, conn: Connection, fence: Fence | None) -> None:
        self.conn = conn
        self.sent: list[tuple[int, str, datetime]] = []  # (row id, claim token, sent at)
        self.commits = 0
        # built once per run (bind parameters): no statement construction per message
        m = OutboxMessage
        self.mark_sent_stmt = update(m).where(
            m.id == bindparam("b_id"), m.claim_token == bindparam("b_token"),
            m.status.in_(("sending", "uncertain"))).values(
            status="sent", sent_at=bindparam("b_at"), last_error=None, claim_token=None)
        cond = [m.id == bindparam("b_id"), m.claim_token == bindparam("b_token"),
                m.status == "claimed"]
        if fence is not None:
            cond.append(fence.condition(bindparam("b_at")))
        self.hand_over_stmt = update(m).where(*cond).values(status="sending",
                                                             handed_at=bindparam("b_at"))

    def mark_sent(self, row_id: int, token: str, at: datetime) -> None:
        self.sent.append((row_id, token, at))

    def commit(self, *statements: Any) -> list[int]:
        """The waiting ``sent`` updates and ``statements`` (each a statement, or a statement
        and its parameters) in one transaction; returns the statements' row counts. On an
        error nothing is committed and the ``sent`` updates stay queued for the next commit."""
        if not statements and not self.sent:
            return []
        try:
            for row_id, token, at in self.sent:
                done = self.conn.execute(self.mark_sent_stmt,
                                         {"b_id": row_id, "b_token": token, "b_at": at}).rowcount
                if not done:
                    log.error("outbox %s: delivered, but the row changed meanwhile", row_id)
            counts = [self.conn.execute(*(s if isinstance(s, tuple) else (s,))).rowcount or 0
                      for s in statements]
            self.conn.commit()
        except BaseException:
            self.conn.rollback()
            raise
        self.sent.clear()
        self.commits += 1
        return counts


def _release(token: str) -> None:
    """Give back rows this run claimed but did not get to (time budget, lease lost)."""
    db.session.rollback()
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.claim_token == token, OutboxMessage.status == "claimed")
        .values(status="pending", claim_token=None, claimed_by=None, claim_epoch=None,
                attempts=OutboxMessage.attempts - 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


@dataclass(frozen=True)
class _Row:
    id: int
    token: str
    attempts: int
    raw: bytes
    recipients: tuple[str, ...]
    message_id: str
    kind: str


def _send_one(transport: Any, row: _Row, writer: _Writer, *, clock: Callable[[], datetime],
              fence: Fence | None, envelope_from: str, max_attempts: int, base: float,
              result: DispatchResult) -> None:
    """One row; its state changes go through ``writer`` (one commit for this row)."""
    handed = False

    def hand_over() -> bool:
        """claimed -> sending, committed (with the previous row's 'sent'), immediately
        before DATA: the fencing point."""
        nonlocal handed
        (n,) = writer.commit((writer.hand_over_stmt,
                              {"b_id": row.id, "b_token": row.token, "b_at": clock()}))
        handed = n == 1
        return handed

    def definite_failure(error: str, temporary: bool) -> None:
        states = ("sending", "uncertain") if handed else ("claimed",)
        if temporary and row.attempts < max_attempts:
            writer.commit(_finish(row.id, row.token, states, status="pending",
                                  claim_token=None, last_error=error,
                                  next_attempt_at=clock() + backoff(row.attempts, base)))
            result.retried += 1
            log.warning("outbox %s (%s): not delivered, retry %d/%d: %s", row.id, row.kind,
                        row.attempts, max_attempts, error)
        else:
            writer.commit(_finish(row.id, row.token, states, status="failed",
                                  claim_token=None, last_error=error))
            result.failed += 1
            log.error("outbox %s (%s): failed after %d attempt(s): %s", row.id, row.kind,
                      row.attempts, error)

    def unknown(error: str) -> None:
        # the owner is done with it: token cleared, so an admin may resend at once
        writer.commit(_finish(row.id, row.token, ("sending", "uncertain"), status="uncertain",
                              claim_token=None, last_error=error))
        result.uncertain += 1
        log.error("outbox %s (%s): delivery uncertain, not resent automatically: %s",
                  row.id, row.kind, error)

    data = restamp_date(row.raw, clock())
    try:
        msgid = transport.send_raw(data, envelope_from=envelope_from,
                                   recipients=list(row.recipients), before_data=hand_over)
    except SendAborted:
        result.aborted += 1
        log.info("outbox %s: claim lost before DATA (another worker owns it); not sent", row.id)
        return
    except TransportError as exc:
        error = repr(exc)[:MAX_ERROR]
        if exc.delivery_unknown:
            unknown(error)
        else:
            definite_failure(error, exc.temporary)
        return
    except Exception as exc:  # noqa: BLE001 - an unexpected error must not lose the row
        error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR]
        log.exception("outbox %s: unexpected error while sending", row.id)
        if handed:
            unknown(error)
        else:
            definite_failure(error, True)
        return
    if msgid and msgid != row.message_id:
        log.warning("outbox %s: transport reported Message-ID %s", row.id, msgid)
    writer.mark_sent(row.id, row.token, clock())  # committed with the next commit
    result.sent += 1


def dispatch_outbox(
    transport: Any,
    *,
    worker: str,
    batch: int | None = None,
    now: datetime | None = None,
    fence: Fence | None = None,
    budget_seconds: float | None = None,
    max_batches: int | None = None,
) -> DispatchResult:
    """Send due outbox rows, batch after batch, until none is due, the time budget is used
    or the lease is lost. Commits per step (this is a job-level function)."""
    cfg = settings().mail
    clock: Callable[[], datetime] = (lambda: now) if now is not None else utcnow
    batch = batch or cfg.dispatch_batch
    max_attempts = cfg.max_attempts
    base = cfg.retry_base_seconds
    budget = budget_seconds if budget_seconds is not None else cfg.dispatch_budget_seconds
    envelope_from = cfg.from_address
    result = DispatchResult()
    result.recovered, result.flagged = recover_stale(
        clock(), epoch=fence.epoch if fence is not None else None, max_attempts=max_attempts)
    deadline = time.monotonic() + budget
    with db.engine.connect() as conn:
        writer = _Writer(conn, fence)
        _dispatch_batches(transport, writer, worker=worker, batch=batch, clock=clock,
                          fence=fence, envelope_from=envelope_from, max_attempts=max_attempts,
                          base=base, deadline=deadline, max_batches=max_batches, result=result)
    result.commits = writer.commits
    return result


def _dispatch_batches(transport: Any, writer: _Writer, *, worker: str, batch: int,
                      clock: Callable[[], datetime], fence: Fence | None, envelope_from: str,
                      max_attempts: int, base: float, deadline: float,
                      max_batches: int | None, result: DispatchResult) -> None:
    batches = 0
    while time.monotonic() < deadline and (max_batches is None or batches < max_batches):
        try:
            if fence is not None:
                fence.check()
            rows = claim(worker, batch, clock(), fence=fence)
        except LeaseLost:
            result.lease_lost = True
            break
        if not rows:
            break
        batches += 1
        token = rows[0].claim_token or ""
        todo = [
            _Row(r.id, r.claim_token or "", r.attempts, r.raw,
                 tuple(a for _, a in getaddresses([r.recipient]) if a), r.message_id, r.kind)
            for r in rows
        ]
        for r in rows:  # their state lives in the database from here on
            db.session.expunge(r)
        try:
            for row in todo:
                if time.monotonic() >= deadline:
                    break
                if fence is not None:
                    fence.check()
                _send_one(transport, row, writer, clock=clock, fence=fence,
                          envelope_from=envelope_from, max_attempts=max_attempts, base=base,
                          result=result)
        except LeaseLost:
            result.lease_lost = True
            log.warning("dispatch stopped: scheduler lease lost")
        finally:
            try:  # the last row's 'sent' (it was delivered: recorded even without the lease)
                writer.commit()
            except Exception:  # noqa: BLE001 - that row stays 'sending', then 'uncertain'
                log.exception("outbox: recording the last delivery failed")
            _release(token)
        if result.lease_lost:
            break


# --------------------------------------------------------------------------- admin side


def outbox_counts() -> dict[str, int]:
    """Rows per state (for /healthz and the outbox page)."""
    rows = db.session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))
    counts = {state: 0 for state in ("pending", "claimed", "sending", "sent", "failed",
                                     "uncertain")}
    counts.update({status: int(n) for status, n in rows})
    return counts


def resend(row: OutboxMessage, *, actor: Actor, now: datetime | None = None) -> OutboxMessage:
    """An admin decided an uncertain or failed row must go (again). Flushes.

    An uncertain row still owned by a possibly living worker (its claim is fresh) is refused
    until the claim timeout passed: the owner may yet learn the outcome."""
    now = now or utcnow()
    if row.status not in RESENDABLE:
        raise OutboxError("not_resendable")
    if row.status == "uncertain" and row.claim_token is not None:
        handed = row.handed_at or row.claimed_at or now
        if handed > now - claim_timeout():
            raise OutboxError("still_owned")
    previous = row.status
    row.status, row.attempts, row.next_attempt_at = "pending", 0, now
    row.claim_token = row.claimed_by = row.claim_epoch = None
    row.last_error = None
    db.session.flush()
    audit.record(actor, "outbox.resend", row, previous=previous, kind=row.kind,
                 message_id=row.message_id)
    log.warning("outbox %s: resend requested by user %s (was %s)", row.id,
                getattr(actor, "id", None), previous)
    return row
