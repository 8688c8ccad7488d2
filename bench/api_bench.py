"""REST API bench: 10,000 people upserted in one call and in batches of 500 (time, memory),
and paged reads of 40,000 sessions, over HTTP against the app on a loopback port.

    python bench/api_bench.py [--people 10000] [--batch 500] [--sessions 40000] [--pg]

Memory is the process peak RSS during each upsert (the server runs in this process; the
kernel's peak mark is reset before each step where /proc allows it).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import requests  # noqa: E402
from approve_bench import _peak_rss_mib, _peak_rss_reset  # noqa: E402
from bench_db import database  # noqa: E402
from import_bench import CITIES, FIRST, GRADES, LAST, UNITS, nip_for  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402


def records(n: int, offset: int = 0) -> list[dict]:
    out = []
    for i in range(offset, offset + n):
        out.append({
            "nip": nip_for(i), "name": f"{FIRST[i % 10]} {LAST[i % 8]} {i}",
            "email": f"pegawai{i}@example.go.id", "kind": "PNS", "grade": GRADES[i % 8],
            "position": "Analis Kebijakan", "job_level": "Ahli Muda", "unit": UNITS[i % 8],
            "location": CITIES[i % 5], "availability": "Sen 09:00-12:00; Kam 13:00-15:00",
            "competencies": {"INT": {"level": 1 + i % 5}, "KOM": {"level": 1 + i % 4,
                                                               "target": 4}},
        })
    return out


def _timed_post(url: str, headers: dict, people: list[dict]) -> tuple[float, dict]:
    t0 = time.perf_counter()
    resp = requests.post(url, json={"people": people}, headers=headers, timeout=3600)
    elapsed = time.perf_counter() - t0
    body = resp.json()
    if resp.status_code != 200:
        raise SystemExit(f"upsert failed: {resp.status_code} {str(body)[:500]}")
    return elapsed, body


def _seed_sessions(db, n_sessions: int) -> int:
    from mentormatch.models import Pair, Person, Programme, Session, SessionSeries

    ids = list(db.session.scalars(select(Person.id).order_by(Person.id)))
    per_series = 10
    n_pairs = n_sessions // per_series
    mentors = ids[: max(1, len(ids) // 5)]
    mentees = ids[len(mentors): len(mentors) + n_pairs]
    prog = Programme(name="Bench API", start_date=date(2026, 1, 5), end_date=date(2026, 12, 18))
    db.session.add(prog)
    db.session.flush()
    now = datetime.now(UTC)
    db.session.execute(insert(Pair.__table__), [
        {"programme_id": prog.id, "mentor_id": mentors[i % len(mentors)], "mentee_id": m,
         "status": "active", "focus": [], "created_at": now, "updated_at": now}
        for i, m in enumerate(mentees)])
    pair_ids = list(db.session.scalars(select(Pair.id).where(Pair.programme_id == prog.id)))
    start = datetime(2026, 1, 6, 2, 0, tzinfo=UTC)
    db.session.execute(insert(SessionSeries.__table__), [
        {"pair_id": pid, "uid": f"bench-{pid}@mentormatch", "tzid": "Asia/Jakarta",
         "first_start": start, "duration_minutes": 60, "interval_weeks": 2,
         "count": per_series, "created_at": now, "updated_at": now, "sequence": 0,
         "status": "active"} for pid in pair_ids])
    series = list(db.session.scalars(select(SessionSeries.id).order_by(SessionSeries.id)))
    rows = []
    for k, sid in enumerate(series):
        for j in range(per_series):
            at = start + timedelta(weeks=2 * j, minutes=30 * (k % 8))
            rows.append({"series_id": sid, "recurrence_id": at, "start_at": at,
                         "end_at": at + timedelta(hours=1), "sequence": 0,
                         "status": "scheduled"})
    for i in range(0, len(rows), 5000):
        db.session.execute(insert(Session.__table__), rows[i:i + 5000])
    db.session.commit()
    return len(rows)


def run(n_people: int, batch: int, n_sessions: int, pg: bool) -> None:
    from mentormatch import create_app
    from mentormatch.extensions import db
    from mentormatch.services import api_clients
    from mentormatch.services.catalogue import sync_competencies

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as work:
        results = []
        for label in ("one call", f"batches of {batch}"):
            url_db, drop = database(pg, Path(work) / label.replace(" ", "_"))
            Path(work, label.replace(" ", "_")).mkdir(exist_ok=True)
            app = create_app({"app": {"testing": True, "database_url": url_db,
                                      "session_cookie_secure": False},
                              "api": {"rate_limit": "100000 per minute",
                                      "max_people_per_call": max(n_people, 20000)}})
            app.instance_path = str(Path(work) / "instance")
            with app.app_context():
                db.create_all()
                sync_competencies()
                token = api_clients.create_client(None, "bench", [
                    "people:write", "programmes:read"]).token
                db.session.commit()
                db.session.remove()
            server = make_server("127.0.0.1", 0, app, threaded=True)
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            base = f"http://127.0.0.1:{server.server_port}"
            headers = {"Authorization": f"Bearer {token}"}
            people = records(n_people)
            reset = _peak_rss_reset()
            rss0 = _peak_rss_mib()
            if label == "one call":
                elapsed, body = _timed_post(f"{base}/api/v1/people", headers, people)
                new = body["new"]
            else:
                elapsed, new = 0.0, 0
                for i in range(0, n_people, batch):
                    dt, body = _timed_post(f"{base}/api/v1/people", headers,
                                           people[i:i + batch])
                    elapsed += dt
                    new += body["new"]
            peak = _peak_rss_mib()
            again, body = _timed_post(f"{base}/api/v1/people", headers, people[:batch])
            results.append((label, elapsed, new, peak - rss0 if reset else peak, again,
                            body["unchanged"]))
            print(f"upsert {n_people} people, {label}: {elapsed:.1f} s "
                  f"({n_people / elapsed:.0f} people/s), new={new}, "
                  f"peak RSS {'+' if reset else ''}{results[-1][3]:.0f} MiB; "
                  f"re-send {batch} unchanged: {again:.2f} s")
            if label != "one call":
                with app.app_context():
                    count = _seed_sessions(db, n_sessions)
                    db.session.remove()
                t0 = time.perf_counter()
                pages, seen, first_etag = 0, 0, None
                page = 1
                while True:
                    resp = requests.get(f"{base}/api/v1/sessions",
                                        params={"page": page, "per_page": 500},
                                        headers=headers, timeout=600)
                    body = resp.json()
                    first_etag = first_etag or resp.headers.get("ETag")
                    seen += len(body["items"])
                    pages += 1
                    if not body["items"] or page * 500 >= body["total"]:
                        break
                    page += 1
                elapsed = time.perf_counter() - t0
                t1 = time.perf_counter()
                not_modified = requests.get(
                    f"{base}/api/v1/sessions", params={"page": 1, "per_page": 500},
                    headers={**headers, "If-None-Match": first_etag}, timeout=600)
                reval = time.perf_counter() - t1
                print(f"read {count} sessions in {pages} pages of 500: {elapsed:.1f} s "
                      f"({elapsed / pages * 1000:.0f} ms/page), {seen} rows; "
                      f"If-None-Match on page 1: {not_modified.status_code} in "
                      f"{reval * 1000:.0f} ms")
            server.shutdown()
            thread.join(timeout=10)
            with app.app_context():
                db.engine.dispose()
            if drop:
                drop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--sessions", type=int, default=40_000)
    parser.add_argument("--pg", action="store_true", help="PostgreSQL instead of SQLite")
    args = parser.parse_args(argv)
    run(args.people, args.batch, args.sessions, args.pg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
