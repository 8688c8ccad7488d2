"""Service tests for programmes and matching rounds (issue 5)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from mentormatch.extensions import db
from mentormatch.models import AuditLog, Pair, Round
from mentormatch.services import programmes, rounds
from mentormatch.services.programmes import Filters
from tests import factories as f

TUE = ((1, 9 * 60, 12 * 60),)


def setup_programme(n_mentors=2, n_mentees=3, **kw):
    coord = f.user(("coordinator",))
    prog = programmes.create(coord, name="Mentoring 2026", start_date=date(2026, 1, 5),
                             end_date=date(2026, 6, 30), **kw)
    mentors = [f.person(f"Mentor {i}", grade=13, levels={"KOM": 4, "INT": 4}, windows=TUE)
               for i in range(n_mentors)]
    mentees = [f.person(f"Mentee {i}", grade=8, levels={"KOM": 1, "INT": 2},
                        required={"KOM": 3, "INT": 3}, windows=TUE) for i in range(n_mentees)]
    programmes.add_participants(prog, "mentor", Filters(grade_min=13, grade_max=13), coord)
    programmes.add_participants(prog, "mentee", Filters(grade_max=8), coord)
    db.session.commit()
    return coord, prog, mentors, mentees


def solve_now(rnd, coord):
    rounds.queue(rnd, coord)
    db.session.commit()
    assert rounds.run(rnd.id) == "solved", rnd.error
    db.session.expire_all()
    return db.session.get(Round, rnd.id)


def test_create_programme_makes_creator_coordinator(app):
    coord, prog, _, _ = setup_programme()
    assert [c.user_id for c in prog.coordinators] == [coord.id]
    assert prog.session_minutes == 60 and prog.default_capacity == 3
    assert programmes.for_user(coord) == [prog]
    other = f.user(("coordinator",))
    assert programmes.for_user(other) == []
    with pytest.raises(programmes.ProgrammeError):
        programmes.create(coord, name="x", start_date=date(2026, 2, 1),
                          end_date=date(2026, 1, 1))


def test_filters_count_and_add(app):
    coord, prog, mentors, mentees = setup_programme()
    assert len(programmes.participants(prog, "mentor")) == 2
    assert len(programmes.participants(prog, "mentee")) == 3
    # adding again adds nobody (already participants)
    assert programmes.count_candidates(prog, "mentee", Filters(grade_max=8)) == 0
    f.person("Other city", grade=8, levels={"KOM": 1}, required={"KOM": 3},
             loc=f.location("Palu", "Palu", "Asia/Makassar"))
    assert programmes.count_candidates(prog, "mentee", Filters(city="Palu")) == 1
    assert programmes.count_candidates(prog, "mentee", Filters(gap_in="KOM")) == 1
    assert programmes.count_candidates(prog, "mentee", Filters(gap_in="PP")) == 0


def test_round_solves_with_reasons_and_stats(app):
    coord, prog, mentors, mentees = setup_programme()
    rnd = rounds.create(prog, coord, name="Round 1")
    assert rounds.counts(rnd) == {"mentees": 3, "mentors": 2, "capacity": 6}
    rnd = solve_now(rnd, coord)
    assert rnd.status == "solved"
    assert len(rnd.proposals) == 3 and not rnd.unmatched
    p = rnd.proposals[0]
    assert "Komunikasi" in p.reason_id or "KOM" in p.reason_id
    assert p.weekday_utc == 1 and p.start_minute_utc in (120, 180, 240)  # Tue 09-12 WIB
    assert rnd.stats["status"] and rnd.stats["matched"] == 3
    assert rnd.progress["phase"] == "done"


def test_only_one_solve_at_a_time(app):
    coord, prog, _, _ = setup_programme()
    rnd = rounds.create(prog, coord, name="R")
    rounds.queue(rnd, coord)
    db.session.commit()
    with pytest.raises(rounds.RoundBusy):
        rounds.queue(rnd, coord)
    assert rounds.run(rnd.id) == "solved"
    assert rounds.run(rnd.id) == "skipped"  # nothing queued any more


def test_crash_marks_failed_and_rerunnable(app, monkeypatch):
    coord, prog, _, _ = setup_programme()
    rnd = solve_now(rounds.create(prog, coord, name="R"), coord)
    before = [(p.mentee_id, p.mentor_id) for p in rnd.proposals]
    rounds.queue(rnd, coord)
    db.session.commit()

    def boom(*a, **k):
        raise RuntimeError("solver exploded")

    monkeypatch.setattr(rounds.solver, "solve", boom)
    assert rounds.run(rnd.id) == "failed"
    db.session.expire_all()
    rnd = db.session.get(Round, rnd.id)
    assert rnd.status == "failed" and "solver exploded" in rnd.error
    assert [(p.mentee_id, p.mentor_id) for p in rnd.proposals] == before  # not half-written
    monkeypatch.undo()
    assert solve_now(rnd, coord).status == "solved"


def test_unmatched_with_reason(app):
    coord, prog, _, _ = setup_programme(n_mentors=1, n_mentees=3, default_capacity=1)
    rnd = solve_now(rounds.create(prog, coord, name="R"), coord)
    assert len(rnd.proposals) == 1
    assert {u.reason for u in rnd.unmatched} <= {"capacity_taken", "no_eligible_mentor",
                                                 "no_common_time"}
    assert len(rnd.unmatched) == 2


def test_lock_and_forbid_are_kept_on_resolve(app):
    coord, prog, mentors, mentees = setup_programme()
    rnd = solve_now(rounds.create(prog, coord, name="R"), coord)
    first = rnd.proposals[0]
    other = next(m.id for m in mentors if m.id != first.mentor_id)
    rounds.forbid(rnd, first.mentee_id, first.mentor_id, coord)
    second = rnd.proposals[1]
    rounds.lock(rnd, second.mentee_id, second.mentor_id, coord)
    db.session.commit()
    rnd = solve_now(rnd, coord)
    got = {p.mentee_id: p.mentor_id for p in rnd.proposals}
    assert got[first.mentee_id] == other
    assert got[second.mentee_id] == second.mentor_id
    actions = set(db.session.scalars(select(AuditLog.action)))
    assert {"round.create", "round.solve", "round.lock", "round.forbid"} <= actions


def test_set_by_hand_needs_override_reason(app):
    coord, prog, mentors, mentees = setup_programme()
    low = f.person("Junior mentor", grade=8, levels={"KOM": 4}, windows=TUE)
    programmes.add_participants(prog, "mentor", Filters(grade_min=8, grade_max=8), coord)
    # the mentee filter above also matched "Junior mentor" only as mentor candidate
    rnd = rounds.create(prog, coord, name="R")
    with pytest.raises(rounds.NeedsOverride) as exc:
        rounds.set_by_hand(rnd, mentees[0].id, low.id, coord)
    assert "grade" in exc.value.violations
    row, violations = rounds.set_by_hand(rnd, mentees[0].id, low.id, coord,
                                         override_reason="Subject expert")
    assert row.override_reason == "Subject expert" and violations == ["grade"]
    db.session.commit()
    rnd = solve_now(rnd, coord)
    manual = [p for p in rnd.proposals if p.mentee_id == mentees[0].id]
    assert manual and manual[0].mentor_id == low.id and manual[0].manual
    # a supervisor is never overridable
    boss = mentors[0]
    mentees[1].supervisor_id = boss.id
    db.session.flush()
    with pytest.raises(rounds.RoundError, match="Policy"):
        rounds.set_by_hand(rnd, mentees[1].id, boss.id, coord, override_reason="x")


def test_approve_is_idempotent(app):
    coord, prog, _, _ = setup_programme()
    rnd = solve_now(rounds.create(prog, coord, name="R"), coord)
    created = rounds.approve(rnd, coord)
    db.session.commit()
    assert len(created) == 3 and rnd.status == "approved"
    assert rounds.approve(rnd, coord) == []
    db.session.commit()
    assert db.session.query(Pair).count() == 3
    with pytest.raises(rounds.RoundError):
        rounds.lock(rnd, created[0].mentee_id, created[0].mentor_id, coord)


def test_rematch_keeps_pairs_and_fills_gaps(app):
    coord, prog, mentors, mentees = setup_programme(n_mentors=1, n_mentees=3,
                                                    default_capacity=2)
    rnd = solve_now(rounds.create(prog, coord, name="R"), coord)
    pairs = rounds.approve(rnd, coord, invite=False)
    db.session.commit()
    assert len(pairs) == 2
    pairs[0].status = "declined"  # a mentor declined: a gap opens
    extra = f.person("Mentor late", grade=13, levels={"KOM": 4}, windows=TUE)
    programmes.add_participants(prog, "mentor", Filters(grade_min=13), coord)
    db.session.commit()
    re = solve_now(rounds.create(prog, coord, name="Rematch", kind="rematch"), coord)
    got = {p.mentee_id: p.mentor_id for p in re.proposals}
    assert pairs[1].mentee_id not in got  # kept fixed, not re-proposed
    assert pairs[0].mentee_id in got
    assert got[pairs[0].mentee_id] != pairs[0].mentor_id  # no repeat of the declined pair
    assert extra.id in got.values() or mentors[0].id in got.values()
    rounds.approve(re, coord, invite=False)
    db.session.commit()
    live = db.session.query(Pair).filter(Pair.status.in_(("invited", "active"))).count()
    assert live == 3


def test_preferences_are_honoured(app):
    coord, prog, mentors, mentees = setup_programme(n_mentors=2, n_mentees=1,
                                                    preferences_enabled=True)
    rnd = solve_now(rounds.create(prog, coord, name="R"), coord)
    chosen = rnd.proposals[0].mentor_id
    wish = next(m.id for m in mentors if m.id != chosen)
    programmes.set_preferences(prog, mentees[0].id, [wish], coord)
    db.session.commit()
    rnd = solve_now(rnd, coord)
    assert rnd.proposals[0].mentor_id == wish
    with pytest.raises(programmes.ProgrammeError):
        programmes.set_preferences(prog, mentees[0].id, [mentees[0].id], coord)


def test_criteria_default_from_config_and_editable(app):
    coord, prog, _, _ = setup_programme()
    rnd = rounds.create(prog, coord, name="R")
    cfg = app.config["MM"]["solver"]
    assert rnd.criteria["min_grade_steps"] == cfg["min_grade_steps"]
    assert rnd.criteria["weights"]["gap_coverage"] == cfg["weights"]["gap_coverage"]
    rounds.set_criteria(rnd, {"min_grade_steps": "6", "w_gap_coverage": "20",
                              "no_direct_supervisor": "1"}, coord)
    assert rnd.criteria["min_grade_steps"] == 6
    assert rnd.criteria["weights"]["gap_coverage"] == 20
    assert rnd.criteria["no_direct_supervisor"] and not rnd.criteria["no_repeat_pairs"]
    db.session.commit()
    rnd = solve_now(rnd, coord)  # grade 13 vs 8 is only 5 steps: nobody is eligible
    assert not rnd.proposals and {u.reason for u in rnd.unmatched} == {"no_eligible_mentor"}
    with pytest.raises(rounds.RoundError):
        rounds.set_criteria(rnd, {"min_grade_steps": "x"}, coord)


def test_round_filters_select_mentees(app):
    coord, prog, _, mentees = setup_programme()
    palu = f.person("Mentee Palu", grade=8, levels={"KOM": 1}, required={"KOM": 3},
                    loc=f.location("Palu", "Palu", "Asia/Makassar"))
    programmes.add_participants(prog, "mentee", Filters(city="Palu"), coord)
    rnd = rounds.create(prog, coord, name="R", filters={"city": "Palu"})
    assert rounds.selection(rnd)[0] == [palu.id]
    rounds.set_filters(rnd, {"grade_max": "8"}, coord)
    assert rounds.counts(rnd)["mentees"] == 4
