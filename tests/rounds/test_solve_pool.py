"""Solves under the scheduler run in a worker process: the scheduler's own interpreter stays
free for mail dispatch and the other jobs, and a solve process that dies is recovered at once
like a stalled one (failed, re-runnable), with a fresh process for the next solve."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from mentormatch.extensions import db
from mentormatch.jobs import JOBS, solve_pool
from mentormatch.jobs.runner import run_job
from mentormatch.models import AuditLog, Round
from mentormatch.services import rounds
from tests.helpers import set_settings
from tests.rounds.test_rounds import setup_programme

# times itself or runs several servers: scripts/test runs it alone, after the parallel part
pytestmark = pytest.mark.serial


def _status(rid: int) -> Round:
    db.session.expire_all()
    return db.session.get(Round, rid)


def test_scheduler_solves_in_a_worker_process_and_survives_its_death(app, backend):
    if backend != "sqlite":
        pytest.skip("process handling is the same on every database; spawning is slow")
    set_settings(app, rounds={"solve_processes": 1})  # the product default (tests: 0)
    coord, prog, _, _ = setup_programme()
    rnd = rounds.create(prog, coord, name="R")
    rounds.queue(rnd, coord)
    db.session.commit()
    job = next(j for j in JOBS if j.id == "run_solves")
    assert run_job(app, job, "scheduler-test") == 1
    assert _status(rnd.id).status == "solved"
    (child,) = solve_pool.worker_pids()
    assert child != os.getpid()

    # the solve process dies under the next solve (kill -9): the round fails at once as
    # "worker stopped" - no waiting for the heartbeat to go stale - and can run again
    rounds.queue(_status(rnd.id), coord)
    db.session.commit()
    claimed = rounds.claim_next("scheduler-test")
    assert claimed is not None
    killer = threading.Timer(0.0, os.kill, (child, signal.SIGKILL))
    killer.start()
    t0 = time.monotonic()
    assert solve_pool.solve(app, *claimed) == "failed"
    assert time.monotonic() - t0 < 30
    killer.join()
    failed = _status(rnd.id)
    assert (failed.status, failed.error) == ("failed", "worker_stopped")
    assert db.session.query(AuditLog).filter_by(action="round.failed").count() == 1

    rounds.queue(failed, coord)
    db.session.commit()
    assert run_job(app, job, "scheduler-test") == 1
    assert _status(rnd.id).status == "solved"
    assert solve_pool.worker_pids() and solve_pool.worker_pids()[0] != child
    solve_pool.shutdown()
