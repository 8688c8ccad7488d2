"""Certificates (issue 13.6): none without credited JP; each has a unique number and a public
verification page (the signed link printed on it) showing name, programme, JP and validity;
it is signed by a name, never an e-mail address."""

from __future__ import annotations

import re
from datetime import date, timedelta

from mentormatch.extensions import db
from mentormatch.models import ProgrammeCoordinator, utcnow
from tests import factories as f
from tests.certificates.test_participants_certificate import confirmed, pdf_text
from tests.logbook.test_logbook import make_pair, programme


def _ended_programme():
    today = utcnow().date()
    return programme(start=today - timedelta(days=200), end=today - timedelta(days=1))


def test_no_certificate_without_credited_jp(client, app):
    pair = make_pair(prog=_ended_programme())
    user = f.user(("mentee",), person_row=pair.mentee)
    db.session.commit()
    f.login(client, user)
    page = client.get(f"/certificate?programme={pair.programme_id}").get_data(as_text=True)
    assert "Belum ada sertifikat" in page and 'id="certificate-number"' not in page
    pdf = client.get(f"/certificate.pdf?programme={pair.programme_id}")
    assert pdf.status_code == 302


def test_number_and_public_verification(client, app):
    prog = _ended_programme()
    pair = make_pair(prog=prog)
    other = make_pair(prog=prog)
    confirmed(pair, 90, prog.end_date - timedelta(days=10))
    coord = f.user(("coordinator",))  # an account without a person: signs by role
    db.session.add(ProgrammeCoordinator(programme_id=prog.id, user_id=coord.id))
    user = f.user(("mentee",), person_row=pair.mentee)
    db.session.commit()
    f.login(client, user)
    html = client.get(f"/certificate?programme={prog.id}").get_data(as_text=True)
    number = re.search(r"Nomor sertifikat (MM-\d{4}-\d{6}-[0-9A-F]{6})", html).group(1)
    assert coord.email not in html and "Koordinator program" in html
    link = re.search(r"(/certificates/verify/[\w.\-]+)", html).group(1)
    pdf = pdf_text(client.get(f"/certificate.pdf?programme={prog.id}").data)
    assert number in pdf and "/certificates/verify/" in pdf.replace("\n", "")
    client.get("/logout")
    with client.session_transaction() as sess:
        sess.clear()
    page = client.get(link)  # anyone holding the link, no login
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="certificate-valid"' in text
    assert pair.mentee.name in text and prog.name in text and number in text
    assert re.search(r'id="v-jp">2<', text)
    assert client.get(link[:-3] + "xyz").status_code == 404  # a forged link
    # another person of the programme gets another number
    from mentormatch.services import certificate
    with app.test_request_context():
        a = certificate.number(certificate.build(pair.mentee, prog))
        b = certificate.number(certificate.build(other.mentee, prog))
    assert a == number and a != b
    assert date.today() >= prog.end_date
