"""Time zones are never defaulted silently (issue 13.9): a staff file without a zone column gets
each person's zone from the province or city of their location or unit (shown in the preview),
and rows whose zone nothing tells are refused unless the coordinator picks a zone for the file."""

from __future__ import annotations

import re

from sqlalchemy import select

from mentormatch.extensions import db
from mentormatch.models import Person
from mentormatch.services import zones
from tests import factories as f
from tests.helpers import csrf_from

HEADER = "NIP;Nama;Email;Golongan;Jabatan;Unit Kerja\n"


def _file(rows: list[tuple[str, str]]) -> bytes:
    body = "".join(f"19850312201001100{i + 1};{name};p{i}@palu.go.id;III/b;Analis;{unit}\n"
                   for i, (name, unit) in enumerate(rows))
    return (HEADER + body).encode()


def _preview(client, data: bytes, zone: str = ""):
    import io
    token = csrf_from(client, "/people/import/")
    return client.post("/people/import/preview", data={
        "csrf_token": token, "default_zone": zone,
        "file": (io.BytesIO(data), "pegawai.csv")}, content_type="multipart/form-data")


def test_infer_zone_table():
    assert zones.infer_zone("Dinas Kominfo Kota Palu") == ("Asia/Makassar", "Palu")
    assert zones.infer_zone("BKPSDM Provinsi Papua Barat Daya")[0] == "Asia/Jayapura"
    assert zones.infer_zone("Bappeda Kalimantan Barat")[0] == "Asia/Jakarta"
    assert zones.infer_zone("Bappeda Kalimantan Timur")[0] == "Asia/Makassar"
    assert zones.infer_zone("Sekretariat Daerah") is None


def test_palu_office_without_zone_column_gets_wita(client, app):
    coord = f.user(("coordinator",))
    db.session.commit()
    f.login(client, coord)
    data = _file([("Andi Palu", "Dinas Kominfo Kota Palu"),
                  ("Rina Sulteng", "BPKAD Provinsi Sulawesi Tengah")])
    page = _preview(client, data)
    html = page.get_data(as_text=True)
    assert page.status_code == 200, html
    cells = re.findall(r'<td class="zone">(.*?)</td>', html)
    assert len(cells) == 2 and all(c.startswith("WITA") for c in cells)
    assert "dari Palu" in cells[0] and "dari Sulawesi Tengah" in cells[1]
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    client.post("/people/import/confirm", data={"csrf_token": csrf_from(client, "/people/import/"),
                                                "token": token})
    people = db.session.scalars(select(Person).order_by(Person.name)).all()
    assert [p.timezone for p in people if p.nip] == ["Asia/Makassar", "Asia/Makassar"]


def test_unknown_zone_refused_unless_chosen_for_the_file(client, app):
    coord = f.user(("coordinator",))
    db.session.commit()
    f.login(client, coord)
    data = _file([("Budi", "Sekretariat Daerah"), ("Sari", "Dinas Kominfo Kota Palu")])
    page = _preview(client, data)
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "Zona waktu tidak dapat ditentukan" in html and "Sekretariat Daerah" in html
    page = _preview(client, data, zone="Asia/Jayapura")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    cells = re.findall(r'<td class="zone">(.*?)</td>', html)
    assert cells[0].startswith("WIT") and "dipilih untuk berkas ini" in cells[0]
    assert cells[1].startswith("WITA")  # the inferred zone wins over the file's choice
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    assert 'name="default_zone" value="Asia/Jayapura"' in html
    client.post("/people/import/confirm", data={
        "csrf_token": csrf_from(client, "/people/import/"), "token": token,
        "default_zone": "Asia/Jayapura"})
    zones_by_name = {p.name: p.timezone for p in db.session.scalars(select(Person))}
    assert zones_by_name["Budi"] == "Asia/Jayapura" and zones_by_name["Sari"] == "Asia/Makassar"
