import re
from dataclasses import replace

import pytest
from solver_helpers import inst, mentee, mentor

from solver import Link, SolverConfig, Weights, Window, solve, validate

CFG = SolverConfig(time_limit=5)


def _solve(instance, cfg=CFG):
    sol = solve(instance, cfg)
    assert validate(instance, sol, cfg) == []
    return sol


def test_base_pair_matched_with_reason():
    sol = _solve(inst([mentor()], [mentee()]))
    assert [(p.mentee, p.mentor) for p in sol.pairs] == [("E1", "M1")]
    p = sol.pairs[0]
    # codes with parameters, no prose: the app words them
    assert p.reasons[:2] == [
        {"code": "gap", "competency": "Komunikasi", "from": 1, "to": 3},
        {"code": "gap", "competency": "Pengelolaan Anggaran", "from": 2, "to": 4}]
    (when,) = [r for r in p.reasons if r["code"] == "common_time"]
    assert when["weekday"] == "Mon" and when["tz"] == "WIB"
    assert re.fullmatch(r"(09|10|11):00", when["time"])
    assert p.slot.mentee_local.tz == "WIB" and p.slot.weekday_utc == "Mon"
    assert p.score == sum(p.breakdown.values())


CASES = {
    "grade": dict(m={"grade": 5}),
    "supervisor": dict(e={"supervisor_id": "M1"}),
    "no_repeat": dict(kw={"previous_pairs": (Link("E1", "M1"),)}),
    "forbids": dict(kw={"forbids": (Link("E1", "M1"),)}),
    "same_city_in_person": dict(m={"mode": "in_person", "city": "Padang"},
                                e={"mode": "in_person"}),
    "mode": dict(m={"mode": "online"}, e={"mode": "in_person"}),
}


@pytest.mark.parametrize("rule", sorted(CASES))
def test_each_hard_rule_blocks_and_can_be_switched_off(rule):
    c = CASES[rule]
    instance = inst([mentor(**c.get("m", {}))], [mentee(**c.get("e", {}))], **c.get("kw", {}))
    sol = _solve(instance)
    assert sol.pairs == []
    assert sol.unmatched[0].reason == "no_eligible_mentor"
    off = replace(CFG, rules={**CFG.rules, rule: False})
    assert len(_solve(instance, off).pairs) == 1


def test_no_common_time():
    instance = inst([mentor(availability=(Window(1, 9 * 60, 12 * 60),))], [mentee()])
    sol = _solve(instance)
    assert sol.pairs == [] and sol.unmatched[0].reason == "no_common_time"


def test_mentor_slot_is_not_shared():
    one_slot = (Window(0, 9 * 60, 10 * 60),)
    instance = inst([mentor(capacity=2, availability=one_slot)],
                    [mentee("E1"), mentee("E2")])
    sol = _solve(instance)
    # the mentor has room for two but only one block: the reason is time, not capacity
    assert len(sol.pairs) == 1 and sol.unmatched[0].reason == "no_common_time"
    assert sol.unmatched[0].params == {"eligible": 1, "with_room": 1, "day_limit": 0}
    off = replace(CFG, rules={**CFG.rules, "one_mentee_per_slot": False})
    both = _solve(instance, off)
    assert len(both.pairs) == 2
    assert {p.slot.minute_of_week for p in both.pairs} == {2 * 60}  # Mon 09:00 WIB, together


def test_capacity_alone_blocks_and_can_be_switched_off():
    two_blocks = (Window(0, 9 * 60, 11 * 60),)
    instance = inst([mentor(capacity=1, availability=two_blocks)],
                    [mentee("E1", availability=two_blocks), mentee("E2", availability=two_blocks)])
    sol = _solve(instance)
    assert len(sol.pairs) == 1 and sol.unmatched[0].reason == "capacity_taken"
    off = replace(CFG, rules={**CFG.rules, "capacity": False})
    assert len(_solve(instance, off).pairs) == 2


def test_common_slot_rule_and_switching_it_off():
    instance = inst([mentor(availability=(Window(1, 9 * 60, 12 * 60),))], [mentee()])
    assert _solve(instance).unmatched[0].reason == "no_common_time"
    off = replace(CFG, rules={**CFG.rules, "common_slot": False})
    p = _solve(instance, off).pairs[0]
    # availability ignored, working hours still apply (blocks from 07:30 and 13:00)
    assert p.slot.mentor_local.weekday in ("Mon", "Tue", "Wed", "Thu", "Fri")
    assert p.slot.mentor_local.time in ("07:30", "08:30", "09:30", "10:30", "13:00", "14:00",
                                        "15:00")


def test_locks_rule_switched_off_ignores_locks():
    weak = mentor("M2", levels={"Komunikasi": 2})
    instance = inst([mentor("M1"), weak], [mentee()], locks=(Link("E1", "M2"),))
    off = replace(CFG, rules={**CFG.rules, "locks": False})
    assert _solve(instance, off).pairs[0].mentor == "M1"


def test_wib_mentor_wita_mentee_slot_in_both_local_times():
    wib = mentor(tz="Asia/Jakarta", availability=(Window(0, 7 * 60 + 30, 8 * 60 + 30),))
    wita = mentee(tz="Asia/Makassar", availability=(Window(0, 8 * 60 + 30, 9 * 60 + 30),))
    p = _solve(inst([wib], [wita])).pairs[0]
    assert p.slot.minute_of_week == 30 and (p.slot.weekday_utc, p.slot.start_utc) == (
        "Mon", "00:30")
    assert (p.slot.mentor_local.time, p.slot.mentor_local.tz) == ("07:30", "WIB")
    assert (p.slot.mentee_local.time, p.slot.mentee_local.tz) == ("08:30", "WITA")
    assert {"code": "common_time", "weekday": "Mon", "time": "08:30", "tz": "WITA"} in p.reasons


def test_sessions_per_day_limit():
    instance = inst([mentor(capacity=2, max_sessions_per_day=1)], [mentee("E1"), mentee("E2")])
    assert len(_solve(instance).pairs) == 1
    off = replace(CFG, rules={**CFG.rules, "sessions_per_day": False})
    assert len(_solve(instance, off).pairs) == 2


def test_priority_mentee_first():
    weak_gap = {"Komunikasi": 2, "Pengelolaan Anggaran": 2}
    instance = inst([mentor()], [mentee("E1"), mentee("E2", required=weak_gap, priority=True)])
    assert [p.mentee for p in _solve(instance).pairs] == ["E2"]
    instance = inst([mentor()], [mentee("E1"), mentee("E2", required=weak_gap)])
    assert [p.mentee for p in _solve(instance).pairs] == ["E1"]


def _choice(mentors, e=None, cfg=CFG, **kw):
    return _solve(inst(mentors, [e or mentee()], **kw), cfg).pairs[0].mentor


def test_gap_coverage_changes_choice():
    low = mentor("M1", levels={"Komunikasi": 2, "Pengelolaan Anggaran": 2})
    high = mentor("M2", levels={"Komunikasi": 5, "Pengelolaan Anggaran": 5})
    assert _choice([low, high]) == "M2"
    # the competency weight decides between two partial mentors
    a = mentor("M1", levels={"Komunikasi": 3, "Pengelolaan Anggaran": 2})
    b = mentor("M2", levels={"Komunikasi": 1, "Pengelolaan Anggaran": 4})
    w = Weights(competency={"Komunikasi": 3.0})
    assert _choice([a, b]) == "M2"
    assert _choice([a, b], cfg=replace(CFG, weights=w)) == "M1"


def test_preference_changes_choice():
    weaker = mentor("M2", levels={"Komunikasi": 4, "Pengelolaan Anggaran": 3})
    assert _choice([mentor("M1"), weaker]) == "M1"
    assert _choice([mentor("M1"), weaker], mentee(preferences=("M2",))) == "M2"


def test_same_city_bonus_for_in_person():
    far = mentor("M1", city="Padang", unit="U2")  # other-unit bonus 2 < same-city bonus 5
    near = mentor("M2", city="Palu")
    assert _choice([far, near]) == "M2"
    p = _solve(inst([far, near], [mentee()])).pairs[0]
    assert p.mode == "in_person" and {"code": "same_city"} in p.reasons
    no_bonus = replace(CFG, weights=Weights(same_city=0))
    assert _choice([far, near], cfg=no_bonus) == "M1"


def test_unit_and_grade_distance_terms():
    same = mentor("M1", unit="U1")
    other = mentor("M2", unit="U2")
    assert _choice([same, other], cfg=replace(CFG, weights=Weights(other_unit=2))) == "M2"
    assert _choice([same, other],
                   cfg=replace(CFG, weights=Weights(other_unit=0, same_unit=2))) == "M1"
    near = mentor("M2", grade=7)
    far = mentor("M1", grade=15)
    assert _choice([far, near], cfg=replace(CFG, weights=Weights(grade_distance=-1))) == "M2"
    assert _choice([far, near], cfg=replace(CFG, weights=Weights(grade_distance=1))) == "M1"


def test_infeasible_lock_reported_by_name_and_rest_solved():
    instance = inst([mentor("M1", capacity=2), mentor("M2", grade=5)],
                    [mentee("E1"), mentee("E2")],
                    locks=(Link("E1", "M2"), Link("E2", "M9")))
    sol = _solve(instance)
    bad = {(x["mentee"], x["mentor"]): x for x in sol.infeasible_locks}
    assert set(bad) == {("E1", "M2"), ("E2", "M9")}
    assert bad[("E1", "M2")]["code"] == "rule" and bad[("E1", "M2")]["rules"] == ["grade"]
    assert bad[("E2", "M9")]["code"] == "unknown_mentor"
    assert {p.mentee for p in sol.pairs} == {"E1", "E2"}


def test_lock_forces_pair_and_fixed_keeps_slot():
    weak = mentor("M2", levels={"Komunikasi": 2})
    instance = inst([mentor("M1"), weak], [mentee()], locks=(Link("E1", "M2"),))
    p = _solve(instance).pairs[0]
    assert (p.mentor, p.locked) == ("M2", True)
    slot = 3 * 60  # Mon 03:00 UTC = 10:00 WIB
    instance = inst([mentor("M1"), weak], [mentee()], fixed=(Link("E1", "M2", slot),))
    p = _solve(instance).pairs[0]
    assert (p.mentor, p.fixed, p.slot.minute_of_week) == ("M2", True, slot)
    assert p.slot.mentor_local.time == "10:00"


def test_ungraded_external_mentor_is_outside_the_seniority_rule():
    """A university or company partner holds no golongan: grade None pairs with a mentee of
    any grade and earns no grade-distance term; the JSON form round-trips the None."""
    senior_mentee = mentee(grade=16)
    partner = mentor("EXT1", grade=None)
    sol = _solve(inst([partner], [senior_mentee]))
    assert [(p.mentee, p.mentor) for p in sol.pairs] == [("E1", "EXT1")]
    assert "grade_distance" not in sol.pairs[0].breakdown
    junior_civil = mentor("M2", grade=12)
    assert _solve(inst([junior_civil], [senior_mentee])).pairs == []
    from solver import Instance

    again = Instance.from_dict(inst([partner], [senior_mentee]).to_dict())
    assert again.mentors[0].grade is None
