"""Report exports read back with the csv module and openpyxl: the right rows and columns for
every export, no free text, formula-injection defence, NIPs as text."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from mentormatch.services import exports
from tests.reports.test_reports import world  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("app")


def read_csv(body) -> list[list[str]]:
    text = body if isinstance(body, str) else "".join(body)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def read_xlsx(data: bytes, sheet: str):
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb[sheet]
    return ws, [[c.value for c in row] for row in ws.iter_rows()]


def as_dicts(table):
    header, *rows = table
    return [dict(zip(header, r, strict=True)) for r in rows]


def both(prog, kind, locale="id"):
    """The same machine export (the stable one for HR systems) as CSV and as XLSX, as lists
    of dicts."""
    body, mime = exports.export(prog, kind, "csv", locale, audience="machine")
    assert mime.startswith("text/csv")
    from_csv = as_dicts(read_csv(body))
    data, mime = exports.export(prog, kind, "xlsx", locale, audience="machine")
    assert mime == exports.XLSX_MIME
    _, table = read_xlsx(data, kind)
    return from_csv, as_dicts(table)


def test_pairs_export(world):  # noqa: F811
    rows_csv, rows_xlsx = both(world["prog"], "pairs")
    assert list(rows_csv[0]) == ["pair_id", "status", "mentor_nip", "mentor_name", "mentee_nip",
                                 "mentee_name", "mentee_unit", "mentee_city", "created_at_utc",
                                 "ended_at_utc"]
    assert [r["pair_id"] for r in rows_xlsx] == [world[k].id for k in ("pa", "pb", "pc", "pd")]
    assert [r["status"] for r in rows_csv] == ["active", "active", "declined", "active"]
    pa = rows_csv[0]
    assert (pa["mentor_nip"], pa["mentee_name"], pa["mentee_unit"], pa["mentee_city"]) == (
        world["m1"].nip, "Mentee Satu", "Dinas A", "Padang")
    assert pa["created_at_utc"].startswith("2026-01-20T03:00")
    # formula-looking text: an apostrophe in CSV, a plain string cell in XLSX
    assert rows_csv[2]["mentee_name"] == "'=Mentee Tiga"
    assert rows_xlsx[2]["mentee_name"] == "=Mentee Tiga"


def test_sessions_export(world):  # noqa: F811
    rows_csv, rows_xlsx = both(world["prog"], "sessions")
    assert len(rows_csv) == len(rows_xlsx) == 7  # the other programme's session is not there
    assert sorted(r["status"] for r in rows_xlsx) == [
        "cancelled", "held", "held", "held", "missed", "not_held", "scheduled"]
    assert list(rows_csv[0]) == ["session_id", "pair_id", "mentor_nip", "mentee_nip",
                                 "start_utc", "end_utc", "status"]
    assert rows_csv[0]["start_utc"].startswith("2026-02-10T03:00")


def test_logs_export_has_structured_fields_and_no_free_text(world):  # noqa: F811
    body, _ = exports.export(world["prog"], "logs", "csv", audience="machine")
    text = "".join(body)
    for secret in ("SECRET-NOTE", "SECRET-TOPIC", "SECRET-ACTION", "Rencana"):
        assert secret not in text
    body, _ = exports.export(world["prog"], "logs", "csv")  # for people: the same fields
    text = "".join(body)
    for secret in ("SECRET-NOTE", "SECRET-TOPIC", "SECRET-ACTION"):
        assert secret not in text
    rows_csv, rows_xlsx = both(world["prog"], "logs")
    assert list(rows_csv[0]) == [
        "log_id", "pair_id", "session_id", "mentor_nip", "mentee_nip", "held_on",
        "duration_minutes", "status", "credited_minutes", "jp_unrounded",
        "competencies_practised", "action_items", "action_items_open", "confirmed_by_nip",
        "confirmed_by_name", "confirmed_at_utc"]
    assert [r["held_on"] for r in rows_csv] == ["2026-02-10", "2026-03-01", "2026-03-25"]
    first = rows_xlsx[0]
    assert (first["status"], first["credited_minutes"], first["jp_unrounded"]) == (
        "confirmed", 100, 2.22)
    assert first["competencies_practised"] == "Integritas; Kerja Sama"
    assert (first["action_items"], first["action_items_open"]) == (2, 1)
    assert (first["confirmed_by_nip"], first["confirmed_by_name"]) == (
        world["m1"].nip, "Mentor Satu")
    assert first["confirmed_at_utc"].startswith("2026-02-11T03:00")
    second = rows_csv[1]
    assert (second["status"], second["credited_minutes"], second["confirmed_by_nip"],
            second["competencies_practised"], second["action_items"]) == (
        "submitted", "0", "", "", "0")
    en, _ = both(world["prog"], "logs", "en")
    assert en[0]["competencies_practised"] == "Integrity; Teamwork"


def test_jp_export_agrees_with_the_jp_tally(world):  # noqa: F811
    from mentormatch.services import jp

    rows_csv, rows_xlsx = both(world["prog"], "jp")
    assert list(rows_csv[0]) == ["nip", "name", "roles", "unit", "city", "grade",
                                 "logs_confirmed", "credited_minutes", "jp", "target_jp"]
    by_nip = {r["nip"]: r for r in rows_xlsx}
    assert len(rows_xlsx) == 6  # five participants and e5, who has a pair
    expected = {"m1": ("mentor", 1, 100, 2), "m2": ("mentee, mentor", 1, 80, 1.5),
                "e1": ("mentee", 1, 100, 2), "e2": ("mentee", 0, 0, 0),
                "e3": ("mentee", 0, 0, 0), "e5": ("mentee", 1, 80, 1.5)}
    for key, (roles, logs, minutes, jp_value) in expected.items():
        row = by_nip[world[key].nip]
        assert (row["roles"], row["logs_confirmed"], row["credited_minutes"], row["jp"],
                row["target_jp"]) == (roles, logs, minutes, jp_value, 20), key
        tally = jp.person_jp(world[key].id, programme_id=world["prog"].id)
        assert float(tally.jp) == jp_value and tally.minutes == minutes
    assert next(r for r in rows_csv if r["nip"] == world["e3"].nip)["name"] == "'=Mentee Tiga"
    assert by_nip[world["e3"].nip]["name"] == "=Mentee Tiga"


def test_feedback_export_has_ratings_not_comments(world):  # noqa: F811
    body, _ = exports.export(world["prog"], "feedback", "csv")
    assert "private words" not in "".join(body)
    rows_csv, rows_xlsx = both(world["prog"], "feedback")
    assert list(rows_csv[0]) == ["feedback_id", "log_id", "pair_id", "held_on", "author_role",
                                 "author_nip", "rating", "created_at_utc"]
    assert sorted((r["author_role"], r["rating"]) for r in rows_xlsx) == [
        ("mentee", 2), ("mentee", 3), ("mentee", 5), ("mentor", 4), ("mentor", 5)]


def test_evaluations_export(world):  # noqa: F811
    body, _ = exports.export(world["prog"], "evaluations", "csv")
    assert "SECRET-EVAL" not in "".join(body)
    rows_csv, rows_xlsx = both(world["prog"], "evaluations")
    header = list(rows_csv[0])
    assert header[:8] == ["evaluation_id", "pair_id", "stage", "author_role", "author_nip",
                          "mentor_nip", "mentee_nip", "submitted_at_utc"]
    assert "usefulness" in header and "relevance" in header and "comment" not in header
    assert [(r["stage"], r["author_role"], r["usefulness"], r["relevance"])
            for r in rows_xlsx] == [("mid", "mentee", 4, 5), ("mid", "mentor", 2, None),
                                    ("mid", "mentee", 5, None), ("end", "mentee", 3, None)]
    assert rows_xlsx[0]["author_nip"] == world["e1"].nip


@pytest.mark.parametrize("text", ["=1+1", "+31 2", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_formula_injection_csv_and_xlsx(text):
    header = ["name", "nip", "n"]
    row = (text, "198503122010011001", -5)
    (parsed,) = read_csv(exports.csv_lines(header, [row]))[1:]
    assert parsed == ["'" + text, "198503122010011001", "-5"]  # numbers stay numbers

    ws, table = read_xlsx(exports.xlsx_bytes("t", header, [row]), "t")
    cell, nip, number = ws["A2"], ws["B2"], ws["C2"]
    # text, no visible apostrophe; the value comes back exactly (lxml writes a CR as &#13;)
    assert cell.data_type == "s" and cell.value == text
    assert cell.quotePrefix is True
    assert nip.data_type == "s" and nip.value == "198503122010011001"  # text, not a number
    assert number.data_type == "n" and number.value == -5
    assert table[0] == header


def test_plain_text_is_left_alone():
    (parsed,) = read_csv(exports.csv_lines(["a"], [("Dinas A",)]))[1:]
    assert parsed == ["Dinas A"]
    ws, _ = read_xlsx(exports.xlsx_bytes("t", ["a"], [("Dinas A",)]), "t")
    assert ws["A2"].value == "Dinas A" and not ws["A2"].quotePrefix
