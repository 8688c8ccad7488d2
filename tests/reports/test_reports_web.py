"""The report pages over HTTP: what a coordinator sees, alert pages (pages, filters, nudge
buttons and their messages), streamed exports, and access: a coordinator of programme A sees
nothing of programme B on any report URL or export."""

from __future__ import annotations

import csv
import io
import re

import openpyxl
import pytest
from sqlalchemy import func, select

from mentormatch.extensions import db
from mentormatch.models import OutboxMessage, ProgrammeCoordinator
from mentormatch.services import exports, reports
from tests import factories as f
from tests.helpers import csrf_from, set_settings
from tests.reports.test_reports import NOW, world  # noqa: F401  (fixture)


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """The pages read the alerts "as of now": the fixture's now."""
    monkeypatch.setattr(reports.common, "utcnow", lambda: NOW)


def _coordinator(programme):
    u = f.user(("coordinator",))
    db.session.add(ProgrammeCoordinator(programme_id=programme.id, user_id=u.id))
    db.session.commit()
    return u


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _row(html: str, table_id: str, label: str) -> list[str]:
    table = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    row = table.split(f'data-label="{label}"', 1)[1].split("</tr>", 1)[0]
    return [c.strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]


def _english(client):
    token = csrf_from(client, "/")
    client.post("/language", data={"csrf_token": token, "locale": "en", "next": "/"})


def _nudge_count():
    return db.session.scalar(select(func.count(OutboxMessage.id))
                             .where(OutboxMessage.kind == "report_nudge"))


def base_of(programme) -> str:
    return f"/programmes/{programme.id}/reports"


def test_dashboard_page_shows_the_figures(world, client):  # noqa: F811
    prog = world["prog"]
    f.login(client, _coordinator(prog))
    html = client.get(base_of(prog) + "/").get_data(as_text=True)
    assert 'id="report-data"' in html and "vendor/chart.umd.min.js" in html
    assert "<script>" not in html  # CSP: no inline script
    text = _text(html)
    assert "Peserta" in text  # Indonesian by default
    assert re.search(r'id="kpi-participants">5<', html)
    assert re.search(r'id="kpi-matched">50 %<', html)
    assert re.search(r'id="kpi-sessions">3 / 6<', html)
    assert re.search(r'id="kpi-jp">3,5<', html)
    assert re.search(r'id="kpi-median">5 jam<', html)
    # a breakdown row carries every figure of the group, the median per group included
    assert _row(html, "by-unit", "Dinas B") == [
        "Dinas B", "2", "2", "1", "50", "1", "0", "2", "10", "2", "1", "0", "1", "1", "1,5",
        "4"]
    assert _row(html, "by-band", "IV")[8] == "4"  # 4, never 4.0
    # the monthly trend: months and hours as the reader writes them ("Feb 2026", "1,7")
    trend = html.split('id="trend"')[1] if 'id="trend"' in html else html
    assert "Feb 2026" in trend and "2026-02" not in _text(trend) and ">1,7<" in trend
    for kind in exports.KINDS:
        assert f"/export/{kind}.csv" in html and f"/export/{kind}.xlsx" in html
    assert "Integritas" in html and '"INT"' not in html  # names, not raw codes, on the chart

    _english(client)
    html = client.get(base_of(prog) + "/").get_data(as_text=True)
    text = _text(html)
    assert "Participants" in text and "Median time to answer" in text
    assert re.search(r'id="kpi-jp">3.5<', html)  # English decimals


def test_evaluation_page_shows_the_averages_per_question(world, client):  # noqa: F811
    prog = world["prog"]
    f.login(client, _coordinator(prog))
    html = client.get(base_of(prog) + "/evaluations").get_data(as_text=True)
    row = html.split('data-key="usefulness"', 1)[1].split("</tr>", 1)[0]
    cells = [c.strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
    assert cells == ["Secara keseluruhan, mentoring ini bermanfaat.", "4,5", "2", "3", "–"]
    assert "SECRET-EVAL" not in html and 'data-key="comment"' not in html
    assert "Secara keseluruhan" in client.get(base_of(prog) + "/print").get_data(as_text=True)


def test_reports_index_lists_only_my_programmes(world, client):  # noqa: F811
    f.login(client, _coordinator(world["other"]))
    html = client.get("/reports/").get_data(as_text=True)
    assert f"/programmes/{world['other'].id}/reports/" in html
    assert "Mentoring 2026" not in html and f"/programmes/{world['prog'].id}/" not in html


def test_alert_pages_paginate_and_filter(world, client, app):  # noqa: F811
    prog = world["prog"]
    f.login(client, _coordinator(prog))
    set_settings(app, reports={"page_size": 1})
    base = base_of(prog) + "/alerts/no_session"
    html = client.get(base + "?days=30").get_data(as_text=True)
    assert "Mentee Satu" in html and "Mentee Lima" not in html
    assert "Halaman 1 dari 2" in _text(html) and 'rel="next"' in html
    html = client.get(base + "?days=30&page=2").get_data(as_text=True)
    assert "Mentee Lima" in html and "Mentee Satu" not in html
    html = client.get(base + f"?days=30&unit={world['m2'].unit_id}").get_data(as_text=True)
    assert "Mentee Lima" in html and "Mentee Satu" not in html and 'id="pager"' not in html
    html = client.get(base + "?days=30&city=Padang").get_data(as_text=True)
    assert "Mentee Satu" in html and "Mentee Lima" not in html
    html = client.get(base + "?days=45").get_data(as_text=True)
    assert "Mentee Satu" in html and "Halaman" not in _text(html)
    for kind in reports.ALERT_KINDS:
        assert client.get(base_of(prog) + f"/alerts/{kind}").status_code == 200
    assert client.get(base_of(prog) + "/alerts/bogus").status_code == 404
    assert client.get(base + "?page=abc&unit=x").status_code == 200  # bad input: defaults


def test_nudge_buttons_report_the_real_count(world, client):  # noqa: F811
    prog = world["prog"]
    f.login(client, _coordinator(prog))
    page = base_of(prog) + "/alerts/behind_jp"
    token = csrf_from(client, page)
    resp = client.post(page + "/nudge", data={"csrf_token": token}, follow_redirects=True)
    text = _text(resp.get_data(as_text=True))
    assert "Pengingat diantrekan: 2; sudah diingatkan hari ini: 0." in text
    assert _nudge_count() == 2
    resp = client.post(page + "/nudge", data={"csrf_token": token}, follow_redirects=True)
    assert "Tidak ada yang diantrekan: 2 orang sudah diingatkan hari ini." in _text(
        resp.get_data(as_text=True))
    assert _nudge_count() == 2

    # one row's button: that person only
    page = base_of(prog) + "/alerts/over_capacity"
    resp = client.post(page + "/nudge", data={"csrf_token": token,
                                              "person_id": str(world["m1"].id)})
    assert resp.status_code == 302 and _nudge_count() == 3
    assert client.post(page + "/nudge", data={"person_id": str(world["m1"].id)}
                       ).status_code == 400  # no CSRF token


def test_exports_over_http_stream_and_read_back(world, client):  # noqa: F811
    prog = world["prog"]
    f.login(client, _coordinator(prog))
    expected_rows = {"pairs": 4, "sessions": 7, "logs": 3, "jp": 6, "feedback": 5,
                     "evaluations": 4}
    for kind, n in expected_rows.items():
        resp = client.get(base_of(prog) + f"/export/{kind}.csv")
        assert resp.status_code == 200 and resp.is_streamed, kind
        assert resp.headers["Content-Disposition"] == (
            f'attachment; filename="programme-{prog.id}-{kind}.csv"')
        assert resp.headers["Cache-Control"] == "no-store"
        table = list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
        assert len(table) == n + 1, kind
        resp = client.get(base_of(prog) + f"/export/{kind}.xlsx")
        assert resp.mimetype == exports.XLSX_MIME
        wb = openpyxl.load_workbook(io.BytesIO(resp.data), read_only=True)
        assert sum(1 for _ in wb[kind].iter_rows()) == n + 1, kind
        wb.close()
    assert client.get(base_of(prog) + "/export/notes.csv").status_code == 404
    assert client.get(base_of(prog) + "/export/pairs.pdf").status_code == 404


def test_exports_for_people_speak_indonesian_and_local_time(world, client):  # noqa: F811
    """What a coordinator downloads opens right in Indonesian Excel: ";" CSV with a BOM,
    Indonesian headers and states, WIB dates, "2,22" decimals; XLSX holds real date cells.
    The machine export for HR systems keeps English keys, ISO UTC and ","."""
    from datetime import datetime

    prog = world["prog"]
    f.login(client, _coordinator(prog))
    text = client.get(base_of(prog) + "/export/sessions.csv").get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:]), delimiter=";"))
    assert list(rows[0])[:7] == ["No. sesi", "No. pasangan", "NIP mentor", "NIP mentee",
                                 "Mulai (WIB)", "Selesai (WIB)", "Status"]
    assert rows[0]["Mulai (WIB)"] == "10/02/2026 10:00"  # 03:00 UTC
    assert {"Terlaksana", "Dibatalkan", "Terlewat", "Direncanakan"} <= {
        r["Status"] for r in rows}
    logs = list(csv.DictReader(io.StringIO(client.get(base_of(prog) + "/export/logs.csv")
                                           .get_data(as_text=True)[1:]), delimiter=";"))
    # a log states minutes; JP only for totals (the jp export), never per log
    assert "JP (belum dibulatkan)" not in logs[0]
    assert (logs[0]["Tanggal pelaksanaan"], logs[0]["Menit diakui"],
            logs[0]["Status"]) == ("10/02/2026", "100", "Dikonfirmasi")
    assert logs[1]["Status"] == "Menunggu konfirmasi"
    jp_rows = list(csv.DictReader(io.StringIO(client.get(base_of(prog) + "/export/jp.csv")
                                              .get_data(as_text=True)[1:]), delimiter=";"))
    assert sorted(r["JP"] for r in jp_rows) == ["0", "0", "1,5", "1,5", "2", "2"]
    assert "2.0" not in "".join(r["JP"] for r in jp_rows)

    wb = openpyxl.load_workbook(io.BytesIO(client.get(base_of(prog) + "/export/sessions.xlsx")
                                           .data))
    ws = wb["sessions"]
    assert ws["E1"].value == "Mulai (WIB)"
    assert ws["E2"].value == datetime(2026, 2, 10, 10, 0) and ws["E2"].is_date
    assert "dd/mm/yyyy" in ws["E2"].number_format
    ws = openpyxl.load_workbook(io.BytesIO(client.get(base_of(prog) + "/export/logs.xlsx")
                                           .data))["logs"]
    assert ws["F2"].is_date and ws["F2"].value.date().isoformat() == "2026-02-10"

    machine = client.get(base_of(prog) + "/export/sessions.csv?format=machine")
    assert machine.headers["Content-Disposition"].endswith('-sessions-machine.csv"')
    table = list(csv.DictReader(io.StringIO(machine.get_data(as_text=True)[1:])))
    assert list(table[0])[:7] == ["session_id", "pair_id", "mentor_nip", "mentee_nip",
                                  "start_utc", "end_utc", "status"]
    assert table[0]["start_utc"].startswith("2026-02-10T03:00")
    assert "held" in {r["status"] for r in table}
    html = client.get(base_of(prog) + "/").get_data(as_text=True)
    assert "format=machine" in html


def _every_report_url(programme) -> list[str]:
    base = base_of(programme)
    urls = [base + "/", base + "/print", base + "/competencies", base + "/evaluations"]
    urls += [base + f"/alerts/{kind}" for kind in reports.ALERT_KINDS]
    urls += [base + f"/export/{kind}.{fmt}" for kind in exports.KINDS for fmt in exports.FORMATS]
    return urls


def test_access_a_coordinator_sees_nothing_of_another_programme(world, client):  # noqa: F811
    prog, other = world["prog"], world["other"]
    for url in _every_report_url(prog):
        assert client.get(url).status_code in (302, 401), url  # anonymous: to the login
    f.login(client, _coordinator(other))
    for url in _every_report_url(prog):
        resp = client.get(url)
        assert resp.status_code == 404, url
        assert "Mentee Satu" not in resp.get_data(as_text=True)
    token = csrf_from(client, base_of(other) + "/")
    for kind in reports.ALERT_KINDS:
        resp = client.post(base_of(prog) + f"/alerts/{kind}/nudge",
                           data={"csrf_token": token})
        assert resp.status_code == 404, kind
    assert _nudge_count() == 0
    for url in _every_report_url(other):
        assert client.get(url).status_code == 200, url
    assert client.get("/programmes/99999/reports/").status_code == 404


@pytest.mark.parametrize("roles", [("mentee",), ("mentor",)])
def test_access_participants_see_no_reports(world, client, roles):  # noqa: F811
    person = world["e1"] if roles == ("mentee",) else world["m1"]
    user = f.user(roles, person_row=person)
    db.session.commit()
    f.login(client, user)
    for url in _every_report_url(world["prog"]):
        assert client.get(url).status_code in (403, 404), url
    assert client.get("/reports/").status_code == 403


def test_admin_sees_every_programme(world, client):  # noqa: F811
    admin = f.user(("admin",))
    db.session.commit()
    f.login(client, admin)
    assert client.get(base_of(world["prog"]) + "/").status_code == 200
    html = client.get("/reports/").get_data(as_text=True)
    assert "Mentoring 2026" in html and "Other" in html
