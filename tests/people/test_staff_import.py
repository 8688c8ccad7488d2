"""Staff import service: reading, validation (every bad value), upsert and all-or-nothing."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import openpyxl
import pytest
from sqlalchemy import func, select

from mentormatch.extensions import db as _db
from mentormatch.models import AuditLog, AvailabilityWindow, LeaveDate, Person, PersonCompetency
from mentormatch.services import staff_import as si

HEAD = ["NIP", "Nama", "Email", "Jenis", "Golongan", "Jabatan", "Unit Kerja", "Lokasi Kerja",
        "NIP Atasan", "Ketersediaan", "Cuti", "KOM", "KOM Target"]
GOOD = [
    ["198503122010011001", "Siti Rahmawati", "siti@example.go.id", "PNS", "III/c",
     "Analis", "Dinas Kominfo", "Padang (Pauh)", "", "Sen 09:00-12:00; Kam 13:00-15:00",
     "2026-12-01..2026-12-05", "2", "4"],
    ["199001012021211001", "Budi Santoso", "budi@example.go.id", "PPPK", "IX",
     "Pranata", "Dinas Kominfo", "Palu", "198503122010011001", "Mon 08:00-10:00", "", "3", ""],
]


def csv_bytes(rows, head=HEAD, sep=";", encoding="utf-8") -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=sep, lineterminator="\r\n")
    writer.writerow(head)
    writer.writerows(rows)
    return buf.getvalue().encode(encoding)


def xlsx_bytes(rows, head=HEAD) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(head)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def with_value(column: str, value: str, row: int = 0):
    rows = [list(r) for r in GOOD]
    rows[row][HEAD.index(column)] = value
    return rows


def count(model) -> int:
    return _db.session.scalar(select(func.count()).select_from(model))


def codes(report) -> list[tuple[int | None, str | None, str]]:
    return [(i.row, i.column, i.code) for i in report.issues]


def test_valid_csv_preview_then_apply(app):
    data = csv_bytes(GOOD)
    report = si.preview(data, "staff.csv")
    assert report.ok, report.messages("en")
    assert (report.rows, report.new, report.updated, report.unchanged) == (2, 2, 0, 0)
    assert count(Person) == 0
    report = si.apply(data, "staff.csv", actor=None)
    assert report.ok and report.applied
    _db.session.commit()
    siti = _db.session.scalar(select(Person).where(Person.nip == "198503122010011001"))
    budi = _db.session.scalar(select(Person).where(Person.email == "budi@example.go.id"))
    assert siti.kind == "pns" and siti.grade_label == "III/c" and siti.grade_rank == 11
    assert budi.kind == "pppk" and budi.grade_rank == 9 and budi.supervisor_id == siti.id
    assert budi.location.timezone == "Asia/Makassar" and siti.location.city == "Padang"
    assert siti.unit.name == "Dinas Kominfo"
    assert [(w.weekday, w.start_minute, w.end_minute) for w in siti.availability] == [
        (0, 540, 720), (3, 780, 900)]
    assert [(c.competency.code, c.current_level, c.required_level)
            for c in siti.competencies] == [("KOM", 2, 4)]
    assert [(x.start_date.isoformat(), x.end_date.isoformat()) for x in siti.leaves] == [
        ("2026-12-01", "2026-12-05")]
    assert count(AuditLog) == 1


def test_reimport_upserts_without_duplicates(app):
    si.apply(csv_bytes(GOOD), "a.csv", actor=None)
    _db.session.commit()
    report = si.preview(csv_bytes(GOOD), "a.csv")
    assert (report.new, report.updated, report.unchanged) == (0, 0, 2)
    rows = with_value("Nama", "Siti Rahmawati, S.E.")
    rows[0][HEAD.index("KOM")] = "3"
    rows[0][HEAD.index("Ketersediaan")] = "Sel 10:00-11:00"
    rows[0][HEAD.index("Cuti")] = "2026-12-01..2026-12-05; 2027-01-02"
    report = si.apply(csv_bytes(rows), "a.csv", actor=None)
    assert report.ok and (report.new, report.updated, report.unchanged) == (0, 1, 1)
    _db.session.commit()
    assert count(Person) == 2 and count(PersonCompetency) == 2
    assert count(AvailabilityWindow) == 2 and count(LeaveDate) == 2
    siti = _db.session.scalar(select(Person).where(Person.nip == "198503122010011001"))
    assert siti.name == "Siti Rahmawati, S.E." and siti.competencies[0].current_level == 3
    assert [(w.weekday, w.start_minute) for w in siti.availability] == [(1, 600)]


@pytest.mark.parametrize(
    ("column", "value", "code"),
    [
        ("NIP", "198502302010011001", "nip_birth_date"),
        ("NIP", "198503122010131001", "nip_appointment_month"),
        ("NIP", "198503122010013001", "nip_gender"),
        ("NIP", "198503121980011001", "nip_appointment_before_birth"),
        ("NIP", "19850312201001100", "nip_format"),
        ("Jenis", "PPPK", "kind_mismatch"),
        ("Golongan", "V/a", "grade"),
        ("KOM", "6", "level"),
        ("KOM Target", "0", "level"),
        ("Email", "siti@@example", "email"),
        ("Ketersediaan", "Sen 12:00-09:00", "window_order"),
        ("Ketersediaan", "Funday 09:00-10:00", "window_format"),
        ("Cuti", "2026-12-05..2026-12-01", "leave"),
        ("NIP Atasan", "198001012005011009", "supervisor_unknown"),
        ("Nama", "", "required"),
        ("Lokasi Kerja", "Kota Antah", "timezone_required"),
    ],
)
def test_each_bad_value_is_reported_and_nothing_written(app, column, value, code):
    data = csv_bytes(with_value(column, value))
    report = si.preview(data, "x.csv", "en")
    assert (2, column, code) in codes(report), report.messages("en")
    # A bad NIP on row 2 also leaves row 3's supervisor unresolvable; nothing else is reported.
    assert {i.row for i in report.issues if (i.row, i.code) != (3, "supervisor_unknown")} == {2}
    report = si.apply(data, "x.csv", actor=None)
    assert not report.applied
    assert count(Person) == 0 and count(AuditLog) == 0


def test_pppk_is_detected_from_the_nip(app):
    rows = with_value("Jenis", "", row=1)
    si.apply(csv_bytes(rows), "x.csv", actor=None)
    assert _db.session.scalar(select(Person.kind).where(Person.name == "Budi Santoso")) == "pppk"


def test_messages_in_both_languages(app):
    report = si.preview(csv_bytes(with_value("NIP", "198503122010013001")), "x.csv")
    assert "baris 2, kolom NIP" in report.messages("id")[0]
    assert "jenis kelamin" in report.messages("id")[0]
    assert "Gender digit" in report.messages("en")[0]


def test_missing_column_is_a_file_level_error(app):
    head = [h for h in HEAD if h != "Email"]
    rows = [[v for h, v in zip(HEAD, r, strict=True) if h != "Email"] for r in GOOD]
    report = si.preview(csv_bytes(rows, head), "x.csv", "en")
    assert codes(report) == [(None, "Email", "missing_column")]


def test_unknown_competency_target_column_is_an_error(app):
    report = si.preview(csv_bytes([r + ["3"] for r in GOOD], HEAD + ["XYZ Target"]), "x.csv")
    assert codes(report) == [(None, "XYZ Target", "unknown_column")]


def test_siasn_export_columns_we_do_not_use_are_ignored_with_a_warning(app):
    head = HEAD + ["Tanggal Lahir", "Agama", "Jenis Kelamin"]
    rows = [r + ["1985-03-12", "Islam", "P"] for r in GOOD]
    report = si.apply(csv_bytes(rows, head), "siasn.csv", actor=None)
    assert report.ok, report.messages("en")
    assert report.ignored_columns == ["Tanggal Lahir", "Agama", "Jenis Kelamin"]
    assert "Tanggal Lahir, Agama, Jenis Kelamin" in report.warnings("id")[0]
    assert "ignored" in report.warnings("en")[0]
    assert count(Person) == 2


def test_competency_by_name(app):
    head = HEAD[:-2] + ["Komunikasi", "Komunikasi Target"]
    assert si.apply(csv_bytes(GOOD, head), "x.csv", actor=None).ok
    assert count(PersonCompetency) == 2


def test_duplicate_nip_and_email_in_one_file(app):
    dup = list(GOOD[0])
    dup[HEAD.index("Email")] = "other@example.go.id"
    dup2 = list(GOOD[1])
    dup2[HEAD.index("NIP")] = "199001012021211002"
    dup2[HEAD.index("Email")] = "SITI@example.go.id"
    report = si.apply(csv_bytes(GOOD + [dup, dup2]), "x.csv", actor=None)
    assert (4, "NIP", "duplicate_nip") in codes(report)
    assert (5, "Email", "duplicate_email") in codes(report)
    assert count(Person) == 0


def test_empty_rows_are_skipped_and_counted(app):
    blank = [""] * len(HEAD)
    report = si.apply(csv_bytes([GOOD[0], blank, blank, GOOD[1], blank]), "x.csv", actor=None)
    assert report.ok and report.rows == 2 and report.empty_rows == 3 and report.new == 2


def test_all_or_nothing(app):
    rows = [list(r) for r in GOOD]
    for i in range(3, 30):
        rows.append([f"198503122010011{i:03d}", f"Pegawai {i}", f"p{i}@example.go.id", "PNS",
                     "II/b", "Staf", "Dinas PU", "Bandung", "", "", "", "3", "3"])
    rows[-1][HEAD.index("Golongan")] = "V/a"
    report = si.apply(csv_bytes(rows), "x.csv", actor=None)
    assert not report.applied and report.errors == 1
    assert count(Person) == 0 and count(PersonCompetency) == 0


def test_windows_1252_csv(app):
    rows = with_value("Nama", "Andr\u00e9 O\u2019Neil")
    data = csv_bytes(rows, encoding="cp1252")
    report = si.apply(data, "x.csv", actor=None)
    assert report.ok, report.messages("en")
    assert _db.session.scalar(select(Person.name).where(Person.nip == GOOD[0][0])) == (
        "Andr\u00e9 O\u2019Neil")


def test_utf8_bom_and_comma_separator(app):
    data = b"\xef\xbb\xbf" + csv_bytes(with_value("Nama", "Ni Luh Putu \u00c9"), sep=",")
    report = si.apply(data, "x.csv", actor=None)
    assert report.ok, report.messages("en")
    assert _db.session.scalar(select(Person.name).where(Person.nip == GOOD[0][0])) == (
        "Ni Luh Putu \u00c9")


def test_siasn_headers(app):
    head = ["Nip Baru", "Nama", "Email", "Golru", "Jabatan", "Jenjang Jabatan", "Unit Kerja",
            "Kota", "Zona Waktu"]
    rows = [["198503122010011001", "Siti", "siti@example.go.id", "3-a", "Analis", "ahli muda",
             "BKPSDM", "Jayapura", ""],
            ["198503122010012002", "Rina", "rina@example.go.id", "3a", "Analis", "Ahli Pertama",
             "BKPSDM", "Sorong", "WIT"]]
    report = si.apply(csv_bytes(rows, head), "siasn.csv", actor=None)
    assert report.ok, report.messages("en")
    siti = _db.session.scalar(select(Person).where(Person.name == "Siti"))
    assert siti.grade_label == "III/a" and siti.job_level == "Ahli Muda"
    assert siti.location.timezone == "Asia/Jayapura"
    rina = _db.session.scalar(select(Person).where(Person.name == "Rina"))
    assert rina.location.timezone == "Asia/Jayapura" and rina.location.city == "Sorong"


def test_external_mentor_upserts_by_email(app):
    head = ["Jenis", "NIP", "Nama", "Email", "Instansi", "Keahlian", "Mode"]
    rows = [["Eksternal", "", "Dr. Hasan", "hasan@unand.ac.id", "Universitas Andalas",
             "Kebijakan publik", "daring"]]
    # no place in the row: the coordinator chooses the zone for the file (Padang: WIB)
    assert si.apply(csv_bytes(rows, head), "x.csv", actor=None, default_zone="Asia/Jakarta").ok
    rows[0][5] = "Manajemen proyek"
    report = si.apply(csv_bytes(rows, head), "x.csv", actor=None)
    assert report.ok and report.updated == 1
    hasan = _db.session.scalar(select(Person))
    assert count(Person) == 1 and hasan.kind == "external" and hasan.nip is None
    assert hasan.expertise == "Manajemen proyek" and hasan.mode == "online"
    rows[0][4] = ""
    report = si.preview(csv_bytes(rows, head), "x.csv")
    assert codes(report) == [(2, "Instansi", "organisation_required")]


def _exact_integer_cells(data: bytes) -> bytes:
    """openpyxl (like Excel) writes big numbers as doubles; other tools write exact integers."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            blob = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                blob = blob.replace(b"<v>1.98503122010011e+17</v>", b"<v>198503122010011001</v>")
            dst.writestr(item, blob)
    return out.getvalue()


def test_xlsx_with_nip_as_number(app):
    rows = [list(r) for r in GOOD]
    rows[0][0] = 198503122010011001
    rows[1][HEAD.index("KOM")] = 3
    data = _exact_integer_cells(xlsx_bytes(rows))
    report = si.apply(data, "staff.xlsx", actor=None)
    assert report.ok, report.messages("en")
    assert count(Person) == 2
    assert _db.session.scalar(select(Person.nip).where(Person.name == "Siti Rahmawati")) == (
        "198503122010011001")
    # A double cannot hold 18 digits: reported, never guessed.
    report = si.preview(xlsx_bytes(rows), "staff.xlsx")
    assert (2, "NIP", "nip_as_number") in codes(report)


def test_xlsx_formula_without_cached_value(app):
    rows = [list(r) for r in GOOD]
    rows[1][HEAD.index("KOM")] = "=1+2"
    report = si.apply(xlsx_bytes(rows), "staff.xlsx", actor=None)
    assert codes(report) == [(3, "KOM", "formula_no_value")]
    assert count(Person) == 0


def test_xlsx_formula_with_cached_value_uses_the_value(app):
    rows = [list(r) for r in GOOD]
    rows[1][HEAD.index("KOM")] = "=1+2"
    data = xlsx_bytes(rows)
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:  # what Excel saves: the formula and its last value
        for item in src.infolist():
            blob = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                blob, n = re.subn(rb"<f>1\+2</f><v\s*/>|<f>1\+2</f><v></v>",
                                  b"<f>1+2</f><v>3</v>", blob)
                assert n == 1
            dst.writestr(item, blob)
    report = si.apply(out.getvalue(), "staff.xlsx", actor=None)
    assert report.ok, report.messages("en")
    budi = _db.session.scalar(select(Person).where(Person.name == "Budi Santoso"))
    assert [c.current_level for c in budi.competencies] == [3]


def test_garbage_file(app):
    report = si.preview(b"PK\x03\x04 not really a zip", "x.xlsx")
    assert [i.code for i in report.issues] == ["bad_file"]
    assert [i.code for i in si.preview(b"", "x.csv").issues] == ["empty_file"]


def test_templates_round_trip(app):
    wb = openpyxl.load_workbook(io.BytesIO(si.template_xlsx()))
    header = [c.value for c in wb.active[1]]
    assert header[:3] == ["NIP", "Nama", "Email"] and "KOM Target" in header
    for data, name in ((si.template_xlsx(), "t.xlsx"), (si.template_csv(), "t.csv")):
        report = si.preview(data, name)
        assert report.ok and report.new == 1, report.messages("en")


def test_cli(app, tmp_path):
    path = tmp_path / "staff.csv"
    path.write_bytes(csv_bytes(GOOD))
    out: list[str] = []
    assert si.run_import_cli(path, dry_run=True, echo=out.append) is True
    _db.session.rollback()
    assert count(Person) == 0
    assert si.run_import_cli(str(path), dry_run=False, echo=out.append) is True
    _db.session.commit()
    assert count(Person) == 2
    path.write_bytes(csv_bytes(with_value("Golongan", "V/a")))
    assert si.run_import_cli(path, dry_run=False, echo=out.append, locale="en") is False
    assert any("row 2, column Golongan" in line and "V/a" in line for line in out)
    assert si.run_import_cli(tmp_path / "missing.csv", echo=out.append) is False


def test_supervisor_from_database_and_email_taken(app):
    from tests import factories

    boss = factories.person("Kepala Dinas", nip="197001011995031001",
                            email="kepala@example.go.id")
    _db.session.commit()
    rows = with_value("NIP Atasan", boss.nip)
    report = si.apply(csv_bytes(rows), "x.csv", actor=None)
    assert report.ok, report.messages("en")
    siti = _db.session.scalar(select(Person).where(Person.nip == GOOD[0][0]))
    assert siti.supervisor_id == boss.id
    rows = with_value("Email", "kepala@example.go.id", row=1)
    report = si.preview(csv_bytes(rows), "x.csv")
    assert (3, "Email", "email_taken") in codes(report)
