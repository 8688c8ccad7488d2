"""HTTP: mentor and mentee homes, logging, confirming, disputing, access, bad input, zones."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from mentormatch.extensions import db
from mentormatch.models import ProgrammeCoordinator, Session, SessionLog, utcnow
from mentormatch.services import logbook
from mentormatch.services.catalogue import by_code
from tests import factories as f
from tests.helpers import csrf_from
from tests.logbook.test_logbook import make_pair, make_session, workday

_TOKEN = re.compile(r'name="submit_token" value="([^"]+)"')
#: a refusal: above the form, or beside its field (said once: see test_log_dates)
_ERROR = re.compile(r'(?:id="form-error"|class="error field-error" id="[^"]*"(?: role="alert")?)'
                    r'>([^<]*)<')


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


def _form_tokens(client, path):
    html = client.get(path).get_data(as_text=True)
    return csrf_from(client, path), _TOKEN.search(html).group(1), html


def _post_log(client, pair, **kw):
    csrf, token, _ = _form_tokens(client, f"/pairs/{pair.id}/logs/new")
    return client.post(f"/pairs/{pair.id}/logs/new",
                       data={**_log_form(**kw), "csrf_token": csrf, "submit_token": token})


def _count() -> int:
    return db.session.scalar(select(func.count(SessionLog.id)))


def test_mentee_logs_mentor_confirms_jp_shown(app, client):
    pair = make_pair()
    mentor, mentee = _users(pair)
    db.session.commit()
    f.login(client, mentee)
    home = client.get("/mentee").get_data(as_text=True)
    assert pair.mentor.name in home and 'id="jp-total">0<' in home and ">20</span> JP" in home
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


def test_homes_show_names_not_codes(app, client):
    pair = make_pair()
    mentor, mentee = _users(pair)
    db.session.commit()
    for user, path in ((mentor, "/mentor"), (mentee, "/mentee")):
        f.login(client, user)
        html = client.get(path).get_data(as_text=True)
        assert "Fokus: Komunikasi" in html and "KOM" not in html
        assert ">Aktif<" in html and ">active<" not in html
    client.post("/language", data={"csrf_token": csrf_from(client, "/mentee"), "locale": "en",
                                   "next": "/mentee"})
    html = client.get("/mentee").get_data(as_text=True)
    assert "Focus: Communication" in html and ">Active<" in html


def test_dispute_then_edit(app, client):
    pair = make_pair()
    mentor, mentee = _users(pair)
    log, _ = logbook.submit_log(pair, pair.mentee, logbook.LogInput(
        held_on=utcnow().date() - timedelta(days=1), duration_minutes=120, topics="Diskusi"))
    db.session.commit()
    f.login(client, mentor)
    token = csrf_from(client, f"/logs/{log.id}")
    resp = client.post(f"/logs/{log.id}/dispute", data={"csrf_token": token, "comment": ""})
    assert resp.status_code == 302
    assert "Mohon jelaskan" in client.get(resp.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(SessionLog, log.id).status == "submitted"
    client.post(f"/logs/{log.id}/dispute", data={"csrf_token": token, "comment": "Hanya 1 jam"})
    db.session.expire_all()
    assert db.session.get(SessionLog, log.id).status == "disputed"

    f.login(client, mentee)
    csrf, submit, page = _form_tokens(client, f"/logs/{log.id}/edit")
    assert "Hanya 1 jam" in page
    resp = client.post(f"/logs/{log.id}/edit", data={
        **_log_form(duration_minutes="60"), "csrf_token": csrf, "submit_token": submit})
    assert resp.status_code == 302
    db.session.expire_all()
    row = db.session.get(SessionLog, log.id)
    assert (row.status, row.duration_minutes) == ("submitted", 60)


def test_bad_input_rejected_with_message(app, client):
    pair = make_pair()
    _, mentee = _users(pair)
    cancelled = make_session(pair, start=utcnow() - timedelta(days=2), status="cancelled")
    later = make_session(pair, start=utcnow() + timedelta(hours=3))
    db.session.commit()
    f.login(client, mentee)
    tomorrow = (utcnow().astimezone(ZoneInfo("Asia/Jakarta")).date()
                + timedelta(days=1)).isoformat()
    cases = [
        ({"duration_minutes": "-45"}, "Durasi minimal 1 menit"),
        ({"duration_minutes": "0"}, "Durasi minimal 1 menit"),
        ({"duration_minutes": "9999"}, "Durasi paling lama 600 menit"),
        ({"duration_minutes": "abc"}, "bilangan bulat"),
        ({"held_on": "2026-02-30"}, "tanggal yang valid"),
        ({"held_on": tomorrow}, "tidak boleh melewati hari ini"),
        ({"topics": ""}, "topik"),
        ({"session_id": str(cancelled.id)}, "dibatalkan atau tidak terlaksana"),
        ({"session_id": str(later.id), "held_on": utcnow().date().isoformat()},
         "belum dimulai"),
        ({"competency": ["x"]}, "Pilih kompetensi"),
        ({"duration_minutes": "500"}, "Paling banyak 480 menit dapat dicatat untuk satu hari"),
    ]
    for kw, text in cases:
        resp = _post_log(client, pair, **kw)
        error = _ERROR.search(resp.get_data(as_text=True))
        assert resp.status_code == 400, kw
        assert error and text in error.group(1), (kw, text, error and error.group(1))
    assert _count() == 0
    db.session.expire_all()
    assert db.session.get(Session, later.id).status == "scheduled"


def test_double_submit_returns_the_same_log(app, client):
    pair = make_pair()
    _, mentee = _users(pair)
    db.session.commit()
    f.login(client, mentee)
    csrf, submit, _ = _form_tokens(client, f"/pairs/{pair.id}/logs/new")
    form = {**_log_form(), "csrf_token": csrf, "submit_token": submit}
    first = client.post(f"/pairs/{pair.id}/logs/new", data=form)
    second = client.post(f"/pairs/{pair.id}/logs/new", data=form)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert _count() == 1
    # a genuine second session the same day (a fresh form) is a second log
    assert _post_log(client, pair).status_code == 302
    assert _count() == 2


def test_form_uses_the_viewers_local_date(app, client):
    pair = make_pair(mentee_tz="Asia/Jayapura")
    _, mentee = _users(pair)
    db.session.commit()
    f.login(client, mentee)
    html = client.get(f"/pairs/{pair.id}/logs/new").get_data(as_text=True)
    local = utcnow().astimezone(ZoneInfo("Asia/Jayapura")).date().isoformat()
    assert f'max="{local}"' in html and f'value="{local}"' in html
    assert f'min="{pair.programme.start_date.isoformat()}"' in html and "(WIT)" in html


def test_times_shown_in_each_viewers_zone(app, client):
    """One session at 02:00 UTC: 09:00 WIB for the mentor, 10:00 WITA for the mentee."""
    pair = make_pair(mentee_tz="Asia/Makassar")
    mentor, mentee = _users(pair)
    start = workday(3, 9)  # 09:00 WIB
    make_session(pair, start=start)
    db.session.commit()
    f.login(client, mentee)
    html = client.get("/mentee").get_data(as_text=True)
    assert "10:00 WITA" in html and "09:00 WIB" not in html
    f.login(client, mentor)
    html = client.get("/mentor").get_data(as_text=True)
    assert "09:00 WIB" in html and "10:00 WITA" in html  # the mentee's time beside it


def test_access(app, client):
    pair, other = make_pair(), make_pair()
    mentor, mentee = _users(pair)
    other_mentor, other_mentee = _users(other)
    log, _ = logbook.submit_log(pair, pair.mentee, logbook.LogInput(
        held_on=utcnow().date() - timedelta(days=1), duration_minutes=60, topics="Diskusi",
        notes="rahasia"))
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
    logged = make_session(pair, start=utcnow() - timedelta(days=2))
    future = make_session(pair, start=workday(3, 9))
    log, _ = logbook.submit_log(pair, pair.mentee, logbook.LogInput(
        held_on=logged.start_at.date(), duration_minutes=60, topics="x", session_id=logged.id))
    logbook.confirm_log(log, pair.mentor)
    db.session.commit()
    f.login(client, mentor)
    home = client.get("/mentor").get_data(as_text=True)
    assert 'id="to-mark"' in home and 'id="upcoming"' in home
    token = csrf_from(client, "/mentor")
    client.post(f"/sessions/{past.id}/mark", data={"csrf_token": token, "held": "0"})
    resp = client.post(f"/sessions/{logged.id}/mark", data={"csrf_token": token, "held": "0"})
    assert "tidak dapat ditandai tidak terlaksana" in client.get(
        resp.headers["Location"]).get_data(as_text=True)
    # 20:00 WIB is after working hours: refused with the reason
    evening = future.start_at.astimezone(ZoneInfo("Asia/Jakarta")).replace(hour=20)
    resp = client.post(f"/sessions/{future.id}/propose",
                       data={"csrf_token": token,
                             "new_start": evening.strftime("%Y-%m-%dT%H:%M")})
    assert "di luar jam kerja" in client.get(resp.headers["Location"]).get_data(as_text=True)
    ok = (future.start_at + timedelta(days=1)).astimezone(ZoneInfo("Asia/Jakarta"))
    client.post(f"/sessions/{future.id}/propose",
                data={"csrf_token": token, "new_start": ok.strftime("%Y-%m-%dT%H:%M")})
    db.session.expire_all()
    assert past.status == "not_held" and logged.status == "held"
    assert future.proposed_start == ok.astimezone(UTC)
    f.login(client, mentee)
    assert 'id="proposals"' in client.get("/mentee").get_data(as_text=True)
    token = csrf_from(client, "/mentee")
    client.post(f"/sessions/{future.id}/proposal", data={"csrf_token": token, "accept": "0"})
    db.session.expire_all()
    assert future.proposed_start is None


def test_invite_accept_and_proposal_accept_move_calendar(app, client):
    from mentormatch.models import Attendee, OutboxMessage

    pair = make_pair(status="invited")
    mentor, mentee = _users(pair)
    first = workday(7, 9)
    series = f.series(pair, first, is_holiday=lambda d: False, count=2)
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
    new_start = first + timedelta(hours=2)  # 11:00 WIB the same day
    logbook.propose_time(session, pair.mentor, new_start)
    db.session.commit()
    before = db.session.scalar(select(func.count(OutboxMessage.id)))
    client.post(f"/sessions/{session.id}/proposal", data={"csrf_token": token, "accept": "1"})
    db.session.expire_all()
    assert session.start_at == new_start.astimezone(UTC) and session.proposed_start is None
    assert db.session.scalar(select(func.count(OutboxMessage.id))) > before  # updates sent


def test_future_first_start_helper_is_a_workday():
    start = workday(1, 9)
    local = start.astimezone(ZoneInfo("Asia/Jakarta"))
    assert local.weekday() == 1 and local.hour == 9 and start > datetime.now(UTC)
