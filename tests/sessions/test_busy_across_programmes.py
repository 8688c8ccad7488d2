"""One calendar per person (issue 13.1): a person's sessions in every programme are busy time
for the solver, hand-set pairs, approval, reschedules and COUNTER proposals."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import aliased

from mentormatch.extensions import db
from mentormatch.models import Attendee, Pair, Round, Session, SessionSeries
from mentormatch.services import invites, programmes, rounds, solver_bridge
from mentormatch.services.programmes import Filters
from mentormatch.services.replies import apply_reply
from tests import factories as f
from tests.helpers import csrf_from
from tests.rounds.test_rounds import solve_now
from tests.sessions.test_replies import _mail, counter_ics

TUE_2H = ((1, 9 * 60, 11 * 60),)  # Tuesday 09:00-11:00 local: two one-hour slots
TUE_1H = ((1, 9 * 60, 10 * 60),)  # Tuesday 09:00-10:00 only


def two_programmes(mentee_b_windows=TUE_2H):
    """Programme A (January-June 2027) and B (February-May 2027) share both mentors; each
    has two mentees of its own (A's free only Tuesday 09:00-10:00)."""
    coord = f.user(("coordinator",))
    mentors = [f.person(f"Mentor {i}", grade=13, levels={"KOM": 4, "INT": 4},
                        unit_name="Dinas Bersama", windows=TUE_2H) for i in range(2)]
    a_mentees = [f.person(f"Mentee A{i}", grade=8, levels={"KOM": 1, "INT": 2},
                          required={"KOM": 3, "INT": 3}, unit_name="Dinas A", windows=TUE_1H)
                 for i in range(2)]
    b_mentees = [f.person(f"Mentee B{i}", grade=7, levels={"KOM": 1, "INT": 2},
                          required={"KOM": 3, "INT": 3}, unit_name="Dinas B",
                          windows=mentee_b_windows) for i in range(2)]
    progs = []
    for name, start, end, unit in (("Program A", date(2027, 1, 4), date(2027, 6, 30), "Dinas A"),
                                   ("Program B", date(2027, 2, 1), date(2027, 5, 31),
                                    "Dinas B")):
        prog = programmes.create(coord, name=name, start_date=start, end_date=end)
        programmes.add_participants(prog, "mentor", Filters(grade_min=13), coord)
        programmes.add_participants(prog, "mentee", Filters(
            unit_id=f.unit(unit).id, grade_max=8), coord)
        progs.append(prog)
    db.session.commit()
    return coord, progs, mentors, a_mentees, b_mentees


def clashes() -> list[tuple]:
    """Every pair of live sessions of one person that overlap (straight SQL)."""
    s1, s2 = aliased(Session), aliased(Session)
    a1, a2 = aliased(Attendee), aliased(Attendee)
    return db.session.execute(
        select(a1.person_id, s1.start_at, s2.start_at)
        .join(s1, s1.series_id == a1.series_id)
        .join(a2, a2.person_id == a1.person_id)
        .join(s2, s2.series_id == a2.series_id)
        .where(s1.id < s2.id, s1.status != "cancelled", s2.status != "cancelled",
               s1.start_at < s2.end_at, s2.start_at < s1.end_at)).all()


def test_two_overlapping_programmes_sharing_mentors_never_clash(app):
    coord, (prog_a, prog_b), mentors, _a, b_mentees = two_programmes()
    rnd_a = solve_now(rounds.create(prog_a, coord, name="A"), coord)
    assert len(rnd_a.proposals) == 2
    rounds.approve(rnd_a, coord)
    db.session.commit()
    # B is solved after A is published: the mentors' 09:00 Tuesdays are taken by A
    rnd_b = solve_now(rounds.create(prog_b, coord, name="B"), coord)
    assert len(rnd_b.proposals) == 2
    assert {(p.weekday_utc, p.start_minute_utc) for p in rnd_b.proposals} == {(1, 3 * 60)}
    rounds.approve(rnd_b, coord)
    db.session.commit()
    assert db.session.query(SessionSeries).count() == 4
    assert clashes() == []
    # each mentor's own calendar holds both programmes, an hour apart on Tuesdays
    for m in mentors:
        starts = db.session.scalars(
            select(Session.start_at).join(Attendee, Attendee.series_id == Session.series_id)
            .where(Attendee.person_id == m.id)).all()
        assert {s.hour for s in starts} == {2, 3}  # 09:00 and 10:00 WIB
    # the mentor's calendar client proposes (COUNTER) to move an A session onto their B hour
    mentor = mentors[0]
    a_series, b_series = (db.session.scalars(
        select(SessionSeries).join(Pair).where(Pair.programme_id == prog.id,
                                               Pair.mentor_id == mentor.id)).one()
        for prog in (prog_a, prog_b))
    b_start = b_series.sessions[0].start_at
    a_session = next(s for s in a_series.sessions if s.start_at.date() == b_start.date())
    raw = _mail(counter_ics(a_series, mentor.email, b_start,
                            recurrence_id=a_session.recurrence_id), mentor.email, "COUNTER")
    row = apply_reply(raw, source="imap")
    assert row.outcome == "rejected"
    assert "busy" in row.reason and a_session.proposed_start is None
    ok = b_start + timedelta(hours=2)  # 11:00 WIB: free for both
    raw = _mail(counter_ics(a_series, mentor.email, ok, recurrence_id=a_session.recurrence_id),
                mentor.email, "COUNTER")
    assert apply_reply(raw, source="imap").outcome == "counter"


def test_busy_time_reaches_the_solver_as_its_busy_intervals(app):
    """Sessions of another programme are each person's ``busy`` time in the solver's input
    (the solver keeps new sessions off them); the weekly availability stays as entered."""
    coord, (prog_a, prog_b), mentors, _a, b_mentees = two_programmes()
    rounds.approve(solve_now(rounds.create(prog_a, coord, name="A"), coord), coord)
    db.session.commit()
    built = solver_bridge.build(rounds.create(prog_b, coord, name="B"),
                                [m.id for m in b_mentees], [m.id for m in mentors])
    tue_0900_wib = 1 * 1440 + 2 * 60  # UTC minute of the week
    assert len(built.instance.mentors) == 2
    for m in built.instance.mentors:
        assert m.busy == ((tue_0900_wib, tue_0900_wib + 60),)
        assert [(w.weekday, w.start, w.end) for w in m.availability] == [(1, 540, 660)]
    assert [e.busy for e in built.instance.mentees] == [(), ()]


def test_approval_refuses_and_lists_clashes_with_another_programme(client, app):
    coord, (prog_a, prog_b), mentors, _a, _b = two_programmes(mentee_b_windows=TUE_1H)
    rnd_a = solve_now(rounds.create(prog_a, coord, name="A"), coord)
    rnd_b = solve_now(rounds.create(prog_b, coord, name="B"), coord)  # both at 09:00
    rounds.approve(rnd_a, coord)
    db.session.commit()
    f.login(client, coord)
    base = f"/programmes/{prog_b.id}/rounds/{rnd_b.id}"
    token = csrf_from(client, base)
    page = client.post(f"{base}/approve", data={"csrf_token": token}, follow_redirects=True)
    html = page.get_data(as_text=True)
    assert "sudah terpakai di program lain" in html, html[:3000]
    assert "Mentor 0" in html and "(Program A)" in html and "09:00" in html
    assert db.session.query(Pair).filter_by(programme_id=prog_b.id).count() == 0
    assert db.session.get(Round, rnd_b.id).status == "solved"
    # re-solving sees the busy time: nobody is left with a common free hour
    rnd_b = solve_now(db.session.get(Round, rnd_b.id), coord)
    assert rnd_b.proposals == []
    assert clashes() == []


def test_hand_set_pair_and_reschedule_respect_busy_time(app):
    coord, (prog_a, prog_b), mentors, a_mentees, b_mentees = two_programmes(
        mentee_b_windows=TUE_1H)
    rnd_a = solve_now(rounds.create(prog_a, coord, name="A"), coord)
    rounds.approve(rnd_a, coord)
    db.session.commit()
    # hand-set: B's mentee is free only at 09:00, which both mentors hold for programme A
    rnd_b = rounds.create(prog_b, coord, name="B")
    with pytest.raises(rounds.RoundError) as exc:
        rounds.set_by_hand(rnd_b, b_mentees[0].id, mentors[0].id, coord)
    assert exc.value.code == "no_common_time"
    db.session.rollback()
    # a reschedule onto an hour the mentor already holds (another session) is refused
    s0 = db.session.scalars(select(SessionSeries).order_by(SessionSeries.id)).first().sessions[1]
    taken = db.session.scalars(select(Session).join(SessionSeries).join(Pair).where(
        Pair.mentor_id == s0.series.pair.mentor_id, Session.id != s0.id)).first()
    with pytest.raises(invites.InviteError) as err:
        invites.reschedule_session(s0, taken.start_at, actor=coord)
    assert err.value.code == "busy"
    free = s0.start_at + timedelta(hours=1)  # 10:00 WIB, nobody holds it
    invites.reschedule_session(s0, free, actor=coord)
    db.session.commit()
    assert clashes() == []
