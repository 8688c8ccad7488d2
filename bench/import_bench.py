"""Time and peak memory to import 20,000 staff rows from XLSX and CSV.

    python bench/import_bench.py [--rows 20000] [--pg] [--pg-admin URL]
    python bench/import_bench.py --hostile      # 20 MB files built to stall a worker

For each format, on a fresh database: preview (validate only), apply + commit (all new), and a
re-import preview (all unchanged). Timings are taken without tracemalloc; a second run of
preview + apply under tracemalloc gives the Python heap peak; ru_maxrss is the process peak.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import resource
import sys
import tempfile
import time
import tracemalloc
import uuid
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

HEAD = ["NIP", "Nama", "Email", "Jenis", "Golongan", "Jabatan", "Jenjang Jabatan", "Unit Kerja",
        "Lokasi Kerja", "NIP Atasan", "Ketersediaan", "Cuti",
        "INT", "KOM", "KOM Target", "PP", "PP Target", "PK"]
UNITS = ["Dinas Kominfo", "BKPSDM", "Dinas Kesehatan", "Bappeda", "Dinas Pendidikan",
         "Kecamatan Pauh", "Kecamatan Plaju", "Kecamatan Mulyorejo"]
CITIES = ["Padang (Pauh)", "Palembang (Plaju)", "Surabaya (Mulyorejo)", "Palu", "Bandung"]
GRADES = ["II/a", "II/c", "III/a", "III/b", "III/c", "III/d", "IV/a", "IV/b"]
FIRST = ["Siti", "Budi", "Rina", "Agus", "Dewi", "Hendra", "Nur", "Andi", "Putri", "Rizky"]
LAST = ["Rahmawati", "Santoso", "Siregar", "Nasution", "Wijaya", "Lestari", "Saputra", "Hasibuan"]


def nip_for(i: int) -> str:
    birth = date(1970, 1, 1) + timedelta(days=i % 10000)
    appointment = f"{birth.year + 22}{1 + i % 12:02d}"
    return f"{birth:%Y%m%d}{appointment}{1 + (i // 10000) % 2}{1 + i % 999:03d}"


def make_rows(n: int) -> list[list[object]]:
    rows = []
    for i in range(n):
        supervisor = nip_for(i - i % 20) if i % 20 else ""
        rows.append([
            nip_for(i), f"{FIRST[i % 10]} {LAST[i % 8]} {i}", f"pegawai{i}@example.go.id", "PNS",
            GRADES[i % 8], "Analis Kebijakan", "Ahli Muda", UNITS[i % 8], CITIES[i % 5],
            supervisor, "Sen 09:00-12:00; Kam 13:00-15:00", "2026-12-01..2026-12-05" if i % 7 == 0
            else "", 1 + i % 5, 1 + i % 4, 4, 2 + i % 3, 4, 3,
        ])
    return rows


def as_csv(rows) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEAD)
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def as_xlsx(rows) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Pegawai")
    ws.append(HEAD)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


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


def run(url: str, label: str, data: bytes, filename: str) -> None:
    from mentormatch.extensions import db
    from mentormatch.services import staff_import

    app = fresh_app(url)
    with app.app_context():
        t = time.perf_counter()
        report = staff_import.preview(data, filename)
        t_preview = time.perf_counter() - t
        db.session.rollback()
        assert report.ok, report.messages("en")[:5]
        t = time.perf_counter()
        report = staff_import.apply(data, filename, actor=None)
        db.session.commit()
        t_apply = time.perf_counter() - t
        assert report.ok and report.new == report.rows, report.summary()
        t = time.perf_counter()
        again = staff_import.preview(data, filename)
        t_again = time.perf_counter() - t
        db.session.rollback()
        assert again.unchanged == again.rows, again.summary()
        db.engine.dispose()
    app = fresh_app(url)
    with app.app_context():
        tracemalloc.start()
        staff_import.preview(data, filename)
        db.session.rollback()
        _, peak_preview = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        staff_import.apply(data, filename, actor=None)
        db.session.commit()
        _, peak_apply = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        db.engine.dispose()
    print(f"{label:<16} {report.rows:>6} rows  {len(data) / 1e6:5.1f} MB  "
          f"preview {t_preview:6.2f} s  apply+commit {t_apply:6.2f} s  "
          f"re-import preview {t_again:6.2f} s  "
          f"heap peak preview {peak_preview / 1e6:6.1f} MB apply {peak_apply / 1e6:6.1f} MB  "
          f"maxrss {rss_mb():6.0f} MB", flush=True)


def _hostile_one(label: str, path: str, filename: str, url: str, out) -> None:
    """In a fresh child process: read the file, one preview, its time and the process's peak
    memory (ru_maxrss of this process only)."""
    from mentormatch.extensions import db
    from mentormatch.services import staff_import

    data = Path(path).read_bytes()
    app = fresh_app(url)
    with app.app_context():
        base = rss_mb()
        t = time.perf_counter()
        report = staff_import.preview(data, filename)
        elapsed = time.perf_counter() - t
        db.session.rollback()
        first = report.messages("id")[:1]
        out.put(f"{label:<34} {len(data) / 1e6:5.1f} MB  preview {elapsed:6.2f} s  "
                f"maxrss {rss_mb():5.0f} MB (before {base:4.0f} MB)  rows {report.rows:>6}  "
                f"problems {report.issue_total:>6}  {first[0][:60] if first else 'ok'}")
        db.engine.dispose()


def _write_hostile(tmp: Path) -> list[tuple[str, str, str]]:
    import openpyxl

    target = 20_000_000
    cases: list[tuple[str, str, str]] = []

    def put(label: str, data: bytes, filename: str) -> None:
        path = tmp / f"case{len(cases)}_{filename}"
        path.write_bytes(data)
        cases.append((label, str(path), filename))

    per_row = len(as_csv(make_rows(200))) / 200
    n = int(target / per_row)
    put("csv, 20 MB of valid rows", as_csv(make_rows(n)), "staff.csv")
    put("csv, 20 MB of rows all wrong", as_csv([["123"] + r[1:] for r in make_rows(n)]),
        "staff.csv")
    put("xlsx, 140,000 rows", as_xlsx(make_rows(140_000)), "staff.xlsx")
    put("csv, 50,000 valid rows (the limit)", as_csv(make_rows(50_000)), "staff.csv")
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Pegawai")
    ws.append(HEAD)
    for r in make_rows(10):
        ws.append(r)
    for _ in range(1_000_000):
        ws.append([None])
    ws.append([None] * 16383 + [" "])
    buf = io.BytesIO()
    wb.save(buf)
    put("xlsx, 10 rows + 1M empty to XFD", buf.getvalue(), "staff.xlsx")
    return cases


def hostile() -> None:
    """Files that stalled or killed a worker before the import had bounds (issue: 318,000
    error rows from 20 KB; 81 KB of empty rows -> 67 s, 1.3 GB). Each preview runs in its own
    fresh process so maxrss is that preview's peak; the bound is < 300 MB."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp:
        cases = _write_hostile(Path(tmp))
        url = f"sqlite:///{tmp}/bench.db"
        for label, path, filename in cases:
            q = ctx.Queue()
            p = ctx.Process(target=_hostile_one, args=(label, path, filename, url, q))
            p.start()
            print(q.get(timeout=600), flush=True)
            p.join(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hostile", action="store_true",
                        help="20 MB / hostile files: time and peak memory of the preview")
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--pg", action="store_true", help="also run on PostgreSQL")
    parser.add_argument("--pg-admin", default=os.environ.get(
        "MENTORMATCH_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    if args.hostile:
        hostile()
        return

    rows = make_rows(args.rows)
    t = time.perf_counter()
    files = {"xlsx": as_xlsx(rows), "csv": as_csv(rows)}
    print(f"generated {args.rows} rows in {time.perf_counter() - t:.1f} s "
          f"(xlsx {len(files['xlsx']) / 1e6:.1f} MB, csv {len(files['csv']) / 1e6:.1f} MB)")
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        for fmt, data in files.items():
            run(url, f"sqlite/{fmt}", data, f"staff.{fmt}")
    if args.pg:
        from sqlalchemy import create_engine, text

        name = f"mm_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.pg_admin, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = args.pg_admin.rsplit("/", 1)[0] + f"/{name}"
            for fmt, data in files.items():
                run(url, f"postgresql/{fmt}", data, f"staff.{fmt}")
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
