"""A coordinator's pairs view (filter by status, next step at hand: end, rematch, remind) and
the participant list with add/remove of one person, over HTTP."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from mentormatch.extensions import db
from mentormatch.models import Pair, Participant, Programme, ProgrammeCoordinator, Round
from tests import factories as f
from tests.helpers import csrf_from


def _world(client):
    prog = Programme(name="Mentoring Pasangan", start_date=date(2027, 1, 1),
                     end_date=date(2027, 12, 31))
    db.session.add(prog)
    mentor = f.person("Mentor Andi", grade=13)
    active, declined, waiting = (f.person("Mentee Aktif"), f.person("Mentee Ditolak"),
                                 f.person("Mentee Menunggu"))
    outsider = f.person("Pegawai Baru", nip="199201012019031004")
    db.session.flush()
    for p, role in ((mentor, "mentor"), (active, "mentee"), (declined, "mentee"),
                    (waiting, "mentee")):
        db.session.add(Participant(programme_id=prog.id, person_id=p.id, role=role))
    live = Pair(programme=prog, mentor_id=mentor.id, mentee_id=active.id, status="active")
    db.session.add_all([live, Pair(programme=prog, mentor_id=mentor.id, mentee_id=declined.id,
                                   status="declined")])
    coord = f.user(("coordinator",))
    db.session.flush()
    db.session.add(ProgrammeCoordinator(programme_id=prog.id, user_id=coord.id))
    db.session.commit()
    f.login(client, coord)
    return prog, live, mentor, outsider


def test_pairs_by_status_end_and_rematch(client, db):
    prog, live, _mentor, _outsider = _world(client)
    html = client.get(f"/programmes/{prog.id}/pairs?status=active").get_data(as_text=True)
    assert "Mentee Aktif" in html and "Mentee Ditolak" not in html
    unmatched = client.get(f"/programmes/{prog.id}/pairs?status=unmatched").get_data(
        as_text=True)
    rows = unmatched.split('id="pairs"', 1)[1]
    assert "Mentee Ditolak" in rows and "Mentee Menunggu" in rows and "Mentee Aktif" not in rows
    assert 'id="rematch"' in unmatched
    token = csrf_from(client, f"/programmes/{prog.id}/pairs")
    # ending needs a reason, then the pair ends and the mentee is rematchable
    client.post(f"/programmes/{prog.id}/pairs/{live.id}/end", data={"csrf_token": token})
    assert db.session.get(Pair, live.id).status == "active"
    client.post(f"/programmes/{prog.id}/pairs/{live.id}/end",
                data={"csrf_token": token, "reason": "Pindah tugas"})
    db.session.expire_all()
    assert db.session.get(Pair, live.id).status == "ended"
    r = client.post(f"/programmes/{prog.id}/rematch", data={"csrf_token": token})
    assert r.status_code == 302
    rnd = db.session.scalar(select(Round).where(Round.programme_id == prog.id))
    assert rnd.kind == "rematch" and f"/rounds/{rnd.id}" in r.headers["Location"]


def test_participants_add_and_remove_one(client, db):
    prog, _live, mentor, outsider = _world(client)
    token = csrf_from(client, f"/programmes/{prog.id}/participants")
    client.post(f"/programmes/{prog.id}/participants/one",
                data={"csrf_token": token, "person": outsider.nip, "role": "mentee"})
    part = db.session.scalar(select(Participant).where(Participant.person_id == outsider.id))
    assert part is not None and part.role == "mentee" and part.active
    again = client.post(f"/programmes/{prog.id}/participants/one", follow_redirects=True,
                        data={"csrf_token": token, "person": outsider.nip, "role": "mentee"})
    assert "sudah" in again.get_data(as_text=True)
    # someone in a live pair cannot simply be removed
    m_part = db.session.scalar(select(Participant).where(Participant.person_id == mentor.id))
    page = client.post(f"/programmes/{prog.id}/participants/{m_part.id}/remove",
                       data={"csrf_token": token}, follow_redirects=True)
    assert "Mentor Andi" in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Participant, m_part.id).active
    client.post(f"/programmes/{prog.id}/participants/{part.id}/remove",
                data={"csrf_token": token})
    db.session.expire_all()
    assert not db.session.get(Participant, part.id).active
    html = client.get(f"/programmes/{prog.id}/participants").get_data(as_text=True)
    table = html.split('id="participants"', 1)[1]
    assert "Pegawai Baru" not in table and "Mentor Andi" in table


def test_audit_names_the_pair_the_change_and_who_answered(client, db):
    from mentormatch.services.replies import apply_partstat
    from tests.sessions.test_invites import make_series

    prog, live, _mentor, _outsider = _world(client)
    token = csrf_from(client, f"/programmes/{prog.id}/pairs")
    client.post(f"/programmes/{prog.id}/pairs/{live.id}/end",
                data={"csrf_token": token, "reason": "Pindah tugas"})
    series = make_series()  # another programme's pair; its mentor answers by link
    db.session.add(ProgrammeCoordinator(programme_id=series.pair.programme_id,
                                        user_id=db.session.scalar(select(
                                            ProgrammeCoordinator.user_id)
                                            .where(ProgrammeCoordinator.programme_id
                                                   == prog.id))))
    apply_partstat(series.attendees[0], "ACCEPTED", None, None, "link")
    db.session.commit()
    html = client.get(f"/programmes/{prog.id}/audit").get_data(as_text=True)
    assert "Mentee Aktif – Mentor Andi" in html and "active → ended" in html
    other = client.get(f"/programmes/{series.pair.programme_id}/audit").get_data(as_text=True)
    row = other.split("lewat tautan", 1)[0].rsplit("<tr>", 1)[1]
    assert "Budi Mentor" in row  # the mentor answered, not "Sistem"
    assert "Budi Mentor – " in other or "Sari Mentee – Budi Mentor" in other


def test_withdrawing_a_mentor_asks_first_with_the_pairs_it_ends(client, db):
    prog, _live, mentor, _outsider = _world(client)
    html = client.get(f"/programmes/{prog.id}").get_data(as_text=True)
    item = html.split(f'data-mentor="{mentor.id}"', 1)[1].split("</li>", 1)[0]
    assert "Undurkan Mentor Andi dari Mentoring Pasangan?" in item
    assert "1 pasangan berakhir sekarang: Mentee Aktif." in item
    assert "tidak dapat dibatalkan" in item
