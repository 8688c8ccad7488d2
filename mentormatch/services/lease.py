"""Scheduler leadership through one lease row, with a fencing token.

``acquire`` renews the lease when the caller still holds it (same ``epoch``), or takes it over
when it has expired (``epoch + 1``: a new leadership, even for the same holder); when the row
does not exist yet it is inserted, and a concurrent insert by another process (unique primary
key) simply means we lost. A holder that dies stops renewing, its lease expires after ``ttl``
and the next process to ask takes over.

The epoch is what makes a stalled former leader harmless: a :class:`Fence` carries the epoch it
was granted, renews while the job runs, and offers a SQL condition that writes made for the
leader (outbox claims before SMTP DATA) repeat, so they fail once anyone else has led since.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, exists, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import SchedulerLease, utcnow

DEFAULT_NAME = "scheduler"


class LeaseLost(RuntimeError):
    """This process no longer leads (expired, or someone else took over): stop working."""


@dataclass(frozen=True)
class LeaseGrant:
    name: str
    holder: str
    epoch: int
    expires_at: datetime
    ttl: timedelta


def _as_ttl(ttl: timedelta | float) -> timedelta:
    return ttl if isinstance(ttl, timedelta) else timedelta(seconds=ttl)


def acquire(holder: str, ttl: timedelta | float, *, name: str = DEFAULT_NAME,
            now: datetime | None = None, take_over: bool = False) -> LeaseGrant | None:
    """The grant when ``holder`` leads until ``now + ttl``, else None. Commits.
    ``take_over``: take the lease even before it expires (the caller knows the holder is
    dead: it just got the PostgreSQL advisory lock, see ``leader.py``); the epoch grows."""
    now = now or utcnow()
    ttl = _as_ttl(ttl)
    lease = SchedulerLease.__table__.c
    renewed = db.session.execute(
        update(SchedulerLease)
        .where(lease.name == name, lease.holder == holder, lease.expires_at >= now)
        .values(expires_at=now + ttl, heartbeat_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]  # a CursorResult
    if renewed != 1:
        taken = db.session.execute(
            update(SchedulerLease)
            .where(lease.name == name, *(() if take_over else (lease.expires_at < now,)))
            .values(holder=holder, expires_at=now + ttl, heartbeat_at=now,
                    epoch=lease.epoch + 1)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]  # a CursorResult
        if taken != 1:
            exists_now = db.session.scalar(select(lease.name).where(lease.name == name))
            if exists_now is not None:
                db.session.commit()
                return None
            try:
                db.session.execute(insert(SchedulerLease).values(
                    name=name, holder=holder, expires_at=now + ttl, heartbeat_at=now, epoch=1))
                db.session.commit()
            except IntegrityError:
                # someone inserted it first - maybe another thread of this very holder
                db.session.rollback()
                return acquire(holder, ttl, name=name, now=now)
            return LeaseGrant(name, holder, 1, now + ttl, ttl)
    epoch = db.session.scalar(
        select(lease.epoch).where(lease.name == name, lease.holder == holder))
    db.session.commit()
    if epoch is None:  # pragma: no cover - the row is ours inside this transaction
        return None
    return LeaseGrant(name, holder, int(epoch), now + ttl, ttl)


def acquire_or_renew(holder: str, ttl: timedelta | float, *, name: str = DEFAULT_NAME,
                     now: datetime | None = None) -> bool:
    """True when ``holder`` leads until ``now + ttl``. Commits its own small transaction."""
    return acquire(holder, ttl, name=name, now=now) is not None


class Fence:
    """The lease a job runs under. ``check()`` between units of work renews the lease when a
    third of its time has passed and raises :class:`LeaseLost` when it is gone; ``condition``
    is the SQL the leader's own writes repeat. ``check`` commits the session: call it only
    at unit boundaries."""

    def __init__(self, grant: LeaseGrant, clock: Callable[[], datetime] = utcnow) -> None:
        self.grant = grant
        self.clock = clock
        self.expires_at = grant.expires_at

    @property
    def holder(self) -> str:
        return self.grant.holder

    @property
    def epoch(self) -> int:
        return self.grant.epoch

    def condition(self, now: datetime | ColumnElement[Any] | None = None
                  ) -> ColumnElement[bool]:
        """``now`` may be a bind parameter (a statement built once, run per message)."""
        lease = SchedulerLease.__table__.c
        return exists().where(lease.name == self.grant.name, lease.holder == self.grant.holder,
                              lease.epoch == self.grant.epoch,
                              lease.expires_at > (self.clock() if now is None else now))

    def check(self) -> None:
        """Renew when a third of the lease time has passed since this fence last saw it
        renewed. Other jobs of the same process renew the same lease (same epoch), so even
        past its own view of the expiry the database decides: LeaseLost only when the lease
        really lapsed or changed hands."""
        now = self.clock()
        if self.expires_at - now < self.grant.ttl * 2 / 3:
            self.renew(now)

    def renew(self, now: datetime | None = None) -> None:
        now = now or self.clock()
        lease = SchedulerLease.__table__.c
        res = db.session.execute(
            update(SchedulerLease)
            .where(lease.name == self.grant.name, lease.holder == self.grant.holder,
                   lease.epoch == self.grant.epoch, lease.expires_at > now)
            .values(expires_at=now + self.grant.ttl, heartbeat_at=now)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        if res.rowcount != 1:  # type: ignore[attr-defined]  # a CursorResult
            raise LeaseLost(f"lease {self.grant.name} epoch {self.epoch} was taken over")
        self.expires_at = now + self.grant.ttl


def current_epoch(*, name: str = DEFAULT_NAME) -> int | None:
    return db.session.scalar(select(SchedulerLease.epoch).where(SchedulerLease.name == name))


def release(holder: str, *, name: str = DEFAULT_NAME) -> None:
    """Give up the lease at a clean shutdown so a standby takes over at once. The row is kept
    (expired now) so the epoch keeps growing and no old claim can ever match a new leader."""
    lease = SchedulerLease.__table__.c
    db.session.execute(
        update(SchedulerLease)
        .where(lease.name == name, lease.holder == holder)
        .values(expires_at=utcnow() - timedelta(seconds=1))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def current_holder(*, name: str = DEFAULT_NAME, now: datetime | None = None) -> str | None:
    now = now or utcnow()
    db.session.expire_all()
    row = db.session.get(SchedulerLease, name)
    return row.holder if row is not None and row.expires_at >= now else None


__all__ = ["DEFAULT_NAME", "Fence", "LeaseGrant", "LeaseLost", "acquire", "acquire_or_renew",
           "current_epoch", "current_holder", "release"]
