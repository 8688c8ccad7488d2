"""Long solves in their own process, so the scheduler's other jobs keep their pace.

A national solve runs for minutes, most of it Python (building the instance, the flow, the
checks) that would hold the interpreter lock of the scheduler process and starve mail
dispatch, reminders and inbox polling. The ``run_solves`` job, when run by the scheduler,
claims a round as before (the conditional UPDATE, the heartbeat, the claim token) and hands
the solve to a small pool of worker processes (``[rounds] solve_processes``, 0 = solve in the
scheduler's own thread); its thread waits for the result while the other jobs run freely.

A worker process that dies (killed, out of memory, a crash in native code) breaks the pool:
the round it held is failed at once as ``worker_stopped`` - exactly what the stalled-heartbeat
recovery does later for a dead scheduler - and the next solve gets a fresh pool.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import NamedTuple

from flask import Flask

from ..settings import Settings, settings

log = logging.getLogger(__name__)

_lock = threading.Lock()
_executor: ProcessPoolExecutor | None = None
_settings: Settings | None = None  # what the pool's processes were started with


def processes(app: Flask) -> int:
    return settings(app).rounds.solve_processes


class SolveWorker(NamedTuple):
    """The worker process's entry points, module-level functions the spawned process gets by
    name: ``init`` builds the process's app from the settings, ``solve`` solves one claimed
    round in it. They build the whole app, so they live above the layers
    (``mentormatch/worker.py``) and the app registers them here."""

    init: Callable[[Settings], None]
    solve: Callable[[int, str], str]


_EXTENSION = "mentormatch.solve_worker"


def register(app: Flask, worker: SolveWorker) -> None:
    app.extensions[_EXTENSION] = worker


def _worker(app: Flask) -> SolveWorker:
    worker: SolveWorker = app.extensions[_EXTENSION]
    return worker


def executor(app: Flask) -> ProcessPoolExecutor:
    """The pool (started on first use; spawned, never forked from a threaded process)."""
    global _executor, _settings
    with _lock:
        typed = settings(app)
        if _executor is not None and _settings != typed:
            _executor.shutdown(wait=False, cancel_futures=True)  # another app (tests)
            _executor = None
        if _executor is None:
            _settings = typed
            _executor = ProcessPoolExecutor(
                max_workers=max(1, processes(app)),
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_worker(app).init, initargs=(typed,))
        return _executor


def worker_pids() -> list[int]:
    with _lock:
        procs = getattr(_executor, "_processes", None) or {}
        return [p.pid for p in procs.values() if p.pid is not None]


def solve(app: Flask, round_id: int, token: str) -> str:
    """Solve a claimed round in a worker process; returns solved | failed | abandoned."""
    global _executor
    pool = executor(app)
    try:
        return pool.submit(_worker(app).solve, round_id, token).result()
    except BrokenProcessPool:
        log.error("the solve process of round %s died; the round is failed and re-runnable",
                  round_id)
        with _lock:
            if _executor is pool:
                _executor = None
        pool.shutdown(wait=False, cancel_futures=True)
        from ..services import rounds

        rounds.fail_dead_solve(round_id, token)
        return "failed"


def shutdown() -> None:
    """Stop the pool at scheduler shutdown; a solve cut short is recovered as stalled."""
    global _executor
    with _lock:
        pool, _executor = _executor, None
    if pool is None:
        return
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        proc.terminate()
    pool.shutdown(wait=False, cancel_futures=True)


__all__ = ["SolveWorker", "executor", "register", "processes", "shutdown", "solve", "worker_pids"]
