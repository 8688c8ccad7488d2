"""HTTP: mentor and mentee homes, logging, confirming, disputing, access and bad input."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from mentormatch.extensions import db
from mentormatch.models import ProgrammeCoordinator, SessionLog, utcnow
from mentormatch.services import logbook
from mentormatch.services.catalogue import by_code
from tests import factories as f
from tests.helpers import csrf_from
from tests.test_logbook import make_pair, make_session


def _users(pair):
    mentor = f.user(("mentor",), person_row=pair.mentor)
    mentee = f.user(("mentee",), person_row=pair.mentee)
    return mentor, mentee


def _log_form(**kw):
    form = {"held_on": (utcnow().date() - timedelta(days=1)).isoformat(),
            "duration_minutes": "90", "topics": "Menyusun laporan kinerja",
            "notes": "catatan pribadi", "action_text": ["Kirim draf", ""],
            "action_due": [(utcnow().date() + timedelta(days=7)).isoformat(), ""]}
    form.update(kw)
    return form


def _post_log(client, pair, **kw):
    token = csrf_from(client, f"/pairs/{pair.id}/logs/new")
    return client.post(f"/pairs/{pair.id}/logs/new", data={**_log_form(**kw), "csrf_token": token})


def _count() -> int:
    return db.session.scalar(select(func.count(SessionLog.id)))


def test_mentee_logs_mentor_confirms_jp_shown(app, client):
    pair = make_pair()
    mentor, mentee = _users(pair)
    db.session.commit()
    f.login(client, mentee)
    home = client.get("/mentee").get_data(as_text=True)
    assert pair.mentor.name in home and 'id="jp-total">0<' in home and "/ 20 JP" in home
    kom = str(by_code()["KOM"].id)
    resp = _post_log(client, pair, competency=[kom])
    assert resp.status_code == 302
    log = db.session.scalars(select(SessionLog)).one()
    assert log.status == "submitted" and log.action_items[0].text == "Kirim draf"
    assert len(log.action_items) == 1 and log.competencies[0].competency.code == "KOM"

    f.login(client, mentor)
    home = client.get("/mentor").get_data(as_text=True)
    assert "pending-logs" in home and pair.mentee.name in home
    page = client.get(f"/logs/{log.id}").get_data(as_text=True)
    assert "catatan pribadi" in page
    token = csrf_from(client, f"/logs/{log.id}")
    assert client.post(f"/logs/{log.id}/confirm", data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert db.session.get(SessionLog, log.id).status == "confirmed"
    assert 'id="jp-total">2<' in client.get("/mentor").get_data(as_text=True)

    f.login(client, mentee)
    assert 'id="jp-total">2<' in client.get("/mentee").get_data(as_text=True)
    # confirmed: no more editing
    assert client.get(f"/logs/{log.id}/edit").status_code == 302


def test_dispute_then_edit(app, client):
    pair = make_pair()
    mentor, mentee = _users(pair)
    log, _ = logbook.submit_log(pair, pair.mentee, logbook.LogInput(
        held_on=utcnow().date(), duration_minutes=120, topics="Diskusi"))
    db.session.commit()
    f.login(client, mentor)
    token = csrf_from(client, f"/logs/{log.id}")
    resp = client.post(f"/logs/{log.id}/dispute", data={"csrf_token": token, "comment": ""})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(SessionLog, log.id).status == "submitted"
    client.post(f"/logs/{log.id}/dispute", data={"csrf_token": token, "comment": "Hanya 1 jam"})
    db.session.expire_all()
    assert db.session.get(SessionLog, log.id).status == "disputed"

    f.login(client, mentee)
    page = client.get(f"/logs/{log.id}/edit").get_data(as_text=True)
    assert "Hanya 1 jam" in page
    token = csrf_from(client, f"/logs/{log.id}/edit")
    resp = client.post(f"/logs/{log.id}/edit", data={
        **_log_form(duration_minutes="60", held_on=utcnow().date().isoformat()),
        "csrf_token": token})
    assert resp.status_code == 302
    db.session.expire_all()
    row = db.session.get(SessionLog, log.id)
    assert (row.status, row.duration_minutes) == ("submitted", 60)


def test_bad_input_rejected(app, client):
    pair = make_pair()
    _, mentee = _users(pair)
    cancelled = make_session(pair, start=utcnow() - timedelta(days=2), status="cancelled")
    db.session.commit()
    f.login(client, mentee)
    for kw in ({"duration_minutes": "-45"}, {"duration_minutes": "0"},
               {"duration_minutes": "9999"}, {"duration_minutes": "abc"},
               {"held_on": "2026-02-30"}, {"topics": ""},
               {"session_id": str(cancelled.id)}, {"competency": ["x"]}):
        resp = _post_log(client, pair, **kw)
        assert resp.status_code == 400, kw
        assert 'id="form-error"' in resp.get_data(as_text=True)
    assert _count() == 0


def test_duplicate_submit_makes_one_log(app, client):
    pair = make_pair()
    _, mentee = _users(pair)
    s = make_session(pair, start=utcnow() - timedelta(days=1))
    db.session.commit()
    f.login(client, mentee)
    token = csrf_from(client, f"/pairs/{pair.id}/logs/new")
    form = {**_log_form(session_id=str(s.id)), "csrf_token": token}
    first = client.post(f"/pairs/{pair.id}/logs/new", data=form)
    second = client.post(f"/pairs/{pair.id}/logs/new", data=form)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert _count() == 1


def test_access(app, client):
    pair, other = make_pair(), make_pair()
    mentor, mentee = _users(pair)
    other_mentor, other_mentee = _users(other)
    log, _ = logbook.submit_log(pair, pair.mentee, logbook.LogInput(
        held_on=utcnow().date(), duration_minutes=60, topics="Diskusi", notes="rahasia"))
    coord = f.user(("coordinator",))
    db.session.add(ProgrammeCoordinator(programme_id=pair.programme_id, user_id=coord.id))
    db.session.commit()

    f.login(client, other_mentee)  # another pair's mentee
    assert client.get(f"/logs/{log.id}").status_code == 404
    assert client.get(f"/logs/{log.id}/edit").status_code == 404
    assert client.get(f"/pairs/{pair.id}/logs/new").status_code == 404

    f.login(client, other_mentor)  # another pair's mentor cannot confirm
    token = csrf_from(client, "/mentor")
    assert client.post(f"/logs/{log.id}/confirm", data={"csrf_token": token}).status_code == 404
    f.login(client, mentee)  # the mentee cannot confirm their own log
    token = csrf_from(client, "/mentee")
    assert client.post(f"/logs/{log.id}/confirm", data={"csrf_token": token}).status_code == 403
    f.login(client, mentor)  # the mentor cannot write the mentee's log
    assert client.get(f"/pairs/{pair.id}/logs/new").status_code == 403
    db.session.expire_all()
    assert db.session.get(SessionLog, log.id).status == "submitted"

    f.login(client, coord)  # coordinators see the structured fields, not the notes
    page = client.get(f"/logs/{log.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Diskusi" in text and "rahasia" not in text
    db.session.get(SessionLog, log.id).notes_visible_to_coordinator = True
    db.session.commit()
    assert "rahasia" in client.get(f"/logs/{log.id}").get_data(as_text=True)

    client.post("/logout", data={"csrf_token": token})
    with client.session_transaction() as sess:
        sess.clear()
    assert client.get("/mentee").status_code in (302, 401)


def test_mark_and_propose_via_http(app, client):
    pair = make_pair()
    mentor, mentee = _users(pair)
    past = make_session(pair, start=utcnow() - timedelta(days=1))
    future = make_session(pair, start=utcnow() + timedelta(days=3))
    db.session.commit()
    f.login(client, mentor)
    home = client.get("/mentor").get_data(as_text=True)
    assert 'id="to-mark"' in home and 'id="upcoming"' in home
    token = csrf_from(client, "/mentor")
    client.post(f"/sessions/{past.id}/mark", data={"csrf_token": token, "held": "0"})
    new_local = (utcnow() + timedelta(days=4)).strftime("%Y-%m-%dT%H:%M")
    client.post(f"/sessions/{future.id}/propose",
                data={"csrf_token": token, "new_start": new_local})
    db.session.expire_all()
    assert past.status == "not_held" and future.proposed_start is not None
    f.login(client, mentee)
    assert 'id="proposals"' in client.get("/mentee").get_data(as_text=True)
    token = csrf_from(client, "/mentee")
    client.post(f"/sessions/{future.id}/proposal", data={"csrf_token": token, "accept": "0"})
    db.session.expire_all()
    assert future.proposed_start is None


def test_invite_accept_and_proposal_accept_move_calendar(app, client):
    from mentormatch.models import Attendee, OutboxMessage
    from mentormatch.services import invites

    pair = make_pair(status="invited")
    mentor, mentee = _users(pair)
    first = (utcnow() + timedelta(days=7)).replace(microsecond=0)
    series = invites.create_series_for_pair(pair, first, actor=None, is_holiday=lambda d: False,
                                            count=2)
    db.session.commit()
    att = next(a for a in series.attendees if a.role == "mentor")
    f.login(client, mentor)
    home = client.get("/mentor").get_data(as_text=True)
    assert 'id="invites"' in home
    token = csrf_from(client, "/mentor")
    resp = client.post(f"/mentor/invites/{att.id}", data={"csrf_token": token,
                                                          "answer": "ACCEPTED"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Attendee, att.id).partstat == "ACCEPTED"
    # the mentee cannot answer the mentor's invite
    f.login(client, mentee)
    token = csrf_from(client, "/mentee")
    assert client.post(f"/mentor/invites/{att.id}", data={"csrf_token": token,
                                                          "answer": "DECLINED"}).status_code == 404

    session = series.sessions[0]
    new_start = first + timedelta(days=1)
    logbook.propose_time(session, pair.mentor, new_start)
    db.session.commit()
    before = db.session.scalar(select(func.count(OutboxMessage.id)))
    client.post(f"/sessions/{session.id}/proposal", data={"csrf_token": token, "accept": "1"})
    db.session.expire_all()
    assert session.start_at == new_start and session.proposed_start is None
    assert db.session.scalar(select(func.count(OutboxMessage.id))) > before  # updates sent
