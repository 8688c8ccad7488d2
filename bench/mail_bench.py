"""Mail dispatch benchmark: the real outbox dispatch job, database to loopback SMTP.

    python bench/mail_bench.py                    # 10,000 outbox rows, SQLite
    python bench/mail_bench.py --pg               # the same on a throwaway PostgreSQL database
    python bench/mail_bench.py --count 500        # a quick run

What is measured is what production runs: N invite-shaped e-mails (text + HTML + text/calendar
+ .ics attachment) are written as outbox rows, then the scheduler's ``dispatch_outbox`` job
(``jobs.runner.run_job``: lease taken, fenced claims, one commit per message - the fenced
hand-over right before DATA, carrying the previous message's ``sent``) sends them over SMTP to
an aiosmtpd server on
127.0.0.1. The server runs in its own process (so it does not compete for this process's GIL)
and records the Message-ID of everything it accepts.

Prints messages/s, total time and peak memory (max RSS of this process, and the peak of
Python allocations during the dispatch), and checks that the server received exactly as many
messages as rows were marked sent, all of them, none twice. Exit status 1 when not.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections import Counter
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_db import database  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from tests.servers.smtp import SmtpTestServer  # noqa: E402

ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//MentorMatch//bench//ID\r\nMETHOD:REQUEST\r\n"
    "BEGIN:VEVENT\r\nUID:series-{i}@mentormatch.bench\r\nSEQUENCE:0\r\n"
    "DTSTAMP:20270101T000000Z\r\nDTSTART;TZID=Asia/Jakarta:20270105T090000\r\n"
    "DTEND;TZID=Asia/Jakarta:20270105T100000\r\nRRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=6\r\n"
    "SUMMARY:Sesi mentoring\r\nORGANIZER:mailto:mentoring@bkpsdm.go.id\r\n"
    "ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:m{i}@dinas.go.id\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n"
)


def invite(i: int, from_header: str, msgid: str) -> EmailMessage:
    """A message shaped like an invite: text + HTML + text/calendar + .ics attachment."""
    msg = EmailMessage()
    msg["From"] = from_header
    msg["To"] = f"mentor{i}@dinas.go.id"
    msg["Subject"] = f"Undangan: sesi mentoring #{i} — Pengembangan Diri"
    msg["Message-ID"] = msgid
    body = f"Yth. Bapak/Ibu,\n\nAnda diundang ke sesi mentoring #{i}.\n" * 5
    msg.set_content(body)
    msg.add_alternative(f"<p>{body}</p>", subtype="html")
    ics = ICS.format(i=i)
    msg.add_alternative(ics, subtype="calendar", params={"method": "REQUEST"})
    msg.add_attachment(ics.encode(), maintype="application", subtype="ics", filename="invite.ics")
    return msg


def _serve(port_q, stop, result_q) -> None:  # noqa: ANN001 - multiprocessing plumbing
    server = SmtpTestServer(store=True).start()
    port_q.put(server.port)
    stop.wait(7200)
    result_q.put((server.count, server.message_ids()))
    server.stop()


def run(count: int, *, pg: bool = False, batch: int = 200) -> dict[str, float]:
    from mentormatch import create_app
    from mentormatch.extensions import db
    from mentormatch.jobs import JOBS
    from mentormatch.jobs.runner import make_holder, run_job
    from mentormatch.models import OutboxMessage
    from mentormatch.services import mailer
    from mentormatch.settings import settings

    ctx = mp.get_context("spawn")
    port_q, result_q, stop = ctx.Queue(), ctx.Queue(), ctx.Event()
    proc = ctx.Process(target=_serve, args=(port_q, stop, result_q), daemon=True)
    proc.start()
    port = port_q.get(timeout=60)
    workdir = Path(tempfile.mkdtemp(prefix="mm-mail-bench-"))
    url, drop = database(pg, workdir)
    received, ids = 0, []
    try:
        app = create_app({
            "app": {"testing": True, "database_url": url, "base_url": "http://127.0.0.1"},
            "mail": {"transport": "smtp", "smtp_host": "127.0.0.1", "smtp_port": port,
                     "smtp_timeout": 30, "dispatch_batch": batch,
                     "dispatch_budget_seconds": 3600},
        })
        app.instance_path = str(workdir)
        job = next(j for j in JOBS if j.id == "dispatch_outbox")
        with app.app_context():
            db.create_all()
            t_fill = time.perf_counter()
            sender = mailer._from_header()
            domain = settings(app).mail.message_id_domain
            for start in range(0, count, 1000):
                db.session.add_all(
                    OutboxMessage(kind="itip_request", recipient=f"mentor{i}@dinas.go.id",
                                  subject=f"Undangan #{i}", message_id=msgid,
                                  raw=invite(i, sender, msgid).as_bytes())
                    for i in range(start, min(start + 1000, count))
                    for msgid in [f"<bench-{i}-{uuid.uuid4().hex[:8]}@{domain}>"]
                )
                db.session.commit()
            fill = time.perf_counter() - t_fill
            db.session.remove()
        holder = make_holder()
        tracemalloc.start()
        t0 = time.perf_counter()
        runs = 0
        while runs < 100:  # bounded: one run normally sends everything
            runs += 1
            run_job(app, job, holder)
            with app.app_context():
                left = db.session.scalar(select(func.count()).select_from(OutboxMessage)
                                         .where(OutboxMessage.status != "sent"))
                db.session.remove()
            if not left:
                break
        elapsed = time.perf_counter() - t0
        traced_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        with app.app_context():
            rows = dict(db.session.execute(
                select(OutboxMessage.message_id, OutboxMessage.status)).all())
            db.session.remove()
            db.engine.dispose()
    finally:
        stop.set()
        try:
            received, ids = result_q.get(timeout=120)
        finally:
            proc.join(timeout=30)
            if drop is not None:
                drop()
    sent = sum(1 for s in rows.values() if s == "sent")
    dupes = sum(n - 1 for n in Counter(ids).values() if n > 1)
    return {
        "rows": count,
        "sent": sent,
        "received": received,
        "duplicates": dupes,
        "all_arrived": set(ids) == {m for m, s in rows.items() if s == "sent"},
        "fill_seconds": fill,
        "seconds": elapsed,
        "runs": runs,
        "msgs_per_s": sent / elapsed if elapsed else float("inf"),
        "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "traced_peak_mib": traced_peak / 2**20,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=10_000, help="outbox rows (default 10,000)")
    ap.add_argument("--pg", action="store_true",
                    help="a throwaway PostgreSQL database (MENTORMATCH_TEST_PG_ADMIN)")
    ap.add_argument("--batch", type=int, default=200, help="rows claimed per batch")
    args = ap.parse_args(argv)
    r = run(args.count, pg=args.pg, batch=args.batch)
    print(f"database          : {'PostgreSQL' if args.pg else 'SQLite'}")
    print(f"outbox rows       : {r['rows']} (written in {r['fill_seconds']:.1f} s, not timed)")
    print(f"marked sent       : {r['sent']} in {r['runs']} dispatch run(s)")
    print(f"server received   : {r['received']} (duplicates: {r['duplicates']}, "
          f"every sent row arrived: {r['all_arrived']})")
    print(f"total time        : {r['seconds']:.2f} s")
    print(f"throughput        : {r['msgs_per_s']:.0f} msgs/s")
    print(f"peak memory (RSS) : {r['max_rss_mib']:.1f} MiB")
    print(f"peak traced alloc : {r['traced_peak_mib']:.2f} MiB (during dispatch)")
    ok = (r["sent"] == r["received"] == r["rows"] and r["duplicates"] == 0
          and r["all_arrived"])
    print("result            : " + ("OK" if ok else "MISMATCH"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
