"""Import problems, the import command and weekday names come through the one catalogue
(gettext): Indonesian by default, English on request, the Indonesian words as people knew them."""

from __future__ import annotations

from click.testing import CliRunner
from flask_babel import force_locale

from mentormatch.cli import main
from mentormatch.extensions import db as _db
from mentormatch.services import reason_words
from mentormatch.services import staff_import as si
from tests import factories
from tests.helpers import csrf_from
from tests.people.test_staff_import import GOOD, csv_bytes, with_value


def test_import_command_in_indonesian_by_default_and_in_english(app, database_url, tmp_path):
    env = {"MENTORMATCH_DATABASE_URL": database_url, "MENTORMATCH_APP__TESTING": "true",
           "MENTORMATCH_APP__INSTANCE_PATH": str(tmp_path)}
    bad = tmp_path / "pegawai.csv"
    bad.write_bytes(csv_bytes(with_value("Golongan", "V/a")))

    out = CliRunner().invoke(main, ["import", str(bad)], env=env)
    assert out.exit_code == 1
    lines = out.output.splitlines()
    assert "baris 2, kolom Golongan: Golongan tidak valid (contoh: III/a, 3a, PPPK IX): V/a" \
        in lines
    assert ("pegawai.csv: 2 baris (0 kosong dilewati): 0 baru, 0 diperbarui, 0 tidak berubah, "
            "1 bermasalah") in lines
    assert lines[-1] == "Tidak ada data yang disimpan."

    out = CliRunner().invoke(main, ["import", str(bad), "--lang", "en"], env=env)
    assert out.exit_code == 1
    lines = out.output.splitlines()
    assert "row 2, column Golongan: Invalid grade (e.g. III/a, 3a, PPPK IX): V/a" in lines
    assert ("pegawai.csv: 2 rows (0 empty skipped): 0 new, 0 updated, 0 unchanged, "
            "1 with errors") in lines
    assert lines[-1] == "Nothing was written."

    good = tmp_path / "baik.csv"
    good.write_bytes(csv_bytes(GOOD))
    out = CliRunner().invoke(main, ["import", str(good), "--dry-run"], env=env)
    assert out.exit_code == 0
    assert out.output.splitlines()[-1] == "Uji coba: tidak ada yang disimpan."
    out = CliRunner().invoke(main, ["import", str(good), "--dry-run", "--lang", "en"], env=env)
    assert out.exit_code == 0 and out.output.splitlines()[-1] == "Dry run: nothing written."


def test_report_renders_each_problem_in_the_language_asked(app):
    report = si.preview(csv_bytes(with_value("Email", "bukan-email")), "x.csv")
    assert report.messages() == ["baris 2, kolom Email: Alamat e-mail tidak valid: bukan-email"]
    assert report.messages("en") == ["row 2, column Email: Invalid e-mail address: bukan-email"]
    assert report.errors_csv().decode("utf-8-sig").splitlines() == [
        "Baris;Kolom;Masalah", "2;Email;Alamat e-mail tidak valid: bukan-email"]
    assert report.errors_csv("en").decode("utf-8-sig").splitlines() == [
        "Row;Column;Problem", "2;Email;Invalid e-mail address: bukan-email"]
    issue = report.issues[0]
    assert issue.message() == "Alamat e-mail tidak valid: bukan-email"
    assert si.message("empty_file", locale="en") == "The file contains no data."
    assert si.message("empty_file") == "Berkas tidak berisi data."


def test_weekday_names_follow_the_reader(app, client):
    coordinator = factories.user(("coordinator",))
    person = factories.person("Siti Rahmawati")
    _db.session.commit()
    factories.login(client, coordinator)
    page = client.get(f"/people/{person.id}").text
    assert '<th scope="col">Sen</th>' in page and '<th scope="col">Jum</th>' in page
    client.post("/language", data={"csrf_token": csrf_from(client, "/"), "locale": "en",
                                   "next": "/"})
    page = client.get(f"/people/{person.id}").text
    assert '<th scope="col">Mon</th>' in page and '<th scope="col">Fri</th>' in page

    reason = [{"code": "common_time", "weekday": "Thu", "time": "13:00", "tz": "WITA"}]
    with force_locale("id"):
        assert reason_words.pair_reason(reason, {}) == "sama-sama luang Kamis 13:00 WITA"
    with force_locale("en"):
        assert reason_words.pair_reason(reason, {}) == "both free Thursday 13:00 WITA"
