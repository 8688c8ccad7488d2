from dataclasses import replace

import pytest
from solver_helpers import inst, mentee, mentor

from solver import Link, Solution, SolverConfig, Unmatched, Window, solve, validate
from solver.schema import Stats

CFG = SolverConfig(time_limit=5)
TWO = (Window(0, 9 * 60, 11 * 60),)  # two mentor blocks: 09:00 and 10:00 WIB


def _solve(instance, cfg=CFG, **kw):
    sol = solve(instance, cfg, **kw)
    assert validate(instance, sol, cfg) == []
    return sol


def _loads(sol):
    out: dict[str, int] = {}
    for p in sol.pairs:
        out[p.mentor] = out.get(p.mentor, 0) + 1
    return out


def test_load_spreading_changes_the_choice():
    # equal scores everywhere: without spreading both mentees may go to one mentor
    mentors = [mentor("M1", capacity=2, availability=TWO), mentor("M2", capacity=2,
                                                                  availability=TWO)]
    mentees = [mentee("E1", availability=TWO), mentee("E2", availability=TWO)]
    sol = _solve(inst(mentors, mentees))
    assert _loads(sol) == {"M1": 1, "M2": 1} and sol.stats.load_spread == 0
    # spreading never beats score: a better mentor still takes both
    better = mentor("M1", capacity=2, availability=TWO,
                    levels={"Komunikasi": 5, "Pengelolaan Anggaran": 5}, unit="U2")
    sol = _solve(inst([better, mentors[1]], mentees))
    assert _loads(sol) == {"M1": 2} and sol.stats.load_spread == 1
    off = replace(CFG, spread_load=False)
    assert _loads(_solve(inst(mentors, mentees), off)) in ({"M1": 2}, {"M2": 2},
                                                            {"M1": 1, "M2": 1})


def test_hint_keeps_previous_pairs_when_still_optimal():
    mentors = [mentor("M1", availability=TWO), mentor("M2", availability=TWO)]
    mentees = [mentee("E1", availability=TWO), mentee("E2", availability=TWO)]
    instance = inst(mentors, mentees)
    first = _solve(instance)
    swapped = [Link(p.mentee, "M2" if p.mentor == "M1" else "M1") for p in first.pairs]
    again = _solve(instance, hint=swapped)
    assert {(p.mentee, p.mentor) for p in again.pairs} == {(x.mentee, x.mentor) for x in swapped}
    # a whole previous Solution works as a hint too, and keeps its slots
    kept = _solve(instance, hint=again)
    assert [(p.mentee, p.mentor, p.slot.minute_of_week) for p in kept.pairs] == \
        [(p.mentee, p.mentor, p.slot.minute_of_week) for p in again.pairs]
    # the hint is the last tie-break: it never costs score
    weaker = mentor("M1", availability=TWO, levels={"Komunikasi": 2, "Pengelolaan Anggaran": 3})
    stronger = _solve(inst([weaker, mentors[1]], [mentees[0]]), hint=[Link("E1", "M1")])
    assert stronger.pairs[0].mentor == "M2"


def test_progress_callback_interface_and_a_broken_callback():
    seen: list[dict] = []
    sol = _solve(inst([mentor()], [mentee()]), progress=seen.append)
    assert [x["phase"] for x in seen][:3] == ["locks", "pairs", "flow"]
    assert seen[-1]["phase"] == "done" and seen[-1]["matched"] == 1
    assert all(set(x) == {"phase", "elapsed", "matched", "objective", "bound"} for x in seen)
    assert all(isinstance(x["elapsed"], float) for x in seen)
    calls = []

    def broken(d):
        calls.append(d)
        raise RuntimeError("UI went away")

    again = _solve(inst([mentor()], [mentee()]), progress=broken)
    assert len(calls) == 1 and [(p.mentee, p.mentor) for p in again.pairs] == \
        [(p.mentee, p.mentor) for p in sol.pairs]


def test_optimal_only_when_proven_and_bound_never_below():
    many = [mentor(f"M{j}", capacity=1, availability=TWO,
                   levels={"Komunikasi": 1 + j % 4, "Pengelolaan Anggaran": 2 + j % 3})
            for j in range(12)]
    mentees = [mentee(f"E{i}", availability=TWO) for i in range(10)]
    sol = _solve(inst(many, mentees))
    assert sol.status == "OPTIMAL" and sol.stats.bound == sol.stats.objective
    assert sol.stats.gap == 0.0
    # one candidate per mentee and no pricing: nothing is proven, the bound still holds
    cut = replace(CFG, top_k_mentee=1, top_k_mentor_factor=0, pricing_rounds=0,
                  exact_up_to_pairs=0)
    weak = _solve(inst(many, mentees), cut)
    assert weak.status == "FEASIBLE"
    assert weak.stats.bound >= sol.stats.objective >= weak.stats.objective
    assert weak.stats.gap is not None and weak.stats.gap >= 0


def test_unmatched_reasons_are_true_and_validate_checks_them():
    one = (Window(0, 9 * 60, 10 * 60),)
    instance = inst([mentor(capacity=3, availability=one)],
                    [mentee("E1"), mentee("E2"), mentee("E3", grade=12)])
    sol = _solve(instance)
    reasons = {u.mentee: u.reason for u in sol.unmatched}
    assert reasons["E3"] == "no_eligible_mentor"
    assert list(reasons.values()).count("no_common_time") == 1  # room left, block taken
    wrong = Solution(sol.pairs, [Unmatched(u.mentee, "capacity_taken") for u in sol.unmatched],
                     sol.infeasible_locks, Stats())
    bad = validate(instance, wrong, CFG)
    assert any("capacity_taken but M1 has room" in b for b in bad)
    assert any("passes the rules" not in b and "E3" in b for b in bad)


def test_validate_rejects_a_false_infeasible_lock_claim():
    instance = inst([mentor("M1", capacity=2)], [mentee("E1")], locks=(Link("E1", "M1"),))
    sol = _solve(instance)
    assert sol.pairs[0].locked and sol.infeasible_locks == []
    claim = {"kind": "lock", "mentee": "E1", "mentor": "M1", "code": "capacity"}
    fake = Solution([], [Unmatched("E1", "no_common_time")], [claim], Stats())
    assert any("reported infeasible" in b and "room" in b for b in validate(instance, fake, CFG))
    for code in ("rule", "no_slot", "unknown_mentor"):
        fake.infeasible_locks = [dict(claim, code=code)]
        assert any("reported infeasible" in b for b in validate(instance, fake, CFG)), code


def test_infeasible_lock_codes_are_true():
    one = (Window(0, 9 * 60, 10 * 60),)
    instance = inst([mentor("M1", capacity=2, availability=one)],
                    [mentee("E1"), mentee("E2"), mentee("E3", grade=12)],
                    locks=(Link("E1", "M1"), Link("E2", "M1"), Link("E3", "M1")))
    sol = _solve(instance)
    codes = {x["mentee"]: x["code"] for x in sol.infeasible_locks}
    assert codes == {"E2": "no_slot", "E3": "rule"}


@pytest.mark.parametrize("rules, message", [
    ({"grade": "false"}, "expected true/false"),
    ({"grade": 0}, "expected true/false"),
    ({"teleport": True}, "unknown rule"),
])
def test_config_rules_must_be_real_booleans(rules, message):
    with pytest.raises(ValueError, match=message):
        SolverConfig.from_dict({"rules": rules})
    assert SolverConfig.from_dict({"rules": {"capacity": False}}).rule("capacity") is False


def test_small_instances_take_every_arc_and_are_proven_optimal():
    """Below exact_up_to_pairs eligible pairs the pruned path is skipped: exact, OPTIMAL."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    from solver_instances import generate

    from solver import Instance

    inst = Instance.from_dict(generate(300, "dense", 3))
    auto = solve(inst, CFG)
    assert auto.stats.pruning["enabled"] is False and auto.status == "OPTIMAL"
    pruned = solve(inst, replace(CFG, exact_up_to_pairs=0, top_k_mentee=1,
                                 top_k_mentor_factor=0, pricing_rounds=0))
    assert pruned.stats.pruning["enabled"] is True
    assert pruned.stats.objective <= auto.stats.objective
