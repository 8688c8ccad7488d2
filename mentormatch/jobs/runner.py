"""The scheduler process (``mentormatch scheduler``), or a background thread for the demo.

Every job run: push an app context, take or renew the lease (only the leader works), run the
job under a :class:`~mentormatch.services.lease.Fence` (jobs that accept ``fence`` re-check it
between units of work, and the outbox dispatch repeats it in its claims, so a job that
outlives the lease stops), log any exception and carry on - a failing job never stops the
scheduler. Never started inside ``create_app``.
"""

from __future__ import annotations

import inspect
import logging
import os
import socket
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from ..extensions import db
from ..models import utcnow
from ..services.lease import Fence, LeaseGrant, LeaseLost, acquire, release
from ..settings import settings
from . import JOBS, Job
from .leader import AdvisoryLeadership, Lock

log = logging.getLogger(__name__)


def make_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _ttl(app: Flask) -> timedelta:
    return timedelta(seconds=settings(app).scheduler.lease_seconds)


def _accepts(func: Callable[..., Any], name: str) -> bool:
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins
        return False
    return name in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def lead(app: Flask, holder: str, leadership: AdvisoryLeadership | None, *,
         now: datetime | None = None) -> LeaseGrant | None:
    """Take or renew the lease; on PostgreSQL a newly won advisory lock takes it over at once
    (the previous holder's connection is gone), and a lock whose lease someone else now holds
    is given up (this process was frozen past its lease: it stands by)."""
    if leadership is None:
        return acquire(holder, _ttl(app), now=now)
    with leadership.deciding:
        state = leadership.poll()
        grant = acquire(holder, _ttl(app), now=now, take_over=state is Lock.FRESH)
        if state is Lock.FRESH and grant is not None:
            log.info("scheduler %s leads (advisory lock won), epoch %d", holder, grant.epoch)
        if grant is None and state is not Lock.NONE:
            leadership.release()
        return grant


def run_job(app: Flask, job: Job, holder: str, *, now: datetime | None = None,
            leadership: AdvisoryLeadership | None = None) -> Any:
    """Run one job if ``holder`` leads. Returns the job's result, or None (not leader/failed)."""
    with app.app_context():
        try:
            grant = lead(app, holder, leadership, now=now)
            if grant is None:
                return None
            fence = Fence(grant, clock=(lambda: now) if now is not None else utcnow)
            kwargs = dict(job.kwargs)
            if _accepts(job.func, "worker"):
                kwargs.setdefault("worker", holder)
            if _accepts(job.func, "fence"):
                kwargs.setdefault("fence", fence)
            return job.func(now, **kwargs)
        except LeaseLost:
            log.warning("scheduler job %s stopped: the lease was lost", job.id)
            db.session.rollback()
            return None
        except Exception:
            log.exception("scheduler job %s failed", job.id)
            db.session.rollback()
            return None
        finally:
            db.session.remove()


def _interval(app: Flask, job: Job) -> float:
    if job.interval_key:
        section, key = job.interval_key
        value = getattr(getattr(settings(app), section), key)
        if value:
            return float(value)
    return float(job.seconds)


def build_scheduler(app: Flask, *, in_process: bool = False, holder: str | None = None):
    holder = holder or make_holder()
    cls = BackgroundScheduler if in_process else BlockingScheduler
    scheduler = cls(timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1,
                                                "misfire_grace_time": 300})

    with app.app_context():
        leadership = AdvisoryLeadership.for_engine(db.engine)

    def wrap(job: Job) -> Callable[[], Any]:
        return lambda: run_job(app, job, holder, leadership=leadership)

    for job in JOBS:
        scheduler.add_job(wrap(job), "interval", seconds=_interval(app, job), id=job.id,
                          name=job.id, replace_existing=True,
                          next_run_time=datetime.now(UTC))
    if leadership is not None:
        def watch() -> None:
            """A standby polls the lock often; when it wins, every job runs now."""
            if leadership.held:
                return
            with app.app_context():
                try:
                    if lead(app, holder, leadership) is not None:
                        for job in JOBS:
                            scheduler.modify_job(job.id, next_run_time=datetime.now(UTC))
                except Exception:  # noqa: BLE001 - the next poll tries again
                    log.exception("scheduler leadership poll failed")
                    db.session.rollback()
                finally:
                    db.session.remove()

        poll = settings(app).scheduler.leader_poll_seconds
        scheduler.add_job(watch, "interval", seconds=poll, id="leadership", name="leadership",
                          replace_existing=True)
    scheduler.mm_holder = holder  # type: ignore[attr-defined]
    scheduler.mm_leadership = leadership  # type: ignore[attr-defined]
    return scheduler


def run_scheduler(app: Flask, *, in_process: bool = False, holder: str | None = None):
    """Start the scheduler. ``in_process=True`` (demo): a background thread, returned at once.
    Otherwise block until interrupted (Ctrl-C or SIGTERM), then give up the lease so a standby
    takes over at once."""
    scheduler = build_scheduler(app, in_process=in_process, holder=holder)
    holder = scheduler.mm_holder
    if in_process:
        log.info("scheduler %s starting in-process (%d jobs)", holder, len(JOBS))
        scheduler.start()
        return scheduler
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log.info("scheduler %s starting (%d jobs)", holder, len(JOBS))
    import signal

    def _stop(signum: int, frame: Any) -> None:
        log.info("scheduler %s: signal %d, stopping", holder, signum)
        scheduler.shutdown(wait=False)

    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        with app.app_context():
            try:
                release(holder)
            except Exception:  # noqa: BLE001 - best effort at shutdown
                log.exception("could not release the scheduler lease")
            finally:
                db.session.remove()
                if scheduler.mm_leadership is not None:
                    scheduler.mm_leadership.release()
                from . import solve_pool

                solve_pool.shutdown()
    return scheduler
