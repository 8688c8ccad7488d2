"""Programme reports: dashboard numbers against a hand-computed fixture, alerts and nudges,
competency progress, exports read back, and access (a coordinator sees only their programme)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import openpyxl
import pytest

from mentormatch.extensions import db
from mentormatch.models import (
    Attendee,
    Feedback,
    OutboxMessage,
    Pair,
    Participant,
    PersonCompetency,
    Programme,
    ProgrammeCoordinator,
    Session,
    SessionLog,
    SessionSeries,
)
from mentormatch.services import exports, reports
from mentormatch.services.catalogue import by_code
from tests import factories as f
from tests.helpers import csrf_from

NOW = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


def at(y, m, d, h=3):
    return datetime(y, m, d, h, tzinfo=UTC)


def _series(pair, n):
    s = SessionSeries(pair_id=pair.id, uid=f"uid-{pair.id}-{n}@test", tzid="Asia/Jakarta",
                      first_start=at(2026, 2, 10), duration_minutes=60, interval_weeks=2,
                      count=6)
    db.session.add(s)
    db.session.flush()
    return s


def _session(series, start, status):
    row = Session(series_id=series.id, recurrence_id=start, start_at=start,
                  end_at=start + timedelta(hours=1), status=status)
    db.session.add(row)
    db.session.flush()
    return row


def build_world():
    """The hand-computed fixture (see the expected numbers in the tests)."""
    padang = f.location("Padang (Pauh)", "Padang")
    palu = f.location("Palu", "Palu", "Asia/Makassar")
    m1 = f.person("Mentor Satu", grade=13, unit_name="Dinas A", loc=padang,
                  levels={"INT": 4})
    m2 = f.person("Mentor Dua", grade=12, unit_name="Dinas B", loc=palu)
    e1 = f.person("Mentee Satu", grade=9, unit_name="Dinas A", loc=padang, locale="en")
    e2 = f.person("Mentee Dua", grade=5, unit_name="Dinas B", loc=palu)
    e3 = f.person("=Mentee Tiga", grade=3, unit_name="Dinas A", loc=padang)
    codes = by_code()
    db.session.add_all([
        PersonCompetency(person_id=e1.id, competency_id=codes["INT"].id, baseline_level=2,
                         current_level=3, required_level=4),
        PersonCompetency(person_id=e2.id, competency_id=codes["INT"].id, baseline_level=None,
                         current_level=2, required_level=4),
    ])
    prog = Programme(name="Mentoring 2026", start_date=date(2026, 1, 1),
                     end_date=date(2026, 12, 31))
    other = Programme(name="Other", start_date=date(2026, 1, 1), end_date=date(2026, 12, 31))
    db.session.add_all([prog, other])
    db.session.flush()
    db.session.add_all([
        Participant(programme_id=prog.id, person_id=m1.id, role="mentor", capacity=1),
        Participant(programme_id=prog.id, person_id=m2.id, role="mentor"),
        Participant(programme_id=prog.id, person_id=e1.id, role="mentee"),
        Participant(programme_id=prog.id, person_id=e2.id, role="mentee"),
        Participant(programme_id=prog.id, person_id=e3.id, role="mentee"),
        # the other programme's rows must not leak into the counts
        Participant(programme_id=other.id, person_id=e3.id, role="mentee"),
    ])
    pa = Pair(programme_id=prog.id, mentor_id=m1.id, mentee_id=e1.id, status="active",
              created_at=at(2026, 1, 20))
    pb = Pair(programme_id=prog.id, mentor_id=m1.id, mentee_id=e2.id, status="active",
              created_at=at(2026, 4, 20))
    pc = Pair(programme_id=prog.id, mentor_id=m2.id, mentee_id=e3.id, status="declined",
              created_at=at(2026, 1, 20))
    px = Pair(programme_id=other.id, mentor_id=m2.id, mentee_id=e3.id, status="active",
              created_at=at(2026, 1, 20))
    db.session.add_all([pa, pb, pc, px])
    db.session.flush()
    sa, sb, sx = _series(pa, 1), _series(pb, 1), _series(px, 1)
    inv = at(2026, 1, 21, 0)
    db.session.add_all([
        Attendee(series_id=sa.id, person_id=m1.id, email=m1.email, role="mentor",
                 partstat="ACCEPTED", invited_at=inv, answered_at=inv + timedelta(hours=2)),
        Attendee(series_id=sa.id, person_id=e1.id, email=e1.email, role="mentee",
                 partstat="ACCEPTED", invited_at=inv, answered_at=inv + timedelta(hours=4)),
        Attendee(series_id=sb.id, person_id=m1.id, email=m1.email, role="mentor",
                 partstat="DECLINED", invited_at=inv, answered_at=inv + timedelta(hours=6)),
        Attendee(series_id=sb.id, person_id=e2.id, email=e2.email, role="mentee",
                 partstat="NEEDS-ACTION", invited_at=at(2026, 4, 21)),
        Attendee(series_id=sx.id, person_id=e3.id, email=e3.email, role="mentee",
                 partstat="NEEDS-ACTION", invited_at=inv),
    ])
    s1 = _session(sa, at(2026, 2, 10), "held")
    s2 = _session(sa, at(2026, 3, 10), "held")
    _session(sa, at(2026, 3, 24), "missed")
    _session(sb, at(2026, 4, 10), "scheduled")
    _session(sb, at(2026, 2, 10), "cancelled")
    _session(sx, at(2026, 2, 10), "held")
    log1 = SessionLog(pair_id=pa.id, session_id=s1.id, author_id=e1.id, held_on=date(2026, 2, 10),
                      duration_minutes=90, topics="Integritas", notes="SECRET-NOTE-1",
                      status="confirmed", credited_minutes=90)
    log2 = SessionLog(pair_id=pa.id, session_id=s2.id, author_id=e1.id, held_on=date(2026, 3, 10),
                      duration_minutes=60, topics="Integritas", notes="SECRET-NOTE-2",
                      status="submitted", credited_minutes=0)
    db.session.add_all([log1, log2])
    db.session.flush()
    db.session.add_all([
        Feedback(log_id=log1.id, author_id=e1.id, rating=5, comment="private words"),
        Feedback(log_id=log1.id, author_id=m1.id, rating=4),
        Feedback(log_id=log2.id, author_id=e1.id, rating=2),
    ])
    db.session.flush()
    return {"prog": prog, "other": other, "m1": m1, "m2": m2, "e1": e1, "e2": e2, "e3": e3,
            "pa": pa, "pb": pb}


@pytest.fixture
def world(app):
    w = build_world()
    db.session.commit()
    return w


def _by(data, dim, label):
    return next(r for r in data["by"][dim] if r["label"] == label)


def test_dashboard_numbers(world):
    data = reports.dashboard(world["prog"])
    o = data["overall"]
    assert (o["participants"], o["mentors"], o["mentees"]) == (5, 2, 3)
    assert o["matched"] == 2 and o["matched_pct"] == 66.7
    assert (o["invites_accepted"], o["invites_declined"], o["invites_unanswered"]) == (2, 1, 1)
    assert o["median_answer_hours"] == 4.0
    assert (o["sessions_planned"], o["sessions_held"], o["sessions_missed"],
            o["sessions_cancelled"], o["sessions_scheduled"]) == (5, 2, 1, 1, 1)
    assert o["logs_confirmed"] == 1 and o["logs_submitted"] == 1
    assert o["credited_minutes"] == 90 and o["jp_credited"] == 2.0
    assert o["rating_mentee"] == 3.5 and o["rating_mentor"] == 4.0 and o["rating_all"] == 3.67

    unit_a, unit_b = _by(data, "unit", "Dinas A"), _by(data, "unit", "Dinas B")
    assert (unit_a["mentees"], unit_a["matched_pct"]) == (2, 50.0)
    assert (unit_b["mentees"], unit_b["matched_pct"]) == (1, 100.0)
    assert (unit_a["sessions_held"], unit_a["sessions_missed"]) == (2, 1)
    assert (unit_b["sessions_cancelled"], unit_b["sessions_scheduled"]) == (1, 1)
    assert (unit_a["invites_accepted"], unit_a["invites_declined"]) == (2, 1)
    assert unit_b["invites_unanswered"] == 1
    assert _by(data, "city", "Palu")["mentees"] == 1
    assert _by(data, "city", "Padang")["jp_credited"] == 2.0
    assert [r["label"] for r in data["by"]["band"]] == ["I", "II", "III", "IV"]
    band3 = _by(data, "band", "III")
    assert (band3["mentees"], band3["mentors"], band3["logs_confirmed"]) == (1, 1, 1)

    trend = {t["month"]: t for t in data["trend"]}
    assert (trend["2026-02"]["sessions_planned"], trend["2026-02"]["sessions_held"]) == (1, 1)
    assert (trend["2026-03"]["sessions_planned"], trend["2026-03"]["sessions_missed"]) == (2, 1)
    assert trend["2026-04"]["sessions_planned"] == 1
    assert trend["2026-02"]["jp_credited"] == 2.0 and trend["2026-02"]["logs_confirmed"] == 1
    assert trend["2026-01"]["pairs_created"] == 2


def test_empty_programme(app):
    prog = Programme(name="Kosong", start_date=date(2026, 1, 1), end_date=date(2026, 6, 30))
    db.session.add(prog)
    db.session.flush()
    data = reports.dashboard(prog)
    assert data["overall"]["participants"] == 0 and data["overall"]["matched_pct"] is None
    assert data["trend"] == [] and reports.competency_progress(prog)["rows"] == []


def test_competency_progress(world):
    progress = reports.competency_progress(world["prog"])
    (row,) = progress["rows"]  # mentors' levels are not counted
    assert row["code"] == "INT" and row["n"] == 2
    assert (row["avg_base"], row["avg_now"]) == (2.0, 2.5)
    assert (row["gap_start"], row["gap_now"], row["closure_pct"]) == (4, 3, 25.0)
    assert progress["units"]["Dinas A"][0]["closure_pct"] == 50.0
    assert progress["units"]["Dinas B"][0]["closure_pct"] == 0.0


def test_alerts(world):
    prog = world["prog"]
    no30 = reports.alert_rows(prog, "no_session", days=30, now=NOW)
    assert [r.cells["pair_id"] for r in no30] == [world["pa"].id]
    assert no30[0].cells["days"] == 52 and no30[0].cells["last_held"] == "2026-03-10"
    assert len(reports.alert_rows(prog, "no_session", days=45, now=NOW)) == 1
    assert reports.alert_rows(prog, "no_session", days=60, now=NOW) == []
    behind = reports.alert_rows(prog, "behind_jp", now=NOW)
    assert {r.person_ids[0] for r in behind} == {world["e1"].id, world["e2"].id, world["e3"].id}
    assert next(r for r in behind if r.person_ids == (world["e1"].id,)).cells["jp"] == 2.0
    unanswered = reports.alert_rows(prog, "unanswered", now=NOW)
    assert [r.person_ids for r in unanswered] == [(world["e2"].id,)]
    over = reports.alert_rows(prog, "over_capacity", now=NOW)
    assert [(r.person_ids, r.cells["pairs"], r.cells["capacity"]) for r in over] == [
        ((world["m1"].id,), 2, 1)]


def test_nudge_dedupes_per_day(world):
    prog = world["prog"]
    assert reports.nudge(prog, "over_capacity", world["m1"].id, now=NOW)
    assert reports.nudge(prog, "over_capacity", world["m1"].id, now=NOW)  # deduped, no 2nd row
    assert not reports.nudge(prog, "over_capacity", world["e1"].id, now=NOW)  # not on the list
    rows = db.session.query(OutboxMessage).all()
    assert len(rows) == 1 and rows[0].recipient == world["m1"].email
    assert rows[0].dedupe_key == f"report-nudge:{prog.id}:over_capacity:{world['m1'].id}:2026-05-01"
    reports.nudge(prog, "over_capacity", world["m1"].id, now=NOW + timedelta(days=1))
    assert db.session.query(OutboxMessage).count() == 2


def _read_csv(body: str):
    return list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))


def test_exports_csv_and_xlsx(world):
    prog = world["prog"]
    header, data = exports.rows(prog, "pairs")
    body = "".join(exports.csv_lines(header, data))
    table = _read_csv(body)
    assert table[0][:3] == ["pair_id", "status", "mentor_nip"]
    assert len(table) == 4 and {r[1] for r in table[1:]} == {"active", "declined"}
    assert any(r[5] == "'=Mentee Tiga" for r in table[1:])  # formula-looking text is defused

    body, mime = exports.export(prog, "logs", "csv")
    text = "".join(body)
    assert "SECRET-NOTE" not in text and "notes" not in text and mime.startswith("text/csv")
    logs = _read_csv(text)
    assert len(logs) == 3 and logs[1][logs[0].index("credited_minutes")] == "90"

    xlsx, mime = exports.export(prog, "jp", "xlsx")
    ws = openpyxl.load_workbook(io.BytesIO(xlsx), read_only=True)["jp"]
    sheet = [list(r) for r in ws.iter_rows(values_only=True)]
    assert sheet[0] == ["nip", "name", "role", "unit", "city", "grade", "logs_confirmed",
                        "credited_minutes", "jp", "target_jp"]
    assert len(sheet) == 6
    e1 = next(r for r in sheet if r[0] == world["e1"].nip)
    assert (e1[2], e1[6], e1[7], e1[8], e1[9]) == ("mentee", 1, 90, 2, 20)
    m1 = next(r for r in sheet if r[0] == world["m1"].nip)
    assert (m1[2], m1[7]) == ("mentor", 90)

    for kind, expected_rows in (("sessions", 5), ("feedback", 3), ("pairs", 3), ("logs", 2)):
        xlsx, _ = exports.export(prog, kind, "xlsx")
        ws = openpyxl.load_workbook(io.BytesIO(xlsx), read_only=True)[kind]
        assert sum(1 for _ in ws.iter_rows()) == expected_rows + 1
    fb = _read_csv("".join(exports.export(prog, "feedback", "csv")[0]))
    assert "private words" not in str(fb)
    assert sorted(r[fb[0].index("author_role")] for r in fb[1:]) == ["mentee", "mentee", "mentor"]


def _coordinator(programme):
    u = f.user(("coordinator",))
    db.session.add(ProgrammeCoordinator(programme_id=programme.id, user_id=u.id))
    db.session.commit()
    return u


def test_pages_and_exports_over_http(world, client):
    prog = world["prog"]
    f.login(client, _coordinator(prog))
    base = f"/programmes/{prog.id}/reports"
    html = client.get(base + "/").get_data(as_text=True)
    assert 'id="report-data"' in html and "chart.umd.min.js" in html and "66.7 %" in html
    assert "<script>" not in html  # CSP: no inline script
    for path in ("/print", "/competencies", "/alerts/no_session?days=45", "/alerts/behind_jp",
                 "/alerts/unanswered", "/alerts/over_capacity"):
        assert client.get(base + path).status_code == 200, path
    assert client.get(base + "/alerts/bogus").status_code == 404
    resp = client.get(base + "/export/pairs.csv")
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    assert len(_read_csv(resp.get_data(as_text=True))) == 4
    resp = client.get(base + "/export/jp.xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(resp.data), read_only=True)
    assert sum(1 for _ in wb["jp"].iter_rows()) == 6
    assert client.get(base + "/export/notes.csv").status_code == 404

    token = csrf_from(client, base + "/alerts/over_capacity")
    resp = client.post(base + "/alerts/over_capacity/nudge",
                       data={"csrf_token": token, "person_id": str(world["m1"].id)})
    assert resp.status_code == 302
    assert db.session.query(OutboxMessage).filter_by(kind="report_nudge").count() == 1
    assert client.post(base + "/alerts/over_capacity/nudge",
                       data={"person_id": str(world["m1"].id)}).status_code == 400  # no CSRF


def test_access(world, client):
    prog, other = world["prog"], world["other"]
    base = f"/programmes/{prog.id}/reports"
    assert client.get(base + "/").status_code in (302, 401)  # anonymous → login
    f.login(client, _coordinator(other))
    for path in ("/", "/print", "/competencies", "/alerts/behind_jp", "/export/jp.csv"):
        assert client.get(base + path).status_code == 404, path
    assert client.post(base + "/alerts/behind_jp/nudge", data={}).status_code in (400, 404)
    assert client.get(f"/programmes/{other.id}/reports/").status_code == 200
    assert client.get("/programmes/99999/reports/").status_code == 404

    mentee_user = f.user(("mentee",), person_row=world["e1"])
    db.session.commit()
    f.login(client, mentee_user)
    assert client.get(base + "/").status_code in (403, 404)
    assert client.get(base + "/export/logs.xlsx").status_code in (403, 404)

    admin = f.user(("admin",))
    db.session.commit()
    f.login(client, admin)
    assert client.get(base + "/").status_code == 200
