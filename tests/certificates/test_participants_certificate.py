"""Certificate of mentoring hours: the same JP as the home pages, HTML and PDF with the same
content, ready at the programme's end (coordinators may preview), access per the policy."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pypdf
import pytest

from mentormatch.extensions import db
from mentormatch.models import ProgrammeCoordinator, SessionLog, utcnow
from mentormatch.services import certificate, jp
from tests import factories as f
from tests.helpers import csrf_from, set_settings
from tests.logbook.test_logbook import make_pair, person, programme


def confirmed(pair, minutes: int, held_on: date, n: int = 1) -> None:
    rule = jp.rule_for(pair.programme)
    for _ in range(n):
        db.session.add(SessionLog(pair_id=pair.id, author_id=pair.mentee_id, held_on=held_on,
                                  duration_minutes=minutes, topics="t", status="confirmed",
                                  credited_minutes=jp.credited_minutes(minutes, rule)))
    db.session.flush()


def pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.mark.parametrize(("rule", "minutes", "expected"), [
    ({}, [30, 30, 30], Decimal(2)),  # 3 mentees x 30 min: 2 JP, not 3 x 0
    ({}, [44, 1], Decimal(1)),  # the edge: 45 minutes in total
    ({}, [44], Decimal(0)),
    ({"rounding": "half"}, [23, 23, 22], Decimal("1.5")),
    ({"rounding": "nearest"}, [20, 3], Decimal(1)),  # 23/45 rounds up
    ({"minutes_per_jp": 60, "max_minutes_per_session": 90}, [120, 120], Decimal(3)),
])
def test_certificate_total_equals_home_total(app, rule, minutes, expected):
    today = utcnow().date()
    prog = programme(start=date(today.year, 1, 1), end=date(today.year, 12, 31), jp_rule=rule)
    mentor = person(grade=13)
    pairs = [make_pair(prog=prog, mentor=mentor) for _ in minutes]
    held = date(today.year, 1, 1) if today.month == 1 else today - timedelta(days=1)
    for pair, m in zip(pairs, minutes, strict=True):
        confirmed(pair, m, held)
    home = jp.person_jp(mentor.id, year=today.year)
    cert = certificate.build(mentor, prog)
    assert home.jp == cert.tally.jp == expected
    assert home.minutes == cert.minutes == sum(ln.minutes for ln in cert.lines)
    assert cert.sessions == len(minutes) == sum(ln.sessions for ln in cert.lines)
    assert jp.person_jp(mentor.id, year=today.year).jp == expected  # what /mentor shows


def _people(pair, **coord_kw):
    mentee = f.user(("mentee",), person_row=pair.mentee)
    mentor = f.user(("mentor",), person_row=pair.mentor)
    coord_person = person(name="Koordinator Wati")
    coord = f.user(("coordinator",), person_row=coord_person)
    db.session.add(ProgrammeCoordinator(programme_id=pair.programme_id, user_id=coord.id))
    db.session.flush()
    return mentee, mentor, coord


def test_html_certificate_same_content_and_rule(app, client):
    today = utcnow().date()
    pair = make_pair(start=today - timedelta(days=200), end=today - timedelta(days=1),
                     jp_rule={"minutes_per_jp": 60})
    mentee, mentor, coord = _people(pair)
    confirmed(pair, 90, today - timedelta(days=20), n=2)
    db.session.commit()
    f.login(client, mentee)
    html = client.get(f"/certificate?programme={pair.programme_id}").get_data(as_text=True)
    assert 'id="certificate"' in html and pair.mentee.name in html and pair.mentee.nip in html
    assert pair.programme.name in html and pair.mentor.name in html
    assert "Jumlah: 2 sesi terkonfirmasi, 3 jam (180 menit), 3 JP" in html  # not "03:00 jam"
    assert "1 JP = 60 menit" in html and "Koordinator: Koordinator Wati" in html
    assert 'id="certificate-preview"' not in html and "certificate.pdf" in html
    # the only programme: /certificate shows it directly
    assert 'id="certificate"' in client.get("/certificate").get_data(as_text=True)
    f.login(client, mentor)  # the mentor's own certificate, as mentor
    html = client.get(f"/certificate?programme={pair.programme_id}").get_data(as_text=True)
    assert "3 JP" in html and pair.mentor.name in html and pair.mentee.name in html
    assert "<td>Mentor</td>" in html  # the role column


def test_pdf_opens_and_says_the_same(app, client):
    today = utcnow().date()
    pair = make_pair(start=today - timedelta(days=200), end=today - timedelta(days=1))
    pair.mentee.name = "Siti Ṣalihah Nguyễn"  # beyond Latin-1: DejaVu renders it
    mentee, mentor, coord = _people(pair)
    confirmed(pair, 60, today - timedelta(days=20), n=3)
    db.session.commit()
    # .ci/run installs fonts-dejavu-core: a missing font is a broken set-up, not a skip
    assert certificate.font_files() is not None, "no DejaVu font (Debian: fonts-dejavu-core)"
    f.login(client, mentee)
    resp = client.get(f"/certificate.pdf?programme={pair.programme_id}")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert resp.data.startswith(b"%PDF")
    text = pdf_text(resp.data)
    assert "Siti Ṣalihah Nguyễn" in text and pair.mentee.nip in text
    assert "Surat keterangan jam mentoring" in text and pair.programme.name in text
    assert "4 JP" in text and "1 JP = 45 menit" in text and "Koordinator Wati" in text
    client.post("/language", data={"csrf_token": csrf_from(client, "/mentee"), "locale": "en",
                                   "next": "/mentee"})
    text = pdf_text(client.get(f"/certificate.pdf?programme={pair.programme_id}").data)
    assert "Statement of mentoring hours" in text and "1 JP = 45 minutes" in text


def test_pdf_core_font_degrades_gracefully(app):
    pair = make_pair(start=date(2026, 1, 1), end=date(2026, 6, 30))
    pair.mentee.name = "Ṣiti Nguyễn 王"
    set_settings(app, certificate={"font": "core"})
    try:
        with app.test_request_context():
            cert = certificate.build(pair.mentee, pair.programme)
            data = certificate.render_pdf(cert)
    finally:
        set_settings(app, certificate={"font": "auto"})
    assert data.startswith(b"%PDF")
    assert "Siti Nguyen ?" in pdf_text(data)
    assert certificate.latin1("Dewi Ayu – Ratna · Ñoño") == "Dewi Ayu - Ratna · Ñoño"


def test_not_ready_before_programme_end_but_coordinator_previews(app, client):
    today = utcnow().date()
    pair = make_pair(start=today - timedelta(days=30), end=today + timedelta(days=60))
    mentee, mentor, coord = _people(pair)
    confirmed(pair, 60, today - timedelta(days=2))
    db.session.commit()
    url = f"/certificate?programme={pair.programme_id}"
    f.login(client, mentee)
    html = client.get(url).get_data(as_text=True)
    assert 'id="certificate-not-ready"' in html and 'id="certificate"' not in html
    assert "Sertifikat tersedia mulai" in html
    resp = client.get(f"/certificate.pdf?programme={pair.programme_id}")
    assert resp.status_code == 302 and "/certificate?" in resp.headers["Location"]

    f.login(client, coord)
    html = client.get(f"{url}&person={pair.mentee_id}").get_data(as_text=True)
    assert 'id="certificate-preview"' in html and pair.mentee.name in html
    resp = client.get(f"/certificate.pdf?programme={pair.programme_id}&person={pair.mentee_id}")
    assert resp.status_code == 200 and resp.data.startswith(b"%PDF")

    # the pair ends early: the certificate is ready for the mentee
    pair.status, pair.ended_at = "ended", utcnow()
    db.session.commit()
    f.login(client, mentee)
    html = client.get(url).get_data(as_text=True)
    assert 'id="certificate"' in html and 'id="certificate-preview"' not in html


def test_certificate_access(app, client):
    today = utcnow().date()
    pair = make_pair(start=today - timedelta(days=200), end=today - timedelta(days=1))
    other = make_pair(start=today - timedelta(days=200), end=today - timedelta(days=1))
    mentee, mentor, coord = _people(pair)
    outsider = f.user(("mentee",), person_row=other.mentee)
    other_coord = f.user(("coordinator",))
    db.session.add(ProgrammeCoordinator(programme_id=other.programme_id,
                                        user_id=other_coord.id))
    db.session.commit()
    url = f"/certificate?programme={pair.programme_id}&person={pair.mentee_id}"
    f.login(client, outsider)
    assert client.get(url).status_code == 404
    assert client.get(url.replace("/certificate?", "/certificate.pdf?")).status_code == 404
    # the outsider's own certificate of a programme they are not in: nothing to certify
    assert client.get(f"/certificate?programme={pair.programme_id}").status_code == 404
    f.login(client, other_coord)  # a coordinator of another programme
    assert client.get(url).status_code == 404
    f.login(client, mentor)  # the mentor cannot read the mentee's certificate
    assert client.get(url).status_code == 404
    f.login(client, coord)
    assert client.get(url).status_code == 200
    # a coordinator without a person of their own gets no "own" certificate index
    plain = f.user(("coordinator",))
    db.session.commit()
    f.login(client, plain)
    assert client.get("/certificate").status_code == 404


def test_index_lists_several_programmes(app, client):
    mentee_person = person(levels={"KOM": 2}, required={"KOM": 4})
    a = make_pair(prog=programme(name="Program A"), mentee=mentee_person)
    b = make_pair(prog=programme(name="Program B"), mentee=mentee_person, status="completed")
    mentee = f.user(("mentee",), person_row=mentee_person)
    db.session.commit()
    f.login(client, mentee)
    html = client.get("/certificate").get_data(as_text=True)
    assert 'id="certificate-list"' in html and "Program A" in html and "Program B" in html
    assert f"programme={a.programme_id}" in html and f"programme={b.programme_id}" in html


def test_ready_rule_uses_the_persons_local_date(app):
    end = date(2026, 6, 30)
    pair = make_pair(start=date(2026, 1, 1), end=end, mentee_tz="Asia/Jayapura")
    pairs = [pair]
    # 16:00 UTC on 29 June is already 30 June in Jayapura (WIT), still 29 June in Jakarta
    now = datetime(2026, 6, 29, 16, tzinfo=UTC)
    assert certificate.is_ready(pair.mentee, pair.programme, pairs, now)
    assert not certificate.is_ready(pair.mentor, pair.programme, pairs, now)
