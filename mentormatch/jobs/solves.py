"""The solve job: the worker side of matching rounds.

A request only records a queued round; this job (run by the scheduler process, or by the
in-process scheduler of the demo) first fails rounds whose solve stopped beating (a killed or
crashed worker: they become re-runnable), then claims queued rounds one at a time with a
conditional UPDATE (two schedulers never run the same round) and solves each in full: the
proposals and the status change are written in one transaction.
"""

from __future__ import annotations

import socket
from datetime import datetime
from typing import Any

from ..services import rounds
from ..services.lease import LeaseLost


def run_solves(now: datetime | None = None, *, worker: str | None = None,
               fence: Any = None, limit: int | None = None, pool: bool | None = None) -> int:
    """Recover stalled solves, then solve queued rounds until none is left (or ``limit``, or
    the scheduler lease is gone). Returns how many rounds this run solved or failed.
    Under the scheduler (``fence`` given) each solve runs in a worker process
    (``[rounds] solve_processes``, see solve_pool.py); ``pool`` forces either way."""
    from flask import current_app

    from . import solve_pool

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if pool is None:
        pool = fence is not None and solve_pool.processes(app) > 0
    rounds.recover_stalled(now)
    name = worker or f"{socket.gethostname()}:solves"
    done = 0
    while limit is None or done < limit:
        if fence is not None:
            try:
                fence.check()  # a unit boundary: still the leader?
            except LeaseLost:
                break  # a long solve outlived the lease; the next run takes over
        claimed = rounds.claim_next(name)
        if claimed is None:
            break
        if pool:
            solve_pool.solve(app, *claimed)
        else:
            rounds.solve_claimed(*claimed)
        done += 1
    return done
