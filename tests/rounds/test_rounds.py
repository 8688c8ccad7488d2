"""Service tests for programmes and matching rounds (issue 5): every rule, the solve job,
stale approval, concurrency, rematch, withdrawal, preferences."""

from __future__ import annotations

import email
import email.policy
import threading
import time
from datetime import date, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from mentormatch.extensions import db
from mentormatch.jobs import JOBS
from mentormatch.jobs.solves import run_solves
from mentormatch.models import (
    AuditLog,
    OutboxMessage,
    Pair,
    Participant,
    Round,
    RoundConstraint,
    SessionSeries,
    User,
)
from mentormatch.models.base import utcnow
from mentormatch.services import programmes, rounds, solver_bridge
from mentormatch.services.programmes import Filters
from mentormatch.settings import settings
from mentormatch.web.labels import pair_reason
from tests import factories as f
from tests.helpers import count_statements, set_settings

TUE = ((1, 9 * 60, 12 * 60),)  # Tuesday 09:00-12:00 local: three one-hour slots


def setup_programme(n_mentors=2, n_mentees=3, **kw):
    coord = f.user(("coordinator",))
    prog = programmes.create(coord, name="Mentoring 2026", start_date=date(2026, 1, 5),
                             end_date=date(2027, 6, 30), **kw)
    mentors = [f.person(f"Mentor {i}", grade=13, levels={"KOM": 4, "INT": 4}, windows=TUE)
               for i in range(n_mentors)]
    mentees = [f.person(f"Mentee {i}", grade=8, levels={"KOM": 1, "INT": 2},
                        required={"KOM": 3, "INT": 3}, windows=TUE) for i in range(n_mentees)]
    programmes.add_participants(prog, "mentor", Filters(grade_min=13, grade_max=13), coord)
    programmes.add_participants(prog, "mentee", Filters(grade_max=8), coord)
    db.session.commit()
    return coord, prog, mentors, mentees


def run_until_idle(timeout: float = 120) -> int:
    """Run the run_solves job until no round is queued or solving (bounded in time)."""
    deadline = time.monotonic() + timeout
    done = 0
    while time.monotonic() < deadline:
        done += run_solves(worker="test")
        db.session.rollback()
        busy = db.session.scalar(select(func.count(Round.id)).where(
            Round.status.in_(("queued", "solving"))))
        if not busy:
            return done
        time.sleep(0.05)
    raise AssertionError("solves did not finish in time")


def solve_now(rnd, coord):
    rounds.queue(rnd, coord)
    db.session.commit()
    run_until_idle()
    db.session.expire_all()
    rnd = db.session.get(Round, rnd.id)
    assert rnd.status == "solved", (rnd.status, rnd.error)
    return rnd


def _words(proposal, locale: str) -> str:
    """A proposal's reason as the review page words it in ``locale`` (stored as codes)."""
    with force_locale(locale):
        return pair_reason(proposal.reasons)


def live(prog=None):
    q = select(Pair).where(Pair.status.in_(("invited", "active")))
    if prog is not None:
        q = q.where(Pair.programme_id == prog.id)
    return list(db.session.scalars(q))


# --------------------------------------------------------------------------- programmes


def test_create_programme_makes_creator_coordinator(app):
    coord, prog, _, _ = setup_programme()
    assert [c.user_id for c in prog.coordinators] == [coord.id]
    assert prog.session_minutes == 60 and prog.default_capacity == 3
    assert programmes.for_user(coord) == [prog]
    other = f.user(("coordinator",))
    assert programmes.for_user(other) == []
    with pytest.raises(programmes.ProgrammeError) as exc:
        programmes.create(coord, name="x", start_date=date(2026, 2, 1),
                          end_date=date(2026, 1, 1))
    assert exc.value.code == "period"


def test_jp_rule_defaults_from_config_and_validated(app):
    coord, prog, _, _ = setup_programme()
    cfg = settings(app).jp
    assert prog.jp_rule == {"minutes_per_jp": cfg.minutes_per_jp, "rounding": cfg.rounding,
                            "max_minutes_per_session": cfg.max_minutes_per_session}
    programmes.update(prog, coord, jp_rule={"minutes_per_jp": 60, "rounding": "half",
                                            "max_minutes_per_session": 90})
    assert prog.jp_rule == {"minutes_per_jp": 60, "rounding": "half",
                            "max_minutes_per_session": 90}
    db.session.commit()
    for bad, code in (({"minutes_per_jp": 0, "rounding": "floor",
                        "max_minutes_per_session": 0}, "out_of_range"),
                      ({"minutes_per_jp": 45, "rounding": "up",
                        "max_minutes_per_session": 0}, "rounding"),
                      ({"minutes_per_jp": 45, "rounding": "floor",
                        "max_minutes_per_session": -5}, "out_of_range"),
                      ({"minutes_per_jp": None, "rounding": "floor",
                        "max_minutes_per_session": 0}, "out_of_range")):
        with pytest.raises(programmes.ProgrammeError) as exc:
            programmes.update(prog, coord, jp_rule=bad)
        assert exc.value.code == code
    db.session.rollback()
    assert db.session.get(type(prog), prog.id).jp_rule["minutes_per_jp"] == 60


def test_filters_count_and_add(app):
    coord, prog, mentors, mentees = setup_programme()
    assert len(programmes.participants(prog, "mentor")) == 2
    assert len(programmes.participants(prog, "mentee")) == 3
    assert programmes.count_candidates(prog, "mentee", Filters(grade_max=8)) == 0
    palu = f.location("Palu", "Palu", "Asia/Makassar")
    f.person("Other city", grade=8, levels={"KOM": 1}, required={"KOM": 3}, loc=palu,
             unit_name="Bappeda")
    assert programmes.count_candidates(prog, "mentee", Filters(city="Palu")) == 1
    assert programmes.count_candidates(prog, "mentee", Filters(gap_in="KOM")) == 1
    assert programmes.count_candidates(prog, "mentee", Filters(gap_in="PP")) == 0
    bappeda = f.unit("Bappeda")
    assert programmes.count_candidates(prog, "mentee", Filters(unit_id=bappeda.id)) == 1
    # the two mentors are not candidates as mentees: nobody takes both parts in one programme
    assert programmes.count_candidates(prog, "mentee", Filters(grade_min=9)) == 0
    f.person("Dr. Mitra", kind="external", nip=None, organisation="Universitas Andalas",
             grade=None)
    assert programmes.count_candidates(prog, "mentor", Filters(kind="external")) == 1
    assert programmes.count_candidates(prog, "mentor", Filters(kind="pppk")) == 0


def test_not_matched_filter_leaves_out_people_with_a_pair(app):
    coord, prog, mentors, mentees = setup_programme(n_mentees=2)
    rnd = solve_now(rounds.create(prog, coord, name="R"), coord)
    rounds.approve(rnd, coord, invite=False)
    other = programmes.create(coord, name="Other", start_date=date(2026, 1, 5),
                              end_date=date(2026, 12, 31))
    db.session.commit()
    # in the first programme both are matched; the filter is per programme
    assert programmes.count_candidates(other, "mentee",
                                       Filters(grade_max=8, not_matched=True)) == 2
    later = f.person("Late", grade=8, levels={"KOM": 1}, required={"KOM": 3})
    assert programmes.count_candidates(prog, "mentee", Filters(not_matched=True,
                                                              grade_max=8)) == 1
    r2 = rounds.create(prog, coord, name="R2", filters={"not_matched": "1"})
    programmes.add_participants(prog, "mentee", Filters(grade_max=8), coord)
    assert rounds.selection(r2)[0] == [later.id]
    assert rounds.counts(r2)["kept"] == 2


# --------------------------------------------------------------------------- solving


def test_round_solves_with_reasons_stats_and_mode(app):
    coord, prog, mentors, mentees = setup_programme()
    rnd = rounds.create(prog, coord, name="Round 1")
    assert rounds.counts(rnd) == {"mentees": 3, "mentors": 2, "capacity": 6, "kept": 0}
    rnd = solve_now(rnd, coord)
    assert len(rnd.proposals) == 3 and not rnd.unmatched
    p = rnd.proposals[0]
    assert "Komunikasi" in _words(p, "id") and "Communication" in _words(p, "en")
    assert p.weekday_utc == 1 and p.start_minute_utc in (120, 180, 240)  # Tue 09-12 WIB
    assert {x.mode for x in rnd.proposals} == {"in_person"}  # same city, mode "either"
    assert rnd.stats["status"] in ("OPTIMAL", "FEASIBLE") and rnd.stats["matched"] == 3
    assert rnd.stats["objective"] > 0 and "elapsed" in rnd.stats
    assert rnd.progress["phase"] == "done" and rnd.progress["matched"] == 3
    by_mentor: dict[int, list[int]] = {}
    for x in rnd.proposals:
        by_mentor.setdefault(x.mentor_id, []).append(x.start_minute_utc)
    assert all(len(v) == len(set(v)) for v in by_mentor.values())  # nobody double-booked


def test_online_policy_gives_online_pairs(app):
    coord, prog, _, _ = setup_programme(mode_policy="online")
    rnd = solve_now(rounds.create(prog, coord, name="R"), coord)
    assert {p.mode for p in rnd.proposals} == {"online"}
    pairs = rounds.approve(rnd, coord).created
    assert {p.mode for p in pairs} == {"online"}


def test_queue_twice_queues_once(app):
    coord, prog, _, _ = setup_programme()
    rnd = rounds.create(prog, coord, name="R")
    rounds.queue(rnd, coord)
    db.session.commit()
    with pytest.raises(rounds.RoundBusy):
        rounds.queue(rnd, coord)
    db.session.rollback()
    assert run_solves(worker="a") == 1
    assert run_solves(worker="b") == 0  # nothing queued any more
    assert db.session.scalar(select(func.count(AuditLog.id)).where(
        AuditLog.action == "round.solve")) == 1


def test_concurrent_queue_requests_queue_once(app):
    coord, prog, _, _ = setup_programme()
    rnd = rounds.create(prog, coord, name="R")
    db.session.commit()
    rid, uid = rnd.id, coord.id
    barrier = threading.Barrier(2)
    outcome: list[str] = []

    def click() -> None:
        with app.app_context():
            r = db.session.get(Round, rid)
            actor = db.session.get(User, uid)
            barrier.wait()
            try:
                rounds.queue(r, actor)
                db.session.commit()
                outcome.append("queued")
            except rounds.RoundBusy:
                db.session.rollback()
                outcome.append("busy")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcome) == ["busy", "queued"]


def test_two_workers_never_claim_the_same_round(app):
    coord, prog, _, _ = setup_programme()
    rnd = rounds.create(prog, coord, name="R")
    rounds.queue(rnd, coord)
    db.session.commit()
    first = rounds.claim_next("worker-a")
    assert first is not None and first[0] == rnd.id
    assert rounds.claim_next("worker-b") is None
    assert rounds.solve_claimed(*first) == "solved"


def test_crashed_worker_is_recovered_and_round_rerunnable(app):
    coord, prog, _, _ = setup_programme()
    rnd = solve_now(rounds.create(prog, coord, name="R"), coord)
    before = sorted((p.mentee_id, p.mentor_id) for p in rnd.proposals)
    rounds.queue(rnd, coord)
    db.session.commit()
    claimed = rounds.claim_next("worker-that-dies")  # ... and is killed before solving
    assert claimed is not None
    stalled = settings(app).rounds.stalled_after_seconds
    # a fresh heartbeat is left alone
    assert run_solves(utcnow(), worker="other") == 0
    db.session.expire_all()
    assert db.session.get(Round, rnd.id).status == "solving"
    # later the heartbeat is old: the job fails it, re-runnable, nothing half-written
    assert run_solves(utcnow() + timedelta(seconds=stalled + 5), worker="other") == 0
    db.session.expire_all()
    rnd = db.session.get(Round, rnd.id)
    assert rnd.status == "failed" and rnd.error == "worker_stopped"
    assert sorted((p.mentee_id, p.mentor_id) for p in rnd.proposals) == before
    # the dead worker, should it come back, cannot write over the recovered round
    assert rounds.solve_claimed(*claimed) == "abandoned" or \
        db.session.get(Round, rnd.id).status == "failed"
    assert solve_now(rnd, coord).status == "solved"


def test_solver_crash_marks_failed_and_rerunnable(app, monkeypatch):
    coord, prog, _, _ = setup_programme()
    rnd = solve_now(rounds.create(prog, coord, name="R"), coord)
    before = [(p.mentee_id, p.mentor_id) for p in rnd.proposals]
    rounds.queue(rnd, coord)
    db.session.commit()

    def boom(*a, **k):
        raise RuntimeError("solver exploded")

    monkeypatch.setattr(rounds.solver, "solve", boom)
    assert run_until_idle() == 1
    db.session.expire_all()
    rnd = db.session.get(Round, rnd.id)
    assert rnd.status == "failed" and rnd.error == "solver_error"
    assert [(p.mentee_id, p.mentor_id) for p in rnd.proposals] == before  # not half-written
    detail = db.session.scalars(select(AuditLog).where(AuditLog.action == "round.failed")).one()
    assert "solver exploded" in detail.details["detail"]
    monkeypatch.undo()
    assert solve_now(rnd, coord).status == "solved"


def test_progress_is_written_while_the_solver_runs(app, monkeypatch):
    set_settings(app, rounds={"progress_write_seconds": 0.0})
    coord, prog, _, _ = setup_programme(n_mentors=3, n_mentees=6)
    rnd = rounds.create(prog, coord, name="R")
    rounds.queue(rnd, coord)
    db.session.commit()
    real = rounds.solver.solve
    seen: list[tuple[dict, object]] = []

    def spy(instance, config, **kw):
        progress = kw.pop("progress")

        def observe(info):
            progress(info)
            with db.engine.connect() as conn:  # what another request would read now
                seen.append(conn.execute(select(Round.progress, Round.heartbeat_at).where(
                    Round.id == rnd.id)).one())
        return real(instance, config, progress=observe, **kw)

    monkeypatch.setattr(rounds.solver, "solve", spy)
    assert run_until_idle() == 1
    assert seen, "the solver reported no progress"
    phases = {p["phase"] for p, _hb in seen}
    assert phases - {"queued", "building"}
    assert all("elapsed" in p for p, _hb in seen)
    assert any(p.get("matched") is not None for p, _hb in seen)
    assert all(hb is not None for _p, hb in seen)
    db.session.expire_all()
    assert db.session.get(Round, rnd.id).progress["phase"] == "done"


def test_progress_writer_throttles_and_stops_when_claim_is_lost(app):
    coord, prog, _, _ = setup_programme()
    rnd = rounds.create(prog, coord, name="R")
    rounds.queue(rnd, coord)
    db.session.commit()
    rid, token = rounds.claim_next("w")
    writer = rounds.ProgressWriter(db.engine, rid, token, every=3600)
    writer({"phase": "flow", "matched": 2, "objective": 10})
    writer({"phase": "slots", "matched": 3})  # within the interval: kept, not written
    assert writer.writes == 1
    db.session.expire_all()
    assert db.session.get(Round, rid).progress["phase"] == "flow"
    assert writer.flush() is True
    db.session.expire_all()
    progress = db.session.get(Round, rid).progress
    assert progress["phase"] == "slots" and progress["matched"] == 3
    assert progress["objective"] == 10 and "elapsed" in progress
    other = rounds.ProgressWriter(db.engine, rid, "someone-else", every=0)
    assert other.flush() is False  # not our claim: nothing written


def test_unmatched_with_reason(app):
    coord, prog, _, _ = setup_programme(n_mentors=1, n_mentees=3, default_capacity=1)
    rnd = solve_now(rounds.create(prog, coord, name="R"), coord)
    assert len(rnd.proposals) == 1
    assert {u.reason for u in rnd.unmatched} == {"capacity_taken"}
    assert len(rnd.unmatched) == 2


def test_nothing_to_match(app):
    coord, prog, _, _ = setup_programme(n_mentors=0, n_mentees=2)
    rnd = solve_now(rounds.create(prog, coord, name="R"), coord)
    assert not rnd.proposals and {u.reason for u in rnd.unmatched} == {"no_eligible_mentor"}


# --------------------------------------------------------------------------- hard rules


def _rule_case(rule: str):
    """One mentor, one mentee; the mentor is eligible only when `rule` is off."""
    coord = f.user(("coordinator",))
    policy = "in_person" if rule == "in_person_same_city" else "either"
    prog = programmes.create(coord, name="P", start_date=date(2026, 1, 5),
                             end_date=date(2027, 6, 30), mode_policy=policy)
    mentor = f.person("Mentor", grade=13, levels={"KOM": 4}, windows=TUE)
    palu = f.location("Palu", "Palu", "Asia/Makassar")
    mentee = f.person("Mentee", grade=8 if rule != "min_grade_steps" else 12,
                      levels={"KOM": 1}, required={"KOM": 3},
                      windows=((1, 10 * 60, 13 * 60),) if rule == "in_person_same_city"
                      else TUE, loc=palu if rule == "in_person_same_city" else None)
    if rule == "no_direct_supervisor":
        mentee.supervisor_id = mentor.id
    if rule == "no_repeat_pairs":
        earlier = programmes.create(coord, name="2025", start_date=date(2025, 1, 6),
                                    end_date=date(2025, 6, 30))
        db.session.add(Pair(programme_id=earlier.id, mentor_id=mentor.id, mentee_id=mentee.id,
                            status="completed"))
    for role, person in (("mentor", mentor), ("mentee", mentee)):
        db.session.add(Participant(programme_id=prog.id, person_id=person.id, role=role))
    db.session.commit()
    return coord, prog, mentor, mentee


@pytest.mark.parametrize("rule", ["min_grade_steps", "no_direct_supervisor", "no_repeat_pairs",
                                  "in_person_same_city"])
def test_each_hard_rule_can_be_switched(app, rule):
    coord, prog, mentor, mentee = _rule_case(rule)
    on = rounds.create(prog, coord, name="on")
    if rule == "min_grade_steps":
        rounds.set_criteria(on, {"min_grade_steps": "2", "no_direct_supervisor": "1",
                                 "no_repeat_pairs": "1", "in_person_same_city": "1"}, coord)
    db.session.commit()
    on = solve_now(on, coord)
    assert not on.proposals and [u.reason for u in on.unmatched] == ["no_eligible_mentor"]
    off = rounds.create(prog, coord, name="off")
    values = {"min_grade_steps": "1", "no_direct_supervisor": "1", "no_repeat_pairs": "1",
              "in_person_same_city": "1"}
    if rule == "min_grade_steps":
        values["min_grade_steps"] = "0"
    else:
        del values[rule]
    rounds.set_criteria(off, values, coord)
    db.session.commit()
    off = solve_now(off, coord)
    assert [(p.mentee_id, p.mentor_id) for p in off.proposals] == [(mentee.id, mentor.id)]
    if rule == "in_person_same_city":
        assert off.proposals[0].mode == "in_person"


def test_criteria_default_from_config_and_editable(app):
    coord, prog, _, _ = setup_programme()
    rnd = rounds.create(prog, coord, name="R")
    cfg = settings(app).solver
    assert rnd.criteria["min_grade_steps"] == cfg.min_grade_steps
    assert rnd.criteria["weights"]["gap_coverage"] == cfg.weights.gap_coverage
    rounds.set_criteria(rnd, {"min_grade_steps": "6", "w_gap_coverage": "20",
                              "no_direct_supervisor": "1"}, coord)
    assert rnd.criteria["min_grade_steps"] == 6
    assert rnd.criteria["weights"]["gap_coverage"] == 20
    assert rnd.criteria["no_direct_supervisor"] and not rnd.criteria["no_repeat_pairs"]
    db.session.commit()
    rnd = solve_now(rnd, coord)  # grade 13 vs 8 is only 5 steps: nobody is eligible
    assert not rnd.proposals and {u.reason for u in rnd.unmatched} == {"no_eligible_mentor"}
    with pytest.raises(rounds.RoundError) as exc:
        rounds.set_criteria(rnd, {"min_grade_steps": "x"}, coord)
    assert exc.value.code == "criteria_numbers"


def test_round_filters_select_mentees(app):
    coord, prog, _, mentees = setup_programme()
    palu = f.person("Mentee Palu", grade=8, levels={"KOM": 1}, required={"KOM": 3},
                    loc=f.location("Palu", "Palu", "Asia/Makassar"), unit_name="Bappeda")
    no_gap = f.person("No gap", grade=8, levels={"KOM": 3}, required={"KOM": 3})
    programmes.add_participants(prog, "mentee", Filters(grade_max=8), coord)
    rnd = rounds.create(prog, coord, name="R", filters={"city": "Palu"})
    assert rounds.selection(rnd)[0] == [palu.id]
    rounds.set_filters(rnd, {"grade_max": "8"}, coord)
    assert rounds.counts(rnd)["mentees"] == 5
    rounds.set_filters(rnd, {"gap_in": "KOM"}, coord)
    assert no_gap.id not in rounds.selection(rnd)[0] and rounds.counts(rnd)["mentees"] == 4
    rounds.set_filters(rnd, {"unit_id": str(f.unit("Bappeda").id)}, coord)
    assert rounds.selection(rnd)[0] == [palu.id]
    db.session.commit()
    rnd = solve_now(rnd, coord)
    assert [p.mentee_id for p in rnd.proposals] == [palu.id]


# --------------------------------------------------------------------------- adjusting


def test_lock_and_forbid_are_kept_on_resolve(app):
    coord, prog, mentors, mentees = setup_programme()
    rnd = solve_now(rounds.create(prog, coord, name="R"), coord)
    first = (rnd.proposals[0].mentee_id, rnd.proposals[0].mentor_id)
    other = next(m.id for m in mentors if m.id != first[1])
    second = (rnd.proposals[1].mentee_id, rnd.proposals[1].mentor_id)
    rounds.lock(rnd, *second, coord)
    db.session.commit()
    assert rnd.status == "solved"  # a lock of a proposed pair is already reflected
    rounds.forbid(rnd, *first, coord)
    db.session.commit()
    assert rnd.status == "stale"
    rnd = solve_now(rnd, coord)
    got = {p.mentee_id: p.mentor_id for p in rnd.proposals}
    assert got[first[0]] == other
    assert got[second[0]] == second[1]
    actions = set(db.session.scalars(select(AuditLog.action)))
    assert {"round.create", "round.solve", "round.lock", "round.forbid", "round.solved"} <= actions


def test_lock_does_not_silently_replace_a_forbid(app):
    coord, prog, mentors, mentees = setup_programme()
    rnd = rounds.create(prog, coord, name="R")
    rounds.forbid(rnd, mentees[0].id, mentors[0].id, coord)
    for call in (lambda: rounds.lock(rnd, mentees[0].id, mentors[0].id, coord),
                 lambda: rounds.set_by_hand(rnd, mentees[0].id, mentors[0].id, coord, "x")):
        with pytest.raises(rounds.RoundError) as exc:
            call()
        assert exc.value.code == "forbidden"
    assert [c.kind for c in rnd.constraints] == ["forbid"]


def test_set_by_hand_needs_override_reason(app):
    coord, prog, mentors, mentees = setup_programme()
    low = f.person("Junior mentor", grade=8, levels={"KOM": 4}, windows=TUE)
    programmes.add_participants(prog, "mentor", Filters(grade_min=8, grade_max=8), coord)
    rnd = rounds.create(prog, coord, name="R")
    with pytest.raises(rounds.NeedsOverride) as exc:
        rounds.set_by_hand(rnd, mentees[0].id, low.id, coord)
    assert exc.value.violations == ["grade"]
    row, violations = rounds.set_by_hand(rnd, mentees[0].id, low.id, coord,
                                         override_reason="Subject expert")
    assert row.override_reason == "Subject expert" and violations == ["grade"]
    db.session.commit()
    rnd = solve_now(rnd, coord)
    manual = [p for p in rnd.proposals if p.mentee_id == mentees[0].id]
    assert manual and manual[0].mentor_id == low.id and manual[0].manual
    assert "Subject expert" in _words(manual[0], "id") and manual[0].mode
    assert _words(manual[0], "en").startswith("set by hand (Subject expert); ")
    # a supervisor is not overridable under the default policy
    boss = mentors[0]
    mentees[1].supervisor_id = boss.id
    db.session.flush()
    with pytest.raises(rounds.RoundError) as exc2:
        rounds.set_by_hand(rnd, mentees[1].id, boss.id, coord, override_reason="x")
    assert exc2.value.code == "policy"


def test_override_policy_is_configurable(app):
    coord, prog, mentors, mentees = setup_programme()
    boss = mentors[0]
    mentees[1].supervisor_id = boss.id
    rnd = rounds.create(prog, coord, name="R")
    db.session.commit()
    programmes.update(prog, coord, override_policy={"overridable": ["supervisor"],
                                                    "capacity_override": False})
    row, violations = rounds.set_by_hand(rnd, mentees[1].id, boss.id, coord, "Only expert")
    assert violations == ["supervisor"]
    db.session.rollback()
    set_settings(app, rounds={"overridable_rules": []})
    low = f.person("Junior mentor", grade=8, levels={"KOM": 4}, windows=TUE)
    programmes.add_participants(prog, "mentor", Filters(grade_min=8, grade_max=8), coord)
    prog2 = programmes.create(coord, name="Strict", start_date=date(2026, 1, 5),
                              end_date=date(2026, 12, 31))
    for role, person in (("mentor", low), ("mentee", mentees[0])):
        db.session.add(Participant(programme_id=prog2.id, person_id=person.id, role=role))
    r2 = rounds.create(prog2, coord, name="R")
    with pytest.raises(rounds.RoundError) as exc:
        rounds.set_by_hand(r2, mentees[0].id, low.id, coord, "reason")
    assert exc.value.code == "policy"


def test_hand_set_pairs_get_free_slots_and_respect_capacity(app):
    coord, prog, mentors, mentees = setup_programme(n_mentors=0, n_mentees=3)
    low = f.person("Junior mentor", grade=8, levels={"KOM": 4, "INT": 4}, windows=TUE)
    programmes.add_participants(prog, "mentor", Filters(grade_min=8, grade_max=8), coord)
    part = db.session.scalars(select(Participant).where(Participant.person_id == low.id,
                                                        Participant.role == "mentor")).one()
    part.capacity = 2
    rnd = rounds.create(prog, coord, name="R")
    for m in mentees[:2]:
        rounds.set_by_hand(rnd, m.id, low.id, coord, override_reason="expert")
    with pytest.raises(rounds.RoundError) as exc:
        rounds.set_by_hand(rnd, mentees[2].id, low.id, coord, override_reason="expert")
    assert exc.value.code == "capacity_full"
    db.session.commit()
    rnd = solve_now(rnd, coord)
    slots = [(p.weekday_utc, p.start_minute_utc) for p in rnd.proposals]
    assert len(slots) == 2 and len(set(slots)) == 2  # not double-booked
    assert all(p.manual for p in rnd.proposals)
    # with the policy allowing it, a full mentor takes one more with a reason
    programmes.update(prog, coord, override_policy={"overridable": ["grade"],
                                                    "capacity_override": True})
    with pytest.raises(rounds.NeedsOverride):
        rounds.set_by_hand(rnd, mentees[2].id, low.id, coord)
    _row, why = rounds.set_by_hand(rnd, mentees[2].id, low.id, coord, "needed")
    assert why == ["grade", "capacity"]
    db.session.commit()
    rnd = solve_now(rnd, coord)
    slots = [(p.weekday_utc, p.start_minute_utc) for p in rnd.proposals]
    assert len(slots) == 3 and len(set(slots)) == 3


def test_hand_set_refused_when_no_free_slot(app):
    one = ((1, 9 * 60, 10 * 60),)  # a single one-hour slot
    coord = f.user(("coordinator",))
    prog = programmes.create(coord, name="P", start_date=date(2026, 1, 5),
                             end_date=date(2027, 6, 30))
    mentor = f.person("Mentor", grade=13, levels={"KOM": 4}, windows=one)
    a = f.person("A", grade=8, levels={"KOM": 1}, required={"KOM": 3}, windows=one)
    b = f.person("B", grade=8, levels={"KOM": 1}, required={"KOM": 3}, windows=one)
    for role, person in (("mentor", mentor), ("mentee", a), ("mentee", b)):
        db.session.add(Participant(programme_id=prog.id, person_id=person.id, role=role))
    db.session.commit()
    rnd = solve_now(rounds.create(prog, coord, name="R"), coord)
    rounds.approve(rnd, coord)
    db.session.commit()
    paired = live(prog)[0].mentee_id
    other = b.id if paired == a.id else a.id
    r2 = rounds.create(prog, coord, name="R2")
    with pytest.raises(rounds.RoundError) as exc:
        rounds.set_by_hand(r2, other, mentor.id, coord, "x")
    assert exc.value.code == "no_free_slot"


# --------------------------------------------------------------------------- approval


def test_approve_is_idempotent_and_publishes_series(app):
    coord, prog, _, _ = setup_programme()
    rnd = solve_now(rounds.create(prog, coord, name="R"), coord)
    result = rounds.approve(rnd, coord)
    db.session.commit()
    assert len(result.created) == 3 and rnd.status == "approved"
    assert rounds.approve(rnd, coord).already
    db.session.commit()
    assert db.session.query(Pair).count() == 3
    assert db.session.query(SessionSeries).count() == 3
    pair = result.created[0]
    assert pair.weekly_slot_utc is not None and pair.mode == "in_person"
    assert pair.focus and pair.focus[0] in ("KOM", "INT")
    with pytest.raises(rounds.RoundError):
        rounds.lock(rnd, pair.mentee_id, pair.mentor_id, coord)


def test_stale_round_cannot_be_approved(app):
    coord, prog, mentors, mentees = setup_programme()
    rnd = solve_now(rounds.create(prog, coord, name="R"), coord)
    banned = (rnd.proposals[0].mentee_id, rnd.proposals[0].mentor_id)
    rounds.forbid(rnd, *banned, coord)
    db.session.commit()
    with pytest.raises(rounds.RoundError) as exc:
        rounds.approve(rnd, coord)
    assert exc.value.code == "stale"
    db.session.rollback()
    assert db.session.query(Pair).count() == 0
    rnd = solve_now(rnd, coord)
    created = rounds.approve(rnd, coord).created
    assert len(created) == 3
    assert banned not in {(x.mentee_id, x.mentor_id) for x in created}


@pytest.mark.parametrize("change", ["criteria", "filters", "participants", "clear",
                                    "preferences", "programme"])
def test_any_change_after_solving_makes_the_round_stale(app, change):
    coord, prog, mentors, mentees = setup_programme(preferences_enabled=True)
    rnd = rounds.create(prog, coord, name="R")
    rounds.lock(rnd, mentees[0].id, mentors[0].id, coord)
    db.session.commit()
    rnd = solve_now(rnd, coord)
    if change == "criteria":
        rounds.set_criteria(rnd, {"min_grade_steps": "2"}, coord)
    elif change == "filters":
        rounds.set_filters(rnd, {"gap_in": "KOM"}, coord)
    elif change == "participants":
        f.person("Late", grade=8, levels={"KOM": 1}, required={"KOM": 3})
        programmes.add_participants(prog, "mentee", Filters(grade_max=8), coord)
    elif change == "clear":
        rounds.clear(rnd, rnd.constraints[0].id, coord)
    elif change == "preferences":
        programmes.set_preferences(prog, mentees[1].id, [mentors[1].id], coord)
    else:
        programmes.update(prog, coord, default_capacity=1)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Round, rnd.id).status == "stale"


def test_approve_checks_forbids_at_approval_time(app):
    coord, prog, _, _ = setup_programme()
    rnd = solve_now(rounds.create(prog, coord, name="R"), coord)
    p = rnd.proposals[0]
    # a forbid written behind the service's back (e.g. by a racing request)
    db.session.add(RoundConstraint(round_id=rnd.id, mentee_id=p.mentee_id,
                                   mentor_id=p.mentor_id, kind="forbid"))
    db.session.commit()
    db.session.expire_all()
    rnd = db.session.get(Round, rnd.id)
    with pytest.raises(rounds.RoundError) as exc:
        rounds.approve(rnd, coord)
    assert exc.value.code == "forbidden_proposal"
    db.session.rollback()
    assert db.session.query(Pair).count() == 0
    assert db.session.get(Round, rnd.id).status == "solved"


def test_concurrent_approve_creates_pairs_once(app):
    coord, prog, _, _ = setup_programme()
    rnd = solve_now(rounds.create(prog, coord, name="R"), coord)
    rid, uid = rnd.id, coord.id
    barrier = threading.Barrier(2)
    results: list[object] = []

    def click() -> None:
        with app.app_context():
            try:
                r = db.session.get(Round, rid)
                actor = db.session.get(User, uid)
                _ = r.proposals, r.constraints, r.programme
                barrier.wait()
                results.append(len(rounds.approve(r, actor).created))
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - the loser may hit the unique index
                db.session.rollback()
                results.append(type(exc).__name__)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    db.session.expire_all()
    assert 3 in results and results.count(3) == 1, results
    assert db.session.query(Pair).count() == 3
    assert db.session.query(SessionSeries).count() == 3


def test_capacity_holds_across_rounds(app):
    coord, prog, mentors, mentees = setup_programme(n_mentors=1, n_mentees=2,
                                                    default_capacity=2)
    rnd = solve_now(rounds.create(prog, coord, name="R"), coord)
    rounds.approve(rnd, coord)
    db.session.commit()
    for i in range(2):
        f.person(f"Late mentee {i}", grade=8, levels={"KOM": 1}, required={"KOM": 3},
                 windows=TUE)
    programmes.add_participants(prog, "mentee", Filters(grade_max=8), coord)
    db.session.commit()
    r2 = rounds.create(prog, coord, name="R2")
    assert rounds.counts(r2)["capacity"] == 0 and rounds.counts(r2)["mentees"] == 2
    r2 = solve_now(r2, coord)
    assert not r2.proposals and {u.reason for u in r2.unmatched} == {"capacity_taken"}
    assert r2.stats["kept"] == 2
    assert len(live(prog)) == 2


def test_kept_pairs_are_fixed_with_their_slot(app):
    coord, prog, mentors, mentees = setup_programme(n_mentors=1, n_mentees=1,
                                                    default_capacity=3)
    rnd = solve_now(rounds.create(prog, coord, name="R"), coord)
    first = rounds.approve(rnd, coord).created[0]
    db.session.commit()
    series = db.session.scalars(select(SessionSeries)).one()
    slot = solver_bridge.minute_of_week(series.first_start)
    for i in range(2):
        f.person(f"New {i}", grade=8, levels={"KOM": 1}, required={"KOM": 3}, windows=TUE)
    programmes.add_participants(prog, "mentee", Filters(grade_max=8), coord)
    db.session.commit()
    r2 = rounds.create(prog, coord, name="R2")
    db.session.commit()
    mentee_ids, mentor_ids = rounds.selection(r2)
    built = solver_bridge.build(r2, mentee_ids, mentor_ids)
    assert [(x.mentee, x.mentor, x.slot) for x in built.instance.fixed] == [
        (str(first.mentee_id), str(first.mentor_id), slot)]
    db.session.rollback()
    r2 = solve_now(r2, coord)
    new = [p.weekday_utc * 1440 + p.start_minute_utc for p in r2.proposals]
    assert len(new) == 2 and slot not in new and len(set(new)) == 2
    assert first.mentee_id not in {p.mentee_id for p in r2.proposals}


def test_a_kept_pair_between_the_mentors_session_blocks_does_not_fail_the_solve(app):
    """A live pair's time stays its own when the mentor's free time has changed around it:
    the mentor, once free Tuesday 09:30-10:30, is now free 09:00-12:00, whose session blocks
    are 09:00, 10:00, 11:00. The rematch solves, keeps the pair's 09:30-10:30 free and its
    place, and puts a new mentee at 10:30, right after it (09:00 and 10:00 would overlap)."""
    from mentormatch.services import profile

    coord, prog, mentors, mentees = setup_programme(n_mentors=0, n_mentees=1,
                                                    default_capacity=2)
    mentor = f.person("Mentor", grade=13, levels={"KOM": 4, "INT": 4},
                      windows=((1, 9 * 60 + 30, 10 * 60 + 30),))
    programmes.add_participants(prog, "mentor", Filters(grade_min=13), coord)
    rnd = solve_now(rounds.create(prog, coord, name="R"), coord)
    assert [(p.weekday_utc, p.start_minute_utc) for p in rnd.proposals] == [(1, 150)]
    rounds.approve(rnd, coord)
    db.session.commit()
    profile.update_own(mentor, None, availability="Sel 09:00-12:00", mode="either",
                       levels={}, targets={})
    f.person("New", grade=8, levels={"KOM": 1}, required={"KOM": 3}, windows=TUE)
    programmes.add_participants(prog, "mentee", Filters(grade_max=8), coord)
    db.session.commit()
    r2 = solve_now(rounds.create(prog, coord, name="R2", kind="rematch"), coord)
    assert [(p.weekday_utc, p.start_minute_utc) for p in r2.proposals] == [(1, 210)]


def test_series_stop_at_the_programme_end(app):
    coord, prog, _, _ = setup_programme(n_mentees=1)
    programmes.update(prog, coord, end_date=date(2026, 2, 10))
    rnd = solve_now(rounds.create(prog, coord, name="R"), coord)
    result = rounds.approve(rnd, coord, today=utcnow().replace(year=2026, month=1, day=5))
    db.session.commit()
    series = db.session.scalars(select(SessionSeries)).one()
    # Tuesdays from 6 Jan 2026 every 2 weeks: 6 Jan, 20 Jan, 3 Feb fit before 10 Feb
    assert series.count == 3 and len(series.sessions) == 3
    assert result.short == [(result.created[0], 3)]
    assert all(s.start_at.date() <= date(2026, 2, 10) for s in series.sessions)


def test_approval_refused_when_the_programme_is_over(app):
    coord, prog, _, _ = setup_programme(n_mentees=1)
    programmes.update(prog, coord, end_date=date(2026, 1, 6))
    rnd = solve_now(rounds.create(prog, coord, name="R"), coord)
    with pytest.raises(rounds.RoundError) as exc:
        rounds.approve(rnd, coord, today=utcnow().replace(year=2026, month=1, day=20))
    assert exc.value.code == "programme_over"


# --------------------------------------------------------------------------- rematch


def text_of(row: OutboxMessage) -> str:
    msg = email.message_from_bytes(row.raw, policy=email.policy.default)
    return msg.get_body(("plain",)).get_content()


def _outbox(kind: str) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)))


def test_rematch_keeps_pairs_fills_gaps_and_tells_people(app):
    coord, prog, mentors, mentees = setup_programme(n_mentors=1, n_mentees=3,
                                                    default_capacity=2)
    rnd = solve_now(rounds.create(prog, coord, name="R"), coord)
    pairs = rounds.approve(rnd, coord, invite=False).created
    db.session.commit()
    assert len(pairs) == 2
    pairs[0].status = "declined"  # a mentor declined: a gap opens
    pairs[1].status = "active"  # accepted: stays
    extra = f.person("Mentor late", grade=13, levels={"KOM": 4}, windows=TUE)
    programmes.add_participants(prog, "mentor", Filters(grade_min=13), coord)
    db.session.commit()
    re = solve_now(rounds.create(prog, coord, name="Rematch", kind="rematch"), coord)
    got = {p.mentee_id: p.mentor_id for p in re.proposals}
    assert pairs[1].mentee_id not in got  # kept fixed, not re-proposed
    assert pairs[0].mentee_id in got
    assert got[pairs[0].mentee_id] == extra.id  # no repeat; the old mentor is full anyway
    result = rounds.approve(re, coord, invite=False)
    db.session.commit()
    assert len(live(prog)) == 3 and result.notified == 4
    to_mentee = [m for m in _outbox("rematch_mentee")
                 if m.recipient == pairs[0].mentee.email]
    assert len(to_mentee) == 1 and prog.name in to_mentee[0].subject
    assert to_mentee[0].subject.startswith("Mentor baru")  # Indonesian by default
    body = text_of(to_mentee[0])
    assert "Mentor late" in body and mentors[0].name in body  # new and previous mentor
    assert sorted(m.recipient for m in _outbox("rematch_mentor")) == sorted(
        p.mentor.email for p in result.created)
    assert extra.email in {m.recipient for m in _outbox("rematch_mentor")}
    assert re.stats["published"]["notified"] == 4


def test_mentor_withdrawal_ends_pairs_and_tells_people(app):
    coord, prog, mentors, mentees = setup_programme(n_mentors=1, n_mentees=2)
    rnd = solve_now(rounds.create(prog, coord, name="R"), coord)
    pairs = rounds.approve(rnd, coord).created
    db.session.commit()
    pairs[0].status = "active"
    other = solve_now(rounds.create(prog, coord, name="draft"), coord)
    assert other.status == "solved"
    db.session.commit()
    ended = programmes.withdraw_mentor(prog, mentors[0].id, coord, "moved to another agency")
    db.session.commit()
    assert {p.id for p in ended} == {p.id for p in pairs}
    assert all(p.status == "ended" for p in pairs) and not live(prog)
    assert {s.status for s in db.session.scalars(select(SessionSeries))} == {"cancelled"}
    assert {m.recipient for m in _outbox("mentor_withdrawn")} == {m.email for m in mentees}
    assert [m.recipient for m in _outbox("withdrawal_confirmed")] == [mentors[0].email]
    assert _outbox("itip_cancel")
    db.session.expire_all()
    assert db.session.get(Round, other.id).status == "stale"
    # the mentees are rematchable now; the withdrawn mentor is not offered again
    re = rounds.create(prog, coord, name="Rematch", kind="rematch")
    mentee_ids, mentor_ids = rounds.selection(re)
    assert mentee_ids == sorted(m.id for m in mentees) and mentors[0].id not in mentor_ids
    with pytest.raises(programmes.ProgrammeError):
        programmes.withdraw_mentor(prog, mentors[0].id, coord)


# --------------------------------------------------------------------------- preferences


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
    assert "pilihan ke-1" in _words(rnd.proposals[0], "id")
    with pytest.raises(programmes.ProgrammeError):
        programmes.set_preferences(prog, mentees[0].id, [mentees[0].id], coord)


def test_suggestions_are_eligible_with_room_best_first(app):
    coord, prog, mentors, mentees = setup_programme(n_mentors=2, n_mentees=2,
                                                    preferences_enabled=True,
                                                    default_capacity=1)
    # closer in grade than the others (the grade-distance weight is negative)
    best = f.person("Best mentor", grade=10, levels={"KOM": 5, "INT": 5}, windows=TUE)
    f.person("Too junior", grade=8, levels={"KOM": 5, "INT": 5}, windows=TUE)
    f.person("Never free", grade=13, levels={"KOM": 5}, windows=((5, 9 * 60, 12 * 60),))
    programmes.add_participants(prog, "mentor", Filters(grade_min=8), coord)
    db.session.commit()
    got = [s["person"].name for s in solver_bridge.suggestions(prog, mentees[0].id)]
    assert got[0] == "Best mentor" and set(got) == {"Best mentor", "Mentor 0", "Mentor 1"}
    # a mentor whose place is taken is no longer offered
    db.session.add(Pair(programme_id=prog.id, mentor_id=best.id, mentee_id=mentees[1].id,
                        status="active"))
    db.session.commit()
    got = [s["person"].name for s in solver_bridge.suggestions(prog, mentees[0].id)]
    assert "Best mentor" not in got
    with pytest.raises(programmes.ProgrammeError) as exc:
        programmes.set_preferences(prog, mentees[0].id, [best.id], coord,
                                   allowed={mentors[0].id, mentors[1].id})
    assert exc.value.code == "preferences_choice"


def test_preference_invitation_needs_an_open_round(app):
    coord, prog, mentors, mentees = setup_programme(preferences_enabled=True)
    assert programmes.preference_invitations(mentees[0].id) == []
    rnd = rounds.create(prog, coord, name="R")
    db.session.commit()
    assert programmes.preference_invitations(mentees[0].id) == [prog]
    rnd = solve_now(rnd, coord)
    rounds.approve(rnd, coord, invite=False)
    db.session.commit()
    assert programmes.preference_invitations(mentees[0].id) == []  # matched, round closed


# --------------------------------------------------------------------------- queries


def test_building_the_instance_does_not_query_per_person(app):
    coord, prog, _, _ = setup_programme(n_mentors=2, n_mentees=4)
    rnd = rounds.create(prog, coord, name="R")
    db.session.commit()

    def build():
        db.session.expire_all()
        r = db.session.get(Round, rnd.id)
        solver_bridge.build(r, *rounds.selection(r))

    small = count_statements(build)
    for i in range(30):
        f.person(f"More {i}", grade=8, levels={"KOM": 1}, required={"KOM": 3}, windows=TUE)
    for i in range(10):
        f.person(f"Mentor more {i}", grade=14, levels={"KOM": 4}, windows=TUE)
    programmes.add_participants(prog, "mentee", Filters(grade_max=8), coord)
    programmes.add_participants(prog, "mentor", Filters(grade_min=13), coord)
    db.session.commit()
    assert count_statements(build) == small


def test_job_is_declared():
    assert "run_solves" in {j.id for j in JOBS}


def test_the_scheduler_runs_the_solve_job(app):
    from mentormatch.jobs import JOBS
    from mentormatch.jobs.runner import run_job

    coord, prog, _, _ = setup_programme()
    rnd = rounds.create(prog, coord, name="R")
    rounds.queue(rnd, coord)
    db.session.commit()
    job = next(j for j in JOBS if j.id == "run_solves")
    assert run_job(app, job, "scheduler-test") == 1
    db.session.expire_all()
    assert db.session.get(Round, rnd.id).status == "solved"
