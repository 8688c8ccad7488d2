"""Mail dispatch pace while a large round is being solved, against the pace when idle.

    python bench/solve_dispatch_bench.py [--pg] [--mentees 4000] [--messages 1500] [--inline]

Seeds the approve bench's people and a draft round of N mentees (not timed), and an outbox of
invite-shaped messages; an aiosmtpd server runs in its own process on 127.0.0.1. Then, as the
scheduler does (``run_job``: lease, fence): (1) the dispatch job sends one half of the outbox
with nothing else running - the idle pace; (2) the round is queued, the ``run_solves`` job starts
in another scheduler thread, and the dispatch job sends the other half while the solve runs.
By default the solve runs in a worker process (``[rounds] solve_processes = 1``); ``--inline``
solves in the scheduler's own thread, as before, for comparison. Prints both paces, their ratio
(goal: >= 80 %) and whether the solve was still running when the dispatch finished (else the
figure is not "during a solve": raise --mentees), and the load average.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for p in (str(ROOT), str(ROOT / "bench")):
    if p not in sys.path:
        sys.path.insert(0, p)

from approve_bench import seed  # noqa: E402
from bench_db import database  # noqa: E402
from mail_bench import _serve, invite  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pg", action="store_true")
    ap.add_argument("--mentees", type=int, default=4000)
    ap.add_argument("--messages", type=int, default=1500, help="per phase")
    ap.add_argument("--inline", action="store_true", help="solve in the scheduler's thread")
    args = ap.parse_args(argv)
    if not 10 <= args.mentees <= 20_000 or not 10 <= args.messages <= 20_000:
        ap.error("--mentees and --messages: 10..20000")

    from sqlalchemy import func, select

    from mentormatch import create_app
    from mentormatch.extensions import db
    from mentormatch.jobs import JOBS, solve_pool
    from mentormatch.jobs.runner import make_holder, run_job
    from mentormatch.models import OutboxMessage, Round, User
    from mentormatch.services import mailer, rounds

    ctx = mp.get_context("spawn")
    port_q, result_q, stop = ctx.Queue(), ctx.Queue(), ctx.Event()
    server = ctx.Process(target=_serve, args=(port_q, stop, result_q), daemon=True)
    server.start()
    port = port_q.get(timeout=60)
    work = Path(tempfile.mkdtemp(prefix="mm-solve-dispatch-"))
    url, drop = database(args.pg, work)
    try:
        app = create_app({
            "app": {"testing": True, "database_url": url, "base_url": "http://127.0.0.1"},
            "mail": {"transport": "smtp", "smtp_host": "127.0.0.1", "smtp_port": port,
                     "dispatch_budget_seconds": 3600},
            "rounds": {"solve_processes": 0 if args.inline else 1},
            "scheduler": {"lease_seconds": 600}})
        app.instance_path = str(work)
        jobs = {j.id: j for j in JOBS}
        with app.app_context():
            db.create_all()
            from mentormatch.services.catalogue import sync_competencies

            sync_competencies()
            db.session.commit()
            round_id, user_id = seed(args.mentees, random.Random(7), proposals=False)
            sender = mailer._from_header()

            def fill(tag: str) -> None:
                db.session.add_all(
                    OutboxMessage(kind="itip_request", recipient=f"m{i}@dinas.go.id",
                                  subject=f"Undangan #{i}", message_id=msgid,
                                  raw=invite(i, sender, msgid).as_bytes())
                    for i in range(args.messages)
                    for msgid in [f"<{tag}-{i}-{uuid.uuid4().hex[:8]}@bench>"])
                db.session.commit()

            fill("idle")
            db.session.remove()
        holder = make_holder()

        def dispatch() -> float:
            t0 = time.perf_counter()
            for _ in range(50):
                run_job(app, jobs["dispatch_outbox"], holder)
                with app.app_context():
                    left = db.session.scalar(select(func.count(OutboxMessage.id))
                                             .where(OutboxMessage.status != "sent"))
                    db.session.remove()
                if not left:
                    break
            return args.messages / (time.perf_counter() - t0)

        if not args.inline:  # the pool is started once per scheduler, not per solve
            with app.app_context():
                solve_pool.executor(app).submit(os.getpid).result(timeout=300)
        idle = dispatch()
        with app.app_context():
            fill("busy")
            rounds.queue(db.session.get(Round, round_id), db.session.get(User, user_id))
            db.session.commit()
            db.session.remove()
        solver = threading.Thread(target=run_job, args=(app, jobs["run_solves"], holder))
        t_solve = time.perf_counter()
        solver.start()
        deadline = time.monotonic() + 300  # the solve has started (claimed) before we time
        while time.monotonic() < deadline:
            with app.app_context():
                status = db.session.scalar(select(Round.status).where(Round.id == round_id))
                db.session.remove()
            if status != "queued":
                break
            time.sleep(0.05)
        busy = dispatch()
        with app.app_context():
            status = db.session.scalar(select(Round.status).where(Round.id == round_id))
            db.session.remove()
        still_solving = status == "solving"
        solver.join(timeout=1800)
        solve_seconds = time.perf_counter() - t_solve
        with app.app_context():
            final = db.session.scalar(select(Round.status).where(Round.id == round_id))
            db.session.remove()
            db.engine.dispose()
        solve_pool.shutdown()
    finally:
        stop.set()
        try:
            result_q.get(timeout=120)
        finally:
            server.join(timeout=30)
            if drop is not None:
                drop()
    print(f"database          : {'PostgreSQL' if args.pg else 'SQLite'}; solve "
          f"{'in the scheduler thread (--inline)' if args.inline else 'in a worker process'}")
    print(f"idle dispatch     : {idle:.0f} msg/s ({args.messages} messages)")
    print(f"during the solve  : {busy:.0f} msg/s = {100 * busy / idle:.0f} % of idle "
          f"(solve still running at the end: {still_solving})")
    print(f"solve             : {args.mentees} mentees, {solve_seconds:.0f} s, {final}")
    print(f"load average      : {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return 0 if final == "solved" else 1


if __name__ == "__main__":
    sys.exit(main())
