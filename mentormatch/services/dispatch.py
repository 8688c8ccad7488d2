"""Send committed outbox rows: claim, send the stored bytes, record the outcome.

Delivery guarantee - at-least-once with a stable Message-ID, honestly stated:

* A row is claimed atomically (``pending -> sending``; on PostgreSQL the candidates are picked
  with ``SELECT ... FOR UPDATE SKIP LOCKED``, everywhere the claiming ``UPDATE`` repeats
  ``status='pending'`` so two workers can never both claim one row) and the claim is committed
  before anything is sent.
* After a successful SMTP transaction the row is marked ``sent`` and committed at once, row by
  row, so at most the one message in flight is ever in doubt.
* A worker that dies between handing the message to the server and committing ``sent`` leaves
  the row in ``sending``. Once its claim is older than the lease it is put back to ``pending``
  and sent again - with the SAME stored bytes and therefore the SAME ``Message-ID``. A row
  already marked ``sent`` is never touched again. So in that one crash window the recipient
  may get a second copy that mail clients and calendar clients de-duplicate by Message-ID /
  UID+SEQUENCE; without it the message could be lost. We choose "maybe twice, same id" over
  "maybe never". The same holds for ``TransportError.delivery_unknown`` (the connection broke
  after DATA): the row is retried with the same id.
"""

from __future__ import annotations

import logging
import os
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import getaddresses
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from sqlalchemy import select, update

from ..extensions import db
from ..mail.transport import FolderTransport, SmtpSettings, SmtpTransport, TransportError
from ..models import OutboxMessage, utcnow

log = logging.getLogger(__name__)

MAX_ERROR = 1000


@dataclass
class DispatchResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    recovered: int = 0


def make_transport(app: Flask) -> Any:
    """The configured transport: FolderTransport(instance/outbox) or SmtpTransport."""
    mail = app.config["MM"]["mail"]
    if mail.get("transport", "folder") == "folder":
        return FolderTransport(Path(app.instance_path) / "outbox")
    password = os.environ.get("MENTORMATCH_SMTP_PASSWORD") or None
    settings = SmtpSettings(
        host=mail["smtp_host"],
        port=int(mail["smtp_port"]),
        security=mail.get("smtp_security", "none"),
        username=mail.get("smtp_username") or None,
        password=password if mail.get("smtp_username") else None,
        timeout=float(mail.get("smtp_timeout", 30)),
    )
    return SmtpTransport(settings)


def _mail_config() -> dict[str, Any]:
    try:
        return current_app.config["MM"]["mail"]
    except (RuntimeError, KeyError):  # pragma: no cover - outside an app
        return {}


def backoff(attempts: int, base_seconds: float) -> timedelta:
    """Exponential: base, 2*base, 4*base ... capped at one day."""
    return timedelta(seconds=min(base_seconds * 2 ** max(attempts - 1, 0), 86400))


def recover_stale(now: datetime, lease: timedelta) -> int:
    """Put rows left in 'sending' by a dead worker back to 'pending' (never 'sent' rows)."""
    res = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == "sending", OutboxMessage.claimed_at < now - lease)
        .values(status="pending", next_attempt_at=now, claimed_by=None,
                last_error="recovered after an interrupted dispatch (resent, same Message-ID)")
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return res.rowcount or 0


def claim(worker: str, batch: int, now: datetime) -> list[OutboxMessage]:
    """Atomically claim up to ``batch`` due rows for this worker; the claim is committed."""
    token = f"{worker[:80]}#{uuid.uuid4().hex[:12]}"
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
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.status == "pending")
        .values(status="sending", claimed_by=token, claimed_at=now,
                attempts=OutboxMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.claimed_by == token, OutboxMessage.status == "sending")
            .order_by(OutboxMessage.id)
        )
    )


def _finish(row_id: int, token: str | None, **values: Any) -> None:
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id, OutboxMessage.status == "sending",
               OutboxMessage.claimed_by == token)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def dispatch_outbox(
    transport: Any,
    *,
    worker: str,
    batch: int | None = None,
    now: datetime | None = None,
    lease: timedelta | None = None,
) -> DispatchResult:
    """Send due outbox rows. Commits per row (this is a job-level function)."""
    cfg = _mail_config()
    now = now or utcnow()
    batch = batch or int(cfg.get("dispatch_batch", 200))
    max_attempts = int(cfg.get("max_attempts", 8))
    base = float(cfg.get("retry_base_seconds", 30))
    lease = lease or timedelta(seconds=300)
    envelope_from = cfg.get("from_address", "mentormatch@localhost")
    result = DispatchResult(recovered=recover_stale(now, lease))
    rows = claim(worker, batch, now)
    for row in rows:
        row_id, token, attempts = row.id, row.claimed_by, row.attempts
        raw, recipients = row.raw, [a for _, a in getaddresses([row.recipient]) if a]
        try:
            msgid = transport.send_raw(raw, envelope_from=envelope_from, recipients=recipients)
        except TransportError as exc:
            error = repr(exc)[:MAX_ERROR]
            if exc.temporary and attempts < max_attempts:
                _finish(row_id, token, status="pending", claimed_by=None, last_error=error,
                        next_attempt_at=now + backoff(attempts, base))
                result.retried += 1
                log.warning("outbox %s: temporary failure, retrying: %s", row_id, error)
            else:
                _finish(row_id, token, status="failed", last_error=error)
                result.failed += 1
                log.error("outbox %s: failed: %s", row_id, error)
            continue
        except Exception as exc:  # noqa: BLE001 - an unexpected error must not lose the row
            error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR]
            _finish(row_id, token, status="pending", claimed_by=None, last_error=error,
                    next_attempt_at=now + backoff(attempts, base))
            result.retried += 1
            log.exception("outbox %s: unexpected error", row_id)
            continue
        values: dict[str, Any] = {"status": "sent", "sent_at": utcnow(), "last_error": None}
        if msgid and msgid != row.message_id:
            log.warning("outbox %s: transport reported Message-ID %s", row_id, msgid)
        _finish(row_id, token, **values)
        result.sent += 1
    return result
