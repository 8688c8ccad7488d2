"""The scheduler process (``mentormatch scheduler``), or a background thread for the demo.

Every job run: push an app context, check/renew the lease (only the leader works), run the job
(which commits per unit of work), log any exception and carry on - a failing job never stops
the scheduler. Never started inside ``create_app``.
"""

from __future__ import annotations

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
from . import JOBS, Job
from .lease import acquire_or_renew, release

log = logging.getLogger(__name__)


def make_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _ttl(app: Flask) -> timedelta:
    return timedelta(seconds=int(app.config["MM"]["scheduler"]["lease_seconds"]))


def run_job(app: Flask, job: Job, holder: str, *, now: datetime | None = None) -> Any:
    """Run one job if ``holder`` leads. Returns the job's result, or None (not leader/failed)."""
    with app.app_context():
        try:
            if not acquire_or_renew(holder, _ttl(app), now=now):
                return None
            if job.id == "dispatch_outbox":
                return job.func(now, worker=holder, **job.kwargs)
            return job.func(now, **job.kwargs)
        except Exception:
            log.exception("scheduler job %s failed", job.id)
            db.session.rollback()
            return None
        finally:
            db.session.remove()


def run_all_once(app: Flask, holder: str, *, now: datetime | None = None,
                 only: tuple[str, ...] | None = None) -> dict[str, Any]:
    """Every job once, in list order (tests, `mentormatch scheduler --once`)."""
    return {j.id: run_job(app, j, holder, now=now) for j in JOBS if not only or j.id in only}


def _interval(app: Flask, job: Job) -> int:
    if job.interval_key:
        section, key = job.interval_key
        value = app.config["MM"].get(section, {}).get(key)
        if value:
            return int(value)
    return job.seconds


def build_scheduler(app: Flask, *, in_process: bool = False, holder: str | None = None):
    holder = holder or make_holder()
    cls = BackgroundScheduler if in_process else BlockingScheduler
    scheduler = cls(timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1,
                                                "misfire_grace_time": 300})

    def wrap(job: Job) -> Callable[[], Any]:
        return lambda: run_job(app, job, holder)

    for job in JOBS:
        scheduler.add_job(wrap(job), "interval", seconds=_interval(app, job), id=job.id,
                          name=job.id, replace_existing=True,
                          next_run_time=datetime.now(UTC))
    scheduler.mm_holder = holder  # type: ignore[attr-defined]
    return scheduler


def run_scheduler(app: Flask, *, in_process: bool = False, holder: str | None = None):
    """Start the scheduler. ``in_process=True`` (demo): a background thread, returned at once.
    Otherwise block until interrupted, then give up the lease so a standby takes over."""
    scheduler = build_scheduler(app, in_process=in_process, holder=holder)
    holder = scheduler.mm_holder
    log.info("scheduler %s starting (%d jobs)", holder, len(JOBS))
    if in_process:
        scheduler.start()
        return scheduler
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        with app.app_context():
            try:
                release(holder)
            except Exception:  # noqa: BLE001 - best effort at shutdown
                log.exception("could not release the scheduler lease")
            finally:
                db.session.remove()
    return scheduler
