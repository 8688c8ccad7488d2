"""Approving a big matching round: pairs, session series, attendees and invite e-mails.

    python bench/approve_bench.py                 # 1,000 mentees / 334 mentors, SQLite
    python bench/approve_bench.py --pg            # the same on a throwaway PostgreSQL database
    python bench/approve_bench.py -n 300 --solve  # solve the round with the real solver first

Seeds (bulk inserts, seeded random, not timed) N mentees and N/3 mentors across WIB / WITA /
WIT offices, in Bahasa Indonesia and English, with competency gaps and weekday availability;
one programme (6 sessions every 2 weeks) and a round. The round's proposals are either written
directly (default: three mentees per mentor, distinct Tuesday slots, a quarter of the pairs in
person) or produced by the real service path (``--solve``: rounds.queue + the run_solves job
with CP-SAT). Then it times what the coordinator's "Approve" click runs - ``rounds.approve``
and the one commit - and prints the time, the SQL statements issued (by kind), the peak
resident memory during the approval and the outbox rows written. It checks the result (one
series, N sessions, two attendees and two REQUEST e-mails per pair) and that a second click
creates nothing. Exit status 1 on a mismatch.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_db import database  # noqa: E402
from sqlalchemy import event, func, insert, select  # noqa: E402

TARGET_SECONDS = 5.0
OFFICES = [("Padang (Pauh)", "Padang", "Asia/Jakarta"),
           ("Palembang (Plaju)", "Palembang", "Asia/Jakarta"),
           ("Surabaya (Mulyorejo)", "Surabaya", "Asia/Jakarta"),
           ("Bandung", "Bandung", "Asia/Jakarta"),
           ("Palu", "Palu", "Asia/Makassar"),
           ("Jayapura", "Jayapura", "Asia/Jayapura")]
UNITS = ["Dinas Kominfo", "BKPSDM", "Bappeda", "Dinas Kesehatan", "Kecamatan Pauh"]
SLOTS_UTC = (2 * 60, 3 * 60, 4 * 60)  # Tuesday 02:00-05:00 UTC: 09-12 WIB, 10-13 WITA, 11-14 WIT


def _nip(i: int) -> str:
    born = datetime(1970, 1, 1) + timedelta(days=(i // 999) % 9000)
    return f"{born:%Y%m%d}200501{1 + i % 2}{1 + i % 999:03d}"


def seed(n_mentees: int, rng: random.Random, *, proposals: bool) -> tuple[int, int]:
    """People, programme, round (solved with proposals, or draft); returns (round, user) ids."""
    from mentormatch.extensions import db
    from mentormatch.models import (
        AvailabilityWindow,
        Competency,
        Location,
        Participant,
        Person,
        PersonCompetency,
        Proposal,
        Round,
        Unit,
    )
    from mentormatch.services import accounts, programmes, rounds

    s = db.session
    n_mentors = -(-n_mentees // 3)
    s.execute(insert(Unit), [{"id": i + 1, "name": n} for i, n in enumerate(UNITS)])
    s.execute(insert(Location), [{"id": i + 1, "name": n, "city": c, "timezone": tz}
                                 for i, (n, c, tz) in enumerate(OFFICES)])
    now = datetime.now(UTC)
    total = n_mentees + n_mentors
    s.execute(insert(Person), [{
        "id": i + 1, "kind": "pns", "nip": _nip(i), "name": f"Pegawai Bench {i:05d}",
        "email": f"pegawai{i}@bench.go.id", "unit_id": 1 + rng.randrange(len(UNITS)),
        "location_id": 1 + rng.randrange(len(OFFICES)),
        # mentees in the lower grades, mentors well above them
        "grade_rank": rng.randint(5, 9) if i < n_mentees else rng.randint(12, 16),
        "mode": "either", "locale": "en" if rng.random() < 0.2 else "id",
        "is_priority": False, "active": True, "created_at": now, "updated_at": now}
        for i in range(total)])
    comps = s.scalars(select(Competency.id).where(Competency.active.is_(True))
                      .order_by(Competency.id)).all()
    levels = []
    for pid in range(1, total + 1):
        for c in rng.sample(comps, 5):
            if pid <= n_mentees:
                levels.append({"person_id": pid, "competency_id": c,
                               "current_level": rng.randint(1, 2),
                               "required_level": rng.randint(3, 4)})
            else:
                levels.append({"person_id": pid, "competency_id": c,
                               "current_level": rng.randint(4, 5), "required_level": None})
    s.execute(insert(PersonCompetency), levels)
    s.execute(insert(AvailabilityWindow), [  # Mon-Fri 07:30-16:00 local
        {"person_id": pid, "weekday": wd, "start_minute": 450, "end_minute": 960}
        for pid in range(1, total + 1) for wd in range(5)])
    coord = accounts.create_user("koordinator@bench.go.id", ["coordinator"],
                                 password="rahasia-bench-123")
    today = now.date()
    prog = programmes.create(coord, name="Mentoring ASN Bench", start_date=today,
                             end_date=today + timedelta(days=365), session_minutes=60,
                             interval_weeks=2, session_count=6, default_capacity=3,
                             meeting_url="https://meet.bench.go.id/mentoring")
    s.execute(insert(Participant), [
        {"programme_id": prog.id, "person_id": pid, "role": "mentee", "is_priority": False,
         "active": True} for pid in range(1, n_mentees + 1)] + [
        {"programme_id": prog.id, "person_id": pid, "role": "mentor", "capacity": 3,
         "is_priority": False, "active": True} for pid in range(n_mentees + 1, total + 1)])
    rnd = rounds.create(prog, coord, name="Putaran 1")
    if proposals:
        s.execute(insert(Proposal), [{
            "round_id": rnd.id, "mentee_id": i + 1, "mentor_id": n_mentees + 1 + i // 3,
            "weekday_utc": 1, "start_minute_utc": SLOTS_UTC[i % 3], "score": 10.0,
            "mode": "in_person" if i % 4 == 0 else "online", "breakdown": {},
            "reasons": [{"code": "gap", "competency": "KOM", "from": 1, "to": 3},
                        {"code": "common_time", "weekday": "Tue", "time": "09:00",
                         "tz": "WIB"}],
            "manual": False} for i in range(n_mentees)])
        s.execute(Round.__table__.update().where(Round.__table__.c.id == rnd.id)
                  .values(status="solved"))
    s.commit()
    return rnd.id, coord.id


def solve(round_id: int, user_id: int) -> float:
    """The real path: queue the round and run the solve job until it is done."""
    from mentormatch.extensions import db
    from mentormatch.jobs.solves import run_solves
    from mentormatch.models import Round, User
    from mentormatch.services import rounds

    t0 = time.perf_counter()
    rounds.queue(db.session.get(Round, round_id), db.session.get(User, user_id))
    db.session.commit()
    for _ in range(600):
        run_solves(worker="bench")
        db.session.expire_all()
        if db.session.get(Round, round_id).status not in ("queued", "solving"):
            break
        time.sleep(0.5)
    rnd = db.session.get(Round, round_id)
    if rnd.status != "solved":
        raise SystemExit(f"the round did not solve: {rnd.status} {rnd.error}")
    db.session.remove()
    return time.perf_counter() - t0


def _peak_rss_reset() -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM) so the approval's own peak can be read."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _status_mib(field: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _peak_rss_mib() -> float:
    peak = _status_mib("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(n: int, *, pg: bool = False, do_solve: bool = False, seed_value: int = 2026) -> dict:
    from mentormatch import create_app
    from mentormatch.extensions import db
    from mentormatch.models import (
        Attendee,
        OutboxMessage,
        Pair,
        Proposal,
        Round,
        Session,
        SessionSeries,
        User,
    )
    from mentormatch.services import rounds
    from mentormatch.services.catalogue import sync_competencies

    workdir = Path(tempfile.mkdtemp(prefix="mm-approve-bench-"))
    url, drop = database(pg, workdir)
    try:
        app = create_app({
            "app": {"testing": True, "database_url": url, "base_url": "https://mentor.bench"},
            "mail": {"transport": "folder"},
        })
        app.instance_path = str(workdir)
        with app.app_context():
            db.create_all()
            sync_competencies()
            db.session.commit()
            t_seed = time.perf_counter()
            round_id, user_id = seed(n, random.Random(seed_value), proposals=not do_solve)
            seeded = time.perf_counter() - t_seed
            db.session.remove()
            solve_seconds = solve(round_id, user_id) if do_solve else None

            kinds: Counter[str] = Counter()

            def count(_conn, _cursor, statement, _params, _context, executemany) -> None:
                kinds[statement.lstrip().split(None, 1)[0].upper()
                      + (" (executemany)" if executemany else "")] += 1

            proposals = db.session.scalar(select(func.count()).select_from(Proposal)
                                          .where(Proposal.round_id == round_id))
            db.session.expire_all()  # the click starts from a fresh session, as a request does
            rnd = db.session.get(Round, round_id)
            actor = db.session.get(User, user_id)
            exact_peak = _peak_rss_reset()
            rss_before = _status_mib("VmRSS") or 0.0
            event.listen(db.engine, "before_cursor_execute", count)
            t0 = time.perf_counter()
            result = rounds.approve(rnd, actor)
            db.session.commit()
            elapsed = time.perf_counter() - t0
            event.remove(db.engine, "before_cursor_execute", count)
            peak = _peak_rss_mib()
            created = len(result.created)
            db.session.remove()

            again_kinds: Counter[str] = Counter()

            def count_again(_conn, _cursor, statement, *_rest) -> None:
                again_kinds[statement.lstrip().split(None, 1)[0].upper()] += 1

            rnd = db.session.get(Round, round_id)
            event.listen(db.engine, "before_cursor_execute", count_again)
            second = rounds.approve(rnd, db.session.get(User, user_id))
            db.session.commit()
            event.remove(db.engine, "before_cursor_execute", count_again)

            def n_rows(model) -> int:
                return db.session.scalar(select(func.count()).select_from(model))

            out = {
                "proposals": proposals, "pairs": n_rows(Pair), "created": created,
                "series": n_rows(SessionSeries), "sessions": n_rows(Session),
                "attendees": n_rows(Attendee),
                "outbox": dict(Counter(db.session.scalars(select(OutboxMessage.kind)))),
                "second_already": second.already and not second.created,
                "second_writes": sum(v for k, v in again_kinds.items()
                                     if k in ("INSERT", "UPDATE", "DELETE")),
                "seconds": elapsed, "queries": sum(kinds.values()), "kinds": dict(kinds),
                "peak_rss_mib": peak, "peak_exact": exact_peak, "rss_before_mib": rss_before,
                "seed_seconds": seeded,
                "solve_seconds": solve_seconds,
                "session_count": db.session.get(Round, round_id).programme.session_count,
            }
            out["sample_ok"] = _check_sample(db, out)
            db.session.remove()
            db.engine.dispose()
    finally:
        if drop is not None:
            drop()
    return out


def _check_sample(db, out: dict) -> bool:
    """One REQUEST from the outbox: parsed, it names both people and the six sessions."""
    import email
    import email.policy

    import icalendar

    from mentormatch.models import OutboxMessage, SessionSeries

    row = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "itip_request")
                             .order_by(OutboxMessage.id.desc()).limit(1)).first()
    if row is None:
        return out["created"] == 0
    msg = email.message_from_bytes(row.raw, policy=email.policy.default)
    part = next(p for p in msg.walk() if p.get_content_type() == "text/calendar")
    cal = icalendar.Calendar.from_ical(part.get_payload(decode=True))
    ev = next(c for c in cal.walk("VEVENT"))
    series = db.session.scalar(select(SessionSeries).where(SessionSeries.uid == str(ev["UID"])))
    if series is None or len(ev.get("ATTENDEE", [])) != 2:
        return False
    emails = {str(a).lower().removeprefix("mailto:") for a in ev["ATTENDEE"]}
    return (emails == {a.email for a in series.attendees}
            and row.recipient.lower() in emails
            and len(series.sessions) == series.count)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", "--mentees", type=int, default=1000,
                    help="mentees (mentors: a third as many); default 1,000")
    ap.add_argument("--pg", action="store_true",
                    help="a throwaway PostgreSQL database (MENTORMATCH_TEST_PG_ADMIN)")
    ap.add_argument("--solve", action="store_true",
                    help="solve the round with the real solver instead of writing proposals")
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args(argv)
    r = run(args.mentees, pg=args.pg, do_solve=args.solve, seed_value=args.seed)
    pairs = r["created"]
    print(f"database          : {'PostgreSQL' if args.pg else 'SQLite'}")
    print(f"seeded            : {args.mentees} mentees, {-(-args.mentees // 3)} mentors "
          f"in {r['seed_seconds']:.1f} s (not timed)")
    if r["solve_seconds"] is not None:
        print(f"solved            : {r['proposals']} proposals in {r['solve_seconds']:.1f} s "
              "(not timed)")
    print(f"approved          : {pairs} pairs, {r['series']} series, {r['sessions']} sessions, "
          f"{r['attendees']} attendees")
    print(f"outbox rows       : {sum(r['outbox'].values())} {r['outbox']}")
    print(f"approve + commit  : {r['seconds']:.2f} s (target < {TARGET_SECONDS:.0f} s)")
    print(f"SQL statements    : {r['queries']} "
          + ", ".join(f"{k} {v}" for k, v in sorted(r["kinds"].items())))
    print(f"peak memory (RSS) : {r['peak_rss_mib']:.1f} MiB"
          + (f" during the approval (+{r['peak_rss_mib'] - r['rss_before_mib']:.1f} MiB over "
             f"the {r['rss_before_mib']:.1f} MiB before it)" if r["peak_exact"]
             else " (whole process)"))
    print(f"second click      : already approved: {r['second_already']}, "
          f"writes: {r['second_writes']}")
    ok = (pairs == r["proposals"] == r["pairs"] == r["series"]
          and r["sessions"] == pairs * r["session_count"] and r["attendees"] == 2 * pairs
          and r["outbox"].get("itip_request", 0) == 2 * pairs and r["second_already"]
          and r["second_writes"] == 0 and r["sample_ok"])
    print("result            : " + ("OK" if ok else "MISMATCH")
          + ("" if r["seconds"] < TARGET_SECONDS else " (slower than the target)"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
