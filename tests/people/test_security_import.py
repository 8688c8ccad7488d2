"""The staff-import preview cannot be used to stall a worker: a row limit, trailing empty rows
ignored cheaply, a bounded error list with a CSV of every problem - all through HTTP."""

from __future__ import annotations

import io
import time

import openpyxl
from sqlalchemy import func, select

from mentormatch.extensions import db as _db
from mentormatch.models import Person
from tests.helpers import set_settings
from tests.people.test_staff_import import GOOD, HEAD, csv_bytes, xlsx_bytes
from tests.people.test_staff_import_web import coordinator, upload


def _xlsx_with_far_empty_rows(empty: int) -> bytes:
    """Two staff rows, then `empty` empty rows and one blank cell in column XFD: the sheet's
    used range becomes A1:XFD<n>, as when formatting was applied to whole columns."""
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Pegawai")
    ws.append(HEAD)
    for row in GOOD:
        ws.append(row)
    for _ in range(empty):
        ws.append([None])
    ws.append([None] * 16383 + [" "])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_trailing_empty_rows_are_ignored_cheaply(app, client):
    csrf = coordinator(client)
    data = _xlsx_with_far_empty_rows(3000)
    assert len(data) < 200_000
    started = time.monotonic()
    resp = upload(client, csrf, data, "pegawai.xlsx")
    elapsed = time.monotonic() - started
    assert resp.status_code == 200, resp.text[:2000]
    assert 'id="count-new">2<' in resp.text
    assert "baris kosong berturut-turut" in resp.text  # says where reading stopped
    assert elapsed < 20, elapsed  # before: every row padded to 16,384 cells


def test_row_limit_is_refused_with_a_clear_message(app, client):
    set_settings(app, {"import": {"max_rows": 100}})
    csrf = coordinator(client)
    rows = [[f"1985031220100110{i:02d}"[-18:], f"Orang {i}", f"o{i}@example.go.id", "PNS",
             "III/c", "Analis", "Dinas", "Padang", "", "", "", "", ""] for i in range(150)]
    resp = upload(client, csrf, csv_bytes(rows))
    assert resp.status_code == 422
    assert "lebih dari 100 baris data" in resp.text
    resp = upload(client, csrf, xlsx_bytes(rows), "pegawai.xlsx")
    assert resp.status_code == 422
    assert "lebih dari 100 baris data" in resp.text
    _db.session.rollback()
    assert _db.session.scalar(select(func.count()).select_from(Person)) == 0


def test_many_errors_shown_bounded_with_csv_of_all(app, client):
    csrf = coordinator(client)
    bad = [["123", f"Orang {i}", f"x{i}@example.go.id", "PNS", "III/c", "Analis", "Dinas",
            "Padang", "", "", "", "", ""] for i in range(600)]
    resp = upload(client, csrf, csv_bytes(bad))
    assert resp.status_code == 422
    table = resp.text.split('id="import-errors"', 1)[1].split("</table>", 1)[0]
    assert table.count("<tr>") == 1 + 200  # header + the first 200 problems
    assert "Menampilkan 200 masalah pertama dari" in resp.text
    href = resp.text.split('id="import-errors-csv"', 1)[0].rsplit('href="', 1)[1].split('"')[0]
    csv_resp = client.get(href)
    assert csv_resp.status_code == 200 and "text/csv" in csv_resp.content_type
    lines = csv_resp.data.decode("utf-8-sig").strip().splitlines()
    assert lines[0] == "Baris;Kolom;Masalah" and len(lines) - 1 >= 600
