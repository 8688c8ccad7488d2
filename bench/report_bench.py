"""Time the programme dashboard and every export on a large programme.

    python bench/report_bench.py [--pg] [--pg-admin URL] [--repeat 5]

Builds (bulk inserts) 10,000 people, one programme with 4,000 mentees and 1,500 mentors as
participants, 4,000 pairs (each with a series and two attendees), 40,000 sessions, a log for each
held session (about 24,000) and feedback on most logs; then times `reports.dashboard` (median of
`--repeat` runs after one warm-up; target < 300 ms), the competency progress, the alert lists and
each CSV / XLSX export. SQLite always; PostgreSQL too with --pg (a throwaway database).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PEOPLE, MENTEES, MENTORS, PAIRS, SESSIONS_PER_PAIR = 10_000, 4_000, 1_500, 4_000, 10
UNITS = ["Dinas Kominfo", "BKPSDM", "Dinas Kesehatan", "Bappeda", "Dinas Pendidikan",
         "Kecamatan Pauh", "Kecamatan Plaju", "Kecamatan Mulyorejo"]
CITIES = [("Padang (Pauh)", "Padang", "Asia/Jakarta"), ("Palembang (Plaju)", "Palembang",
          "Asia/Jakarta"), ("Surabaya (Mulyorejo)", "Surabaya", "Asia/Jakarta"),
          ("Palu", "Palu", "Asia/Makassar"), ("Bandung", "Bandung", "Asia/Jakarta")]
STATUSES = ["held", "held", "held", "held", "held", "held", "missed", "cancelled", "scheduled",
            "not_held"]


def fresh_app(url: str):
    from mentormatch import create_app
    from mentormatch.extensions import db
    from mentormatch.services.catalogue import sync_competencies

    app = create_app({"app": {"testing": True, "database_url": url,
                              "session_cookie_secure": False}, "mail": {"transport": "folder"}})
    with app.app_context():
        db.drop_all()
        db.create_all()
        sync_competencies()
        db.session.commit()
    return app


def build() -> int:
    from sqlalchemy import insert, select

    from mentormatch.extensions import db
    from mentormatch.models import (
        Attendee,
        Competency,
        Feedback,
        Location,
        Pair,
        Participant,
        Person,
        PersonCompetency,
        Programme,
        Session,
        SessionLog,
        SessionSeries,
        Unit,
    )

    s = db.session
    s.execute(insert(Unit), [{"id": i + 1, "name": n} for i, n in enumerate(UNITS)])
    s.execute(insert(Location), [{"id": i + 1, "name": n, "city": c, "timezone": tz}
                                 for i, (n, c, tz) in enumerate(CITIES)])
    now = datetime.now(UTC)
    s.execute(insert(Person), [{
        "id": i + 1, "kind": "pns",
        "nip": f"{date(1970, 1, 1) + timedelta(days=i // 999):%Y%m%d}200501{1 + i % 2}"
               f"{1 + i % 999:03d}",
        "name": f"Pegawai {i}", "email": f"p{i}@bench.go.id", "unit_id": 1 + i % len(UNITS),
        "location_id": 1 + i % len(CITIES), "grade_rank": 1 + i % 17, "mode": "either",
        "locale": "id", "is_priority": False, "active": True, "created_at": now,
        "updated_at": now} for i in range(PEOPLE)])
    prog = Programme(name="Bench programme", start_date=date(2026, 1, 1),
                     end_date=date(2026, 12, 31))
    s.add(prog)
    s.flush()
    mentees = list(range(1, MENTEES + 1))
    mentors = list(range(MENTEES + 1, MENTEES + MENTORS + 1))
    s.execute(insert(Participant), [{"programme_id": prog.id, "person_id": p, "role": "mentee",
                                     "is_priority": False, "active": True} for p in mentees]
              + [{"programme_id": prog.id, "person_id": p, "role": "mentor", "capacity": 3,
                  "is_priority": False, "active": True} for p in mentors])
    comps = s.scalars(select(Competency.id).order_by(Competency.id)).all()[:4]
    s.execute(insert(PersonCompetency), [
        {"person_id": p, "competency_id": c, "baseline_level": 1 + (p + k) % 3,
         "current_level": 2 + (p + k) % 3, "required_level": 4}
        for p in mentees for k, c in enumerate(comps)])
    start = datetime(2026, 1, 5, 2, tzinfo=UTC)
    pairs, series, attendees, sessions = [], [], [], []
    for i in range(PAIRS):
        pid = i + 1
        mentee, mentor = mentees[i % MENTEES], mentors[i % MENTORS]
        pairs.append({"id": pid, "programme_id": prog.id, "mentor_id": mentor,
                      "mentee_id": mentee, "status": "active" if i % 10 else "completed",
                      "focus": [], "created_at": start, "updated_at": start,
                      "notes_shared_with_coordinator": False})
        series.append({"id": pid, "pair_id": pid, "uid": f"bench-{pid}@x", "sequence": 0,
                       "tzid": "Asia/Jakarta", "first_start": start, "duration_minutes": 60,
                       "interval_weeks": 2, "count": SESSIONS_PER_PAIR, "status": "active",
                       "created_at": start, "updated_at": start})
        answered = start + timedelta(hours=1 + i % 48)
        part = ["ACCEPTED", "ACCEPTED", "ACCEPTED", "DECLINED", "NEEDS-ACTION"][i % 5]
        for role, person in (("mentor", mentor), ("mentee", mentee)):
            attendees.append({"series_id": pid, "person_id": person, "email": f"p{person}@b",
                              "role": role, "partstat": part, "invited_at": start,
                              "answered_at": None if part == "NEEDS-ACTION" else answered})
        for k in range(SESSIONS_PER_PAIR):
            at = start + timedelta(weeks=2 * k, hours=i % 6)
            sessions.append({"id": pid * 100 + k, "series_id": pid, "recurrence_id": at,
                             "start_at": at, "end_at": at + timedelta(hours=1), "sequence": 0,
                             "status": STATUSES[(i + k) % 10]})
    s.execute(insert(Pair), pairs)
    s.execute(insert(SessionSeries), series)
    s.execute(insert(Attendee), attendees)
    s.execute(insert(Session), sessions)
    logs, feedback = [], []
    for row in sessions:
        if row["status"] != "held":
            continue
        pid = row["series_id"]
        lid = row["id"]
        pair = pairs[pid - 1]
        confirmed = lid % 5 != 0
        logs.append({"id": lid, "pair_id": pid, "session_id": lid, "author_id": pair["mentee_id"],
                     "held_on": row["start_at"].date(), "duration_minutes": 60,
                     "topics": "bench", "notes": "private", "notes_visible_to_coordinator": False,
                     "status": "confirmed" if confirmed else "submitted",
                     "credited_minutes": 60 if confirmed else 0, "created_at": now,
                     "updated_at": now})
        if lid % 3:
            feedback.append({"log_id": lid, "author_id": pair["mentee_id"],
                             "rating": 1 + lid % 5, "created_at": now})
        if lid % 4 == 0:
            feedback.append({"log_id": lid, "author_id": pair["mentor_id"],
                             "rating": 1 + lid % 5, "created_at": now})
    s.execute(insert(SessionLog), logs)
    s.execute(insert(Feedback), feedback)
    s.commit()
    if s.get_bind().dialect.name == "postgresql":
        from sqlalchemy import text

        s.execute(text("ANALYZE"))
        s.commit()
    print(f"  built: {PEOPLE} people, {len(pairs)} pairs, {len(sessions)} sessions, "
          f"{len(logs)} logs, {len(feedback)} feedback")
    return prog.id


def timed(fn, repeat: int) -> tuple[float, object]:
    fn()  # warm-up
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), result


def run(url: str, label: str, repeat: int) -> None:
    from mentormatch.extensions import db
    from mentormatch.models import Programme
    from mentormatch.services import exports, reports

    print(f"== {label}")
    app = fresh_app(url)
    with app.app_context():
        t0 = time.perf_counter()
        pid = build()
        print(f"  build: {time.perf_counter() - t0:.1f} s")
        db.session.expire_all()
        prog = db.session.get(Programme, pid)
        ms, data = timed(lambda: reports.dashboard(prog), repeat)
        flag = "OK" if ms < 300 else "OVER TARGET"
        o = data["overall"]
        print(f"  dashboard: {ms:.0f} ms (target < 300 ms: {flag}); participants "
              f"{o['participants']}, sessions {o['sessions_planned']}, JP {o['jp_credited']}")
        ms, _ = timed(lambda: reports.competency_progress(prog), repeat)
        print(f"  competency progress: {ms:.0f} ms")
        ms, _ = timed(lambda: reports.alerts_summary(prog), repeat)
        print(f"  alerts (all five lists): {ms:.0f} ms")
        for kind in exports.KINDS:
            for fmt in exports.FORMATS:
                def go(kind=kind, fmt=fmt):
                    body, _ = exports.export(prog, kind, fmt)
                    return body if isinstance(body, bytes) else "".join(body)
                ms, body = timed(go, 1)
                print(f"  export {kind}.{fmt}: {ms:.0f} ms, {len(body) / 1024:.0f} KiB")
        db.session.remove()
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg", action="store_true", help="also run on PostgreSQL")
    parser.add_argument("--pg-admin", default=os.environ.get(
        "MENTORMATCH_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{tmp}/bench.db", "SQLite", args.repeat)
    if args.pg:
        from sqlalchemy import create_engine, text

        admin = create_engine(args.pg_admin, isolation_level="AUTOCOMMIT")
        name = f"mm_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            run(args.pg_admin.rsplit("/", 1)[0] + f"/{name}", "PostgreSQL", args.repeat)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
