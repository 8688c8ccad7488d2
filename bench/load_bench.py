"""Many users at once against `mentormatch serve` (gunicorn), on a national-size data set.

    python bench/load_bench.py [--pg] [--users 20] [--seconds 60] [--workers N]
    python bench/load_bench.py --pg --single        # one user: time, SQL statements, size

Builds (bulk inserts, not timed) the report bench's data set - 10,000 people, one programme with
4,000 mentees and 1,500 mentors, 4,000 pairs, 40,000 sessions with logs and feedback - plus a
solved 1,000-proposal matching round, and accounts: coordinators, an admin, mentors and mentees
with their own pairs. Then starts `mentormatch serve` itself (a child process, stopped with
SIGTERM at the end), logs in N users of mixed roles through the real login form, warms the
workers on every page of the mix (not timed: the figures are those of long-running workers) and
lets each user drive a bounded mix of pages with no think time until the time is up: home,
people list (a filtered page too), programme page, round review (pages of it, a search), report
dashboard, mentor and mentee homes. Prints requests/s, p50/p95/p99 per page, errors (any status
but 200), the server's CPU time per request (workers and database backends: unlike the times, it
does not grow with other work on a shared machine), the workers' resident memory, page sizes and
the load average (the machine may be shared: read the figures beside it). ``--single`` measures
each page for one user in-process instead (Flask test client: server time, this process's CPU
time, SQL statements per request, body size). Exit status 1 when a request failed.
"""

from __future__ import annotations

import argparse
import contextlib
import http.cookiejar
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for p in (str(ROOT), str(ROOT / "bench")):
    if p not in sys.path:
        sys.path.insert(0, p)

import report_bench  # noqa: E402
from bench_db import database  # noqa: E402

PASSWORD = "rahasia-load-123"
ROUND_PROPOSALS = 1_000
MAX_REQUESTS_PER_USER = 20_000  # a bound besides the time limit


def build(url: str) -> dict:
    """The data set; returns ids and the logins by role."""
    from sqlalchemy import insert, select, text

    from mentormatch.extensions import db
    from mentormatch.models import Pair, Person, Programme, ProgrammeCoordinator, Proposal, Round
    from mentormatch.services import accounts, rounds

    app = report_bench.fresh_app(url)
    with app.app_context():
        pid, _coord = report_bench.build()
        s = db.session
        prog = s.get(Programme, pid)
        owner = accounts.create_user("pemilik@bench.go.id", ["coordinator"], password=PASSWORD)
        s.add(ProgrammeCoordinator(programme_id=pid, user_id=owner.id))
        rnd = rounds.create(prog, owner, name="Putaran besar")
        mentors = list(range(report_bench.MENTEES + 1,
                             report_bench.MENTEES + report_bench.MENTORS + 1))
        s.execute(insert(Proposal), [{
            "round_id": rnd.id, "mentee_id": i + 1, "mentor_id": mentors[i // 3],
            "weekday_utc": 1 + i % 4, "start_minute_utc": 120 + 60 * (i % 3),
            "score": 40.0 + (i * 7919) % 600 / 10, "mode": "in_person" if i % 4 == 0 else "online",
            "breakdown": {},
            "reasons": [{"code": "gap", "competency": "KOM", "from": 1, "to": 3},
                        {"code": "common_time", "weekday": "Tue", "time": "09:00",
                         "tz": "WIB"}],
            "manual": False} for i in range(ROUND_PROPOSALS)])
        s.execute(Round.__table__.update().where(Round.__table__.c.id == rnd.id)
                  .values(status="solved"))
        logins: dict[str, list[str]] = {"coordinator": ["pemilik@bench.go.id"], "admin": [],
                                         "mentor": [], "mentee": []}
        admin = accounts.create_user("admin@bench.go.id", ["admin"], password=PASSWORD)
        s.add(ProgrammeCoordinator(programme_id=pid, user_id=admin.id))
        logins["admin"].append(admin.email)
        for k in range(2, 6):
            u = accounts.create_user(f"koordinator{k}@bench.go.id", ["coordinator"],
                                     password=PASSWORD)
            s.add(ProgrammeCoordinator(programme_id=pid, user_id=u.id))
            logins["coordinator"].append(u.email)
        pairs = s.execute(select(Pair.mentor_id, Pair.mentee_id).order_by(Pair.id)
                          .limit(40)).all()
        for mentor_id, mentee_id in pairs[:20]:
            for role, person_id in (("mentor", mentor_id), ("mentee", mentee_id)):
                person = s.get(Person, person_id)
                email = f"{role}-{person_id}@akun.go.id"
                if email in logins[role]:
                    continue
                accounts.create_user(email, [role], password=PASSWORD, person=person)
                logins[role].append(email)
        s.commit()
        if s.get_bind().dialect.name == "postgresql":
            s.execute(text("ANALYZE"))
            s.commit()
        ids = {"pid": pid, "rid": rnd.id, "logins": logins}
        db.session.remove()
        db.engine.dispose()
    return ids


def existing(url: str) -> dict:
    """The ids and logins of a data set built by an earlier run (``--keep``)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        pid = conn.scalar(text("SELECT min(id) FROM programme"))
        rid = conn.scalar(text("SELECT max(id) FROM matching_round"))
        emails = conn.scalars(text("SELECT email FROM user_account ORDER BY id")).all()
    engine.dispose()
    logins: dict[str, list[str]] = {"coordinator": [], "admin": [], "mentor": [], "mentee": []}
    for email in emails:
        if email.startswith(("pemilik", "koordinator")) and email != report_bench.COORDINATOR:
            logins["coordinator"].append(email)
        elif email.startswith("admin"):
            logins["admin"].append(email)
        elif email.startswith(("mentor-", "mentee-")):
            logins[email.split("-")[0]].append(email)
    return {"pid": pid, "rid": rid, "logins": logins}


def csrf_token(html: str) -> str:
    """The login form's CSRF token, whatever the order of the hidden input's attributes
    (a hand-written input and Flask-WTF's ``hidden_tag()`` write them differently)."""
    for tag in re.findall(r"<input\b[^>]*>", html):
        if re.search(r'\bname="csrf_token"', tag):
            value = re.search(r'\bvalue="([^"]*)"', tag)
            if value:
                return value.group(1)
    raise RuntimeError("no csrf_token in the login page")


def pages_for(role: str, ids: dict) -> list[tuple[str, str, int]]:
    """(page name, path, weight) a user of this role visits."""
    pid, rid = ids["pid"], ids["rid"]
    if role in ("coordinator", "admin"):
        return [("home", "/", 3), ("people", "/people/", 2),
                ("people filtered", "/people/?city=Palu&page=3", 1),
                ("programme", f"/programmes/{pid}", 3),
                ("round review", f"/programmes/{pid}/rounds/{rid}", 3),
                ("round review p7", f"/programmes/{pid}/rounds/{rid}?page=7&sort=mentee", 1),
                ("round search", f"/programmes/{pid}/rounds/{rid}?q=Pegawai+12", 1),
                ("report dashboard", f"/programmes/{pid}/reports/", 2)]
    if role == "mentor":
        return [("home", "/", 1), ("mentor home", "/mentor", 3)]
    return [("home", "/", 1), ("mentee home", "/mentee", 3)]


# ------------------------------------------------------------------ one user, in-process


def single(url: str, ids: dict, repeat: int) -> int:
    from sqlalchemy import event

    from mentormatch import create_app
    from mentormatch.extensions import db

    app = create_app({"app": {"testing": True, "database_url": url, "base_url": "http://bench",
                              "trusted_hosts": ["localhost"],  # the test client's host
                              "session_cookie_secure": False,
                              "login_rate_limit": "100000 per minute"},
                      "mail": {"transport": "folder"}})
    statements = [0]
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute",
                     lambda *a, **k: statements.__setitem__(0, statements[0] + 1))
    worst = 0
    for role in ("coordinator", "mentor", "mentee"):
        client = app.test_client()
        email = ids["logins"][role][0]
        token = csrf_token(client.get("/login").get_data(as_text=True))
        r = client.post("/login", data={"email": email, "password": PASSWORD,
                                        "csrf_token": token})
        assert r.status_code == 302, (email, r.status_code)
        for name, path, _w in pages_for(role, ids):
            times, cpu, count, size = [], [], 0, 0
            for i in range(repeat + 1):
                statements[0] = 0
                t0, c0 = time.perf_counter(), time.process_time()
                resp = client.get(path)
                body = resp.get_data()
                ms = (time.perf_counter() - t0) * 1000
                cpu_ms = (time.process_time() - c0) * 1000
                if resp.status_code != 200:
                    print(f"  {name}: status {resp.status_code}")
                    worst = 1
                if i:
                    times.append(ms)
                    cpu.append(cpu_ms)
                count, size = statements[0], len(body)
            print(f"  {role:<11} {name:<18} {statistics.median(times):6.0f} ms  "
                  f"(CPU {statistics.median(cpu):4.0f} ms)  "
                  f"{count:3d} statements  {size / 1024:6.0f} KiB")
    print(f"  load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return worst


# ------------------------------------------------------------------ many users over HTTP


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class User(threading.Thread):
    def __init__(self, base: str, email: str, pages: list[tuple[str, str, int]],
                 deadline: float, seed: int, results: dict) -> None:
        super().__init__(daemon=True)
        self.base, self.email, self.deadline = base, email, deadline
        self.pages = [p for p in pages for _ in range(p[2])]
        self.rng = random.Random(seed)
        self.results = results
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.login_error: str | None = None
        self.role = ""

    def login(self) -> None:
        with self.opener.open(self.base + "/login", timeout=60) as r:
            token = csrf_token(r.read().decode())
        data = urllib.parse.urlencode({"email": self.email, "password": PASSWORD,
                                       "csrf_token": token}).encode()
        with self.opener.open(self.base + "/login", data=data, timeout=60) as r:
            if "/login" in r.geturl():
                raise RuntimeError(f"login failed for {self.email}")

    def run(self) -> None:
        for _ in range(MAX_REQUESTS_PER_USER):
            if time.monotonic() >= self.deadline:
                return
            name, path, _w = self.rng.choice(self.pages)
            t0 = time.perf_counter()
            status, size = 0, 0
            try:
                with self.opener.open(self.base + path, timeout=60) as r:
                    body = r.read()
                    status, size = r.status, len(body)
                    if "/login" in r.geturl():
                        status = 401
            except urllib.error.HTTPError as exc:
                status = exc.code
            except OSError as exc:
                status = -1
                self.results["exceptions"].append(repr(exc))
            ms = (time.perf_counter() - t0) * 1000
            with self.results["lock"]:
                self.results["times"][name].append(ms)
                self.results["sizes"][name] = max(self.results["sizes"].get(name, 0), size)
                if status != 200:
                    self.results["errors"][(name, status)] += 1


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    out.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return out


def _rss_mib(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _cpu_ms(pid: int) -> float:
    """User + system CPU time a process has used (ms)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _db_backends(url: str) -> list[int]:
    """Server processes serving the bench's PostgreSQL database (no one else uses it)."""
    if not url.startswith("postgresql"):
        return []
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.scalars(text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()")))
    finally:
        engine.dispose()


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def load(url: str, ids: dict, users: int, seconds: float, workers: int | None) -> int:
    from mentormatch.cli import default_workers

    workers = workers or default_workers()
    port = _free_port()
    env = dict(os.environ, MENTORMATCH_DATABASE_URL=url, MENTORMATCH_SECRET_KEY="b" * 32,
               MENTORMATCH_APP__SESSION_COOKIE_SECURE="false",
               MENTORMATCH_APP__LOGIN_RATE_LIMIT="100000 per minute",
               MENTORMATCH_APP__BASE_URL=f"http://127.0.0.1:{port}",
               # the production setting for several workers: login throttling shared in Redis
               MENTORMATCH_APP__RATELIMIT_STORAGE_URI=os.environ.get(
                   "MENTORMATCH_APP__RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/15"),
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    log = open(Path(tempfile.gettempdir()) / f"mm-load-serve-{port}.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "mentormatch.cli", "serve", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers)], env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            raise SystemExit(f"serve did not start; see {log.name}")
        results = {"lock": threading.Lock(), "times": defaultdict(list), "sizes": {},
                   "errors": defaultdict(int), "exceptions": []}
        roles = ["coordinator", "coordinator", "admin", "mentor", "mentee"]
        threads = []
        for i in range(users):
            role = roles[i % len(roles)]
            emails = ids["logins"][role]
            threads.append(User(base, emails[i % len(emails)], pages_for(role, ids),
                                0, i, results))
            threads[-1].role = role
        for t in threads:
            t.login()
        # not timed: every page of the mix a few times per worker, so the timed part measures
        # long-running workers (templates compiled, statements prepared), not their first minute
        warmers = {t.role: t for t in threads}
        for role, user in warmers.items():
            for _ in range(workers * 2):
                for _name, path, _w in pages_for(role, ids):
                    with contextlib.suppress(OSError):
                        user.opener.open(base + path, timeout=60).read()
        load0 = os.getloadavg()
        workers_cpu0 = {c: _cpu_ms(c) for c in _children(proc.pid)}
        db_cpu0 = {b: _cpu_ms(b) for b in _db_backends(url)}
        started = time.monotonic()
        for t in threads:
            t.deadline = started + seconds
            t.start()
        rss = []
        while any(t.is_alive() for t in threads):
            time.sleep(1)
            rss.append(sum(_rss_mib(c) for c in _children(proc.pid)))
            if time.monotonic() > started + seconds + 120:
                break
        elapsed = time.monotonic() - started
        worker_rss = [_rss_mib(c) for c in _children(proc.pid)]
        # CPU the server spent (the workers, and this database's backends): per request it
        # does not depend on what else the shared machine runs, unlike the times above
        workers_cpu = sum(_cpu_ms(c) - workers_cpu0.get(c, 0.0) for c in _children(proc.pid))
        db_cpu = sum(_cpu_ms(b) - db_cpu0.get(b, 0.0) for b in _db_backends(url))
        load1 = os.getloadavg()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    times = results["times"]
    total = sum(len(v) for v in times.values())
    everything = [x for v in times.values() for x in v]
    print(f"== {users} users, {seconds:.0f} s, {workers} workers: {total} requests, "
          f"{total / elapsed:.1f} req/s")
    print(f"  {'page':<18} {'n':>6} {'p50':>7} {'p95':>7} {'p99':>7} {'KiB':>6}")
    for name in sorted(times):
        v = times[name]
        print(f"  {name:<18} {len(v):6d} {_pct(v, .5):7.0f} {_pct(v, .95):7.0f} "
              f"{_pct(v, .99):7.0f} {results['sizes'].get(name, 0) / 1024:6.0f}")
    print(f"  {'all':<18} {total:6d} {_pct(everything, .5):7.0f} {_pct(everything, .95):7.0f} "
          f"{_pct(everything, .99):7.0f}")
    errors = sum(results["errors"].values())
    print(f"  errors: {errors} {dict(results['errors']) if errors else ''}"
          f"{' ' + str(results['exceptions'][:3]) if results['exceptions'] else ''}")
    print(f"  server CPU per request: {workers_cpu / max(1, total):.1f} ms in the workers"
          + (f", {db_cpu / max(1, total):.1f} ms in the database" if db_cpu else ""))
    print(f"  worker memory: {', '.join(f'{m:.0f}' for m in worker_rss)} MiB RSS "
          f"(peak sum {max(rss or [0]):.0f} MiB)")
    print(f"  load average before {load0[0]:.1f}, after {load1[0]:.1f} "
          f"(1 min) on {os.cpu_count()} CPUs; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    return 1 if errors else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pg", action="store_true", help="PostgreSQL (a throwaway database)")
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--workers", type=int, default=None,
                    help="default: what `serve` starts (CPU + 1)")
    ap.add_argument("--single", action="store_true", help="one user, in-process, per page")
    ap.add_argument("--repeat", type=int, default=5, help="--single: runs per page")
    ap.add_argument("--keep", action="store_true", help="keep the database; print its URL")
    ap.add_argument("--reuse", metavar="URL", help="a database an earlier --keep run built")
    args = ap.parse_args(argv)
    if not 1 <= args.users <= 200 or not 1 <= args.seconds <= 1800:
        ap.error("--users 1..200, --seconds 1..1800")
    if args.reuse:
        ids = existing(args.reuse)
        return single(args.reuse, ids, args.repeat) if args.single else \
            load(args.reuse, ids, args.users, args.seconds, args.workers)
    work = tempfile.mkdtemp(prefix="mm-load-")
    url, drop = database(args.pg, Path(work))
    try:
        t0 = time.perf_counter()
        ids = build(url)
        print(f"  built in {time.perf_counter() - t0:.0f} s "
              f"({'PostgreSQL' if args.pg else 'SQLite'})")
        if args.single:
            return single(url, ids, args.repeat)
        return load(url, ids, args.users, args.seconds, args.workers)
    finally:
        if args.keep:
            print(f"  kept: --reuse {url}")
        elif drop is not None:
            drop()


if __name__ == "__main__":
    sys.exit(main())
