"""Time the programme reports over HTTP on a large programme.

    python bench/report_bench.py [--pg] [--pg-admin URL] [--repeat 5] [--no-nudge]

Builds (bulk inserts) 10,000 people, one programme with 4,000 mentees and 1,500 mentors as
participants, 4,000 pairs (each with a series and two attendees), 40,000 sessions, a log for each
held session (about 24,000, with competencies practised and action items), feedback on most
logs and mid / end evaluations; then, through the Flask test client as a logged-in coordinator,
times the whole GET of the dashboard page (target < 300 ms server time: the request is handled
in-process, so the figure is the server's time, queries and rendering included), the printable
report, the alert pages, and the GET of every CSV / XLSX export (body read to the end). Medians
of `--repeat` runs after one warm-up. Finally one "remind everyone" click on the behind-pace list
(thousands of mentees; bounded by `[reports] nudge_limit`). SQLite always; PostgreSQL too with
--pg (a throwaway database).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PEOPLE, MENTEES, MENTORS, PAIRS, SESSIONS_PER_PAIR = 10_000, 4_000, 1_500, 4_000, 10
TARGET_MS = 300
UNITS = ["Dinas Kominfo", "BKPSDM", "Dinas Kesehatan", "Bappeda", "Dinas Pendidikan",
         "Kecamatan Pauh", "Kecamatan Plaju", "Kecamatan Mulyorejo"]
CITIES = [("Padang (Pauh)", "Padang", "Asia/Jakarta"), ("Palembang (Plaju)", "Palembang",
          "Asia/Jakarta"), ("Surabaya (Mulyorejo)", "Surabaya", "Asia/Jakarta"),
          ("Palu", "Palu", "Asia/Makassar"), ("Bandung", "Bandung", "Asia/Jakarta")]
STATUSES = ["held", "held", "held", "held", "held", "held", "missed", "cancelled", "scheduled",
            "not_held"]
COORDINATOR = "koordinator@bench.go.id"


def fresh_app(url: str):
    from mentormatch import create_app
    from mentormatch.extensions import db
    from mentormatch.services.catalogue import sync_competencies

    app = create_app({"app": {"testing": True, "database_url": url, "base_url": "http://bench",
                              "session_cookie_secure": False,
                              "login_rate_limit": "100000 per minute"},
                      "mail": {"transport": "folder"}})
    with app.app_context():
        db.drop_all()
        db.create_all()
        sync_competencies()
        db.session.commit()
    return app


def build() -> tuple[int, int]:
    """The bench programme; returns (programme id, coordinator user id)."""
    from sqlalchemy import insert, select, text

    from mentormatch.extensions import db
    from mentormatch.models import (
        ActionItem,
        Attendee,
        Competency,
        Evaluation,
        Feedback,
        Location,
        LogCompetency,
        Pair,
        Participant,
        Person,
        PersonCompetency,
        Programme,
        ProgrammeCoordinator,
        Session,
        SessionLog,
        SessionSeries,
        Unit,
    )
    from mentormatch.services import accounts

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
        "locale": "id" if i % 4 else "en", "is_priority": False, "active": True,
        "created_at": now, "updated_at": now} for i in range(PEOPLE)])
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
    pairs, series, attendees, sessions, evaluations = [], [], [], [], []
    for i in range(PAIRS):
        pid = i + 1
        mentee, mentor = mentees[i % MENTEES], mentors[i % MENTORS]
        pairs.append({"id": pid, "programme_id": prog.id, "mentor_id": mentor,
                      "mentee_id": mentee, "status": "active" if i % 10 else "completed",
                      "focus": [], "created_at": start, "updated_at": start})
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
        for stage, author in (("mid", mentee), ("mid", mentor), ("end", mentee)):
            if (i + len(stage)) % 3:
                evaluations.append({
                    "pair_id": pid, "author_id": author, "stage": stage,
                    "answers": {"usefulness": 1 + i % 5, "relevance": 1 + (i // 5) % 5,
                                "kompeten": 1 + (i // 25) % 5, "comment": "private"},
                    "submitted_at": start + timedelta(days=60)})
    s.execute(insert(Pair), pairs)
    s.execute(insert(SessionSeries), series)
    s.execute(insert(Attendee), attendees)
    s.execute(insert(Session), sessions)
    s.execute(insert(Evaluation), evaluations)
    logs, feedback, practised, items = [], [], [], []
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
                     "confirmed_by_id": pair["mentor_id"] if confirmed else None,
                     "confirmed_at": row["end_at"] + timedelta(days=1) if confirmed else None,
                     "credited_minutes": 60 if confirmed else 0, "created_at": now,
                     "updated_at": now})
        practised += [{"log_id": lid, "competency_id": c} for c in comps[:1 + lid % 2]]
        items += [{"log_id": lid, "text": "tindak lanjut", "done": bool(k % 2)}
                  for k in range(lid % 3)]
        if lid % 3:
            feedback.append({"log_id": lid, "author_id": pair["mentee_id"],
                             "rating": 1 + lid % 5, "created_at": now})
        if lid % 4 == 0:
            feedback.append({"log_id": lid, "author_id": pair["mentor_id"],
                             "rating": 1 + lid % 5, "created_at": now})
    s.execute(insert(SessionLog), logs)
    s.execute(insert(LogCompetency), practised)
    s.execute(insert(ActionItem), items)
    s.execute(insert(Feedback), feedback)
    user = accounts.create_user(COORDINATOR, ["coordinator"], password="rahasia-123456")
    s.add(ProgrammeCoordinator(programme_id=prog.id, user_id=user.id))
    s.commit()
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("ANALYZE"))
        s.commit()
    print(f"  built: {PEOPLE} people, {len(pairs)} pairs, {len(sessions)} sessions, "
          f"{len(logs)} logs, {len(feedback)} feedback, {len(evaluations)} evaluations")
    return prog.id, user.id


LAST_RUNS: list[float] = []


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Median milliseconds of `repeat` runs after one warm-up (the runs stay in LAST_RUNS)."""
    fn()  # warm-up
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
    LAST_RUNS[:] = times
    return statistics.median(times), result


def run(url: str, label: str, repeat: int, nudge: bool) -> dict[str, float]:
    from mentormatch.extensions import db
    from mentormatch.services import exports, reports

    print(f"== {label}")
    figures: dict[str, float] = {}
    app = fresh_app(url)
    with app.app_context():
        t0 = time.perf_counter()
        pid, user_id = build()
        print(f"  build: {time.perf_counter() - t0:.1f} s")
        db.session.remove()
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = str(user_id)
        sess["_fresh"] = True
    base = f"/programmes/{pid}/reports"

    def get(path: str) -> bytes:
        resp = client.get(path)
        body = resp.get_data()  # a streamed CSV is read to its end here
        if resp.status_code != 200:
            raise SystemExit(f"GET {path}: {resp.status_code}")
        resp.close()
        return body

    cpu0 = time.process_time()
    ms, body = timed(lambda: get(base + "/"), repeat)
    cpu = (time.process_time() - cpu0) * 1000 / (repeat + 1)
    figures["dashboard"] = ms
    flag = "OK" if ms < TARGET_MS else "OVER TARGET"
    kpi = re.search(rb'id="kpi-participants">(\d+)<', body)
    print(f"  GET dashboard page: {ms:.0f} ms median of {repeat} (target < {TARGET_MS} ms: "
          f"{flag}); runs {', '.join(f'{t:.0f}' for t in LAST_RUNS)} ms; "
          f"{len(body) / 1024:.0f} KiB, participants {kpi.group(1).decode()}; this process's "
          f"CPU {cpu:.0f} ms per GET; load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} CPUs")
    for path, name in (("/print", "printable report"), ("/competencies", "competency progress"),
                       ("/alerts/no_session?days=30", "alerts no_session (page 1)"),
                       ("/alerts/behind_jp", "alerts behind_jp (page 1)"),
                       ("/alerts/behind_jp?page=40&city=Palu", "alerts behind_jp p40 Palu"),
                       ("/alerts/unanswered", "alerts unanswered (page 1)")):
        ms, body = timed(lambda path=path: get(base + path), repeat)
        figures[name] = ms
        print(f"  GET {name}: {ms:.0f} ms, {len(body) / 1024:.0f} KiB")
    for kind in exports.KINDS:
        for fmt in exports.FORMATS:
            ms, body = timed(lambda kind=kind, fmt=fmt: get(f"{base}/export/{kind}.{fmt}"),
                             max(1, repeat // 2))
            figures[f"export {kind}.{fmt}"] = ms
            print(f"  GET export {kind}.{fmt}: {ms:.0f} ms, {len(body) / 1024:.0f} KiB")
    with app.app_context():
        from mentormatch.models import Programme

        prog = db.session.get(Programme, pid)
        ms, data = timed(lambda: reports.dashboard(prog), repeat)
        print(f"  (service only) reports.dashboard: {ms:.0f} ms; "
              f"alerts_summary: {timed(lambda: reports.alerts_summary(prog), repeat)[0]:.0f} ms")
        behind = reports.alert_count(prog, "behind_jp")
        limit = reports.report_settings()["nudge_limit"]
        db.session.remove()
    if nudge:
        html = get(base + "/alerts/behind_jp").decode()
        token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        t0 = time.perf_counter()
        resp = client.post(base + "/alerts/behind_jp/nudge", data={"csrf_token": token})
        ms = (time.perf_counter() - t0) * 1000
        figures["nudge"] = ms
        with app.app_context():
            from sqlalchemy import func, select

            from mentormatch.models import OutboxMessage

            queued = db.session.scalar(select(func.count(OutboxMessage.id)))
            db.session.remove()
        print(f"  POST remind everyone behind JP pace ({behind} on the list, at most {limit} "
              f"per click): {ms / 1000:.1f} s, {queued} e-mails queued, status "
              f"{resp.status_code}")
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg", action="store_true", help="also run on PostgreSQL")
    parser.add_argument("--pg-admin", default=os.environ.get(
        "MENTORMATCH_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-nudge", action="store_true", help="skip the nudge timing")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["SQLite"] = run(f"sqlite:///{tmp}/bench.db", "SQLite", args.repeat,
                                not args.no_nudge)
    if args.pg:
        from sqlalchemy import create_engine, text

        admin = create_engine(args.pg_admin, isolation_level="AUTOCOMMIT")
        name = f"mm_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            results["PostgreSQL"] = run(args.pg_admin.rsplit("/", 1)[0] + f"/{name}",
                                        "PostgreSQL", args.repeat, not args.no_nudge)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    print("== dashboard GET vs target")
    for label, figures in results.items():
        ms = figures["dashboard"]
        print(f"  {label}: {ms:.0f} ms ({'OK' if ms < TARGET_MS else 'OVER'} < {TARGET_MS} ms)")


if __name__ == "__main__":
    main()
