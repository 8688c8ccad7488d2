"""Scheduler leadership through one lease row: only the holder runs jobs.

``acquire_or_renew`` is a single conditional ``UPDATE`` (take the row when it has expired or
is already ours); when the row does not exist yet it is inserted, and a concurrent insert by
another process (unique primary key) simply means we lost. A holder that dies stops renewing,
its lease expires after ``ttl`` and the next process to ask takes over.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, update
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import SchedulerLease, utcnow

DEFAULT_NAME = "scheduler"


def acquire_or_renew(holder: str, ttl: timedelta | float, *, name: str = DEFAULT_NAME,
                     now: datetime | None = None) -> bool:
    """True when ``holder`` leads until ``now + ttl``. Commits its own small transaction."""
    now = now or utcnow()
    ttl = ttl if isinstance(ttl, timedelta) else timedelta(seconds=ttl)
    if _take(holder, ttl, name, now):
        return True
    if db.session.get(SchedulerLease, name) is not None:
        return False
    try:
        db.session.add(SchedulerLease(name=name, holder=holder, expires_at=now + ttl,
                                      heartbeat_at=now))
        db.session.commit()
    except IntegrityError:
        # Someone inserted it first - maybe another thread of this very holder: ask again.
        db.session.rollback()
        return _take(holder, ttl, name, now)
    return True


def _take(holder: str, ttl: timedelta, name: str, now: datetime) -> bool:
    res = db.session.execute(
        update(SchedulerLease)
        .where(SchedulerLease.name == name,
               or_(SchedulerLease.expires_at < now, SchedulerLease.holder == holder))
        .values(holder=holder, expires_at=now + ttl, heartbeat_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return res.rowcount == 1


def release(holder: str, *, name: str = DEFAULT_NAME) -> None:
    """Give up the lease at a clean shutdown so a standby takes over at once."""
    db.session.execute(
        delete(SchedulerLease).where(SchedulerLease.name == name, SchedulerLease.holder == holder)
    )
    db.session.commit()


def current_holder(*, name: str = DEFAULT_NAME, now: datetime | None = None) -> str | None:
    now = now or utcnow()
    db.session.expire_all()
    row = db.session.get(SchedulerLease, name)
    return row.holder if row is not None and row.expires_at >= now else None
