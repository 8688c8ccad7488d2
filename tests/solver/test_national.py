"""The decomposed solve of national cohorts (solver/decompose.py) on small national-shaped
instances: provinces' cities are the components, national online mentors link them."""

import json
import sys
from dataclasses import replace
from pathlib import Path

import pytest

import solver
from solver import Instance, Link, SolverConfig, decompose, validate
from solver.eligibility import Prepared
from solver.model import solve as solve_undecomposed

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
from solver_instances import generate  # noqa: E402


@pytest.fixture(scope="module")
def national() -> Instance:
    return Instance.from_dict(generate(1500, "national", 3))


@pytest.fixture(params=["exact", "priced"])
def path(request, monkeypatch) -> str:
    """Both ways of the national flow: every arc at once (sparse instances), or the first
    candidate arcs, then cut and pricing rounds over every streamed arc (dense ones)."""
    if request.param == "priced":
        monkeypatch.setattr(decompose, "EXACT_PAIRS", 0)
    return str(request.param)


def _key(sol: solver.Solution) -> tuple[int, int, int]:
    return sol.stats.matched, sol.stats.matched_priority, sol.stats.objective


def test_split_finds_the_cities_and_the_linking_online_mentors(national):
    prep = Prepared(national, SolverConfig())
    parts = decompose.split(prep)
    assert parts is not None and len(parts.groups) > 38
    online = {j for j, m in enumerate(prep.mentors) if m.mode != "in_person"}
    assert set(parts.linking.tolist()) == online and online
    for city, es, ms in parts.groups:
        assert {prep.mentees[i].city for i in es} <= {city}
        assert {prep.mentors[j].city for j in ms} <= {city}
    # with the in-person rule off, a mentor can meet anyone: nothing to decompose
    off = SolverConfig(rules={"same_city_in_person": False})
    assert decompose.split(Prepared(national, off)) is None


def test_decomposition_reaches_the_undecomposed_optimum_and_proves_it(national, path):
    cfg = SolverConfig()
    got = decompose.solve_decomposed(national, cfg)
    want = solve_undecomposed(national, cfg)
    assert want.status == "OPTIMAL"
    assert _key(got) == _key(want)
    assert got.status == "OPTIMAL" and got.stats.gap == 0.0
    assert got.stats.bound == want.stats.objective
    assert got.stats.matched_bound == want.stats.matched
    assert got.stats.model["components"] > 38 and got.stats.model["linking_mentors"] > 0
    kinds = [x["kind"] for x in got.stats.phases[0]["log"]]
    assert kinds == ["exact"] if path == "exact" else "price" in kinds
    # the validator re-proves the OPTIMAL claim with the exact flow over every arc, and
    # checks every unmatched mentee's reason against every mentor (the national ones too)
    assert validate(national, got, cfg) == []
    # some pairs cross components: a mentee with a national mentor of another city
    mentors = {m.id: m for m in national.mentors}
    mentees = {e.id: e for e in national.mentees}
    assert any(mentors[p.mentor].city != mentees[p.mentee].city for p in got.pairs)


def test_a_pricing_budget_too_small_to_prove_still_reports_a_valid_bound(national,
                                                                        monkeypatch):
    monkeypatch.setattr(decompose, "EXACT_PAIRS", 0)
    cfg = SolverConfig(pricing_rounds=0)
    got = decompose.solve_decomposed(national, cfg)
    exact = solve_undecomposed(national, SolverConfig())
    assert got.stats.matched == exact.stats.matched  # the counts are still proven
    assert got.stats.bound is not None and got.stats.bound >= exact.stats.objective
    assert got.stats.objective <= exact.stats.objective
    assert got.stats.gap == pytest.approx(
        (got.stats.bound - got.stats.objective) / got.stats.bound, abs=1e-6)
    assert validate(national, got, cfg) == []


def test_the_work_budget_not_the_clock_ends_the_rounds(national, monkeypatch):
    """The rounds stop where the work model (sizes only) says the next flow would not fit;
    the clock is only the safety stop, so the same input stops at the same round."""
    monkeypatch.setattr(decompose, "EXACT_PAIRS", 0)
    for name, few in (("TOP_K", 1), ("F_MENTOR", 1), ("F_REGRET", 0)):  # a pruned first flow
        monkeypatch.setattr(decompose, name, few)
    monkeypatch.setattr(decompose, "WORK_SHARE", 1e-9)
    runs = [decompose.solve_decomposed(national, SolverConfig()) for _ in range(2)]
    got = runs[0]
    log = got.stats.phases[0]["log"]
    assert [x["kind"] for x in log][-1] == "budget" and got.stats.pruning["rounds"] == 0
    assert got.stats.safety_stop is None and got.status == "FEASIBLE"
    exact = solve_undecomposed(national, SolverConfig())
    assert _key(got) <= _key(exact) and got.stats.bound >= exact.stats.objective
    assert got.stats.timing["filled"] >= 1  # the fill took what the unproven counts missed
    assert json.dumps(runs[0].to_dict()) == json.dumps(runs[1].to_dict())
    assert validate(national, got, SolverConfig()) == []


def test_the_validator_checks_national_reasons_against_the_mentors_who_can_qualify(national):
    """The validator compares an unmatched mentee only with the mentors the mode and city
    rules leave possible (online ones, in-person ones of the same city): a false reason is
    still caught, also where the true mentor is a national online mentor of another city."""
    cfg = SolverConfig()
    sol = decompose.solve_decomposed(national, cfg)
    assert validate(national, sol, cfg) == []
    mentees = {e.id: e for e in national.mentees}
    mentors = {m.id: m for m in national.mentors}
    un = [u for u in sol.unmatched if u.reason != "no_eligible_mentor"]
    far = next(u for u in un if mentees[u.mentee].mode != "in_person")
    lie = replace(far, reason="no_eligible_mentor", params={})
    bad = replace(sol, unmatched=[lie if u is far else u for u in sol.unmatched])
    (msg,) = validate(national, bad, cfg)
    assert msg.startswith(f"unmatched {far.mentee}: no_eligible_mentor but ")
    who = mentors[msg.split(" but ")[1].split()[0]]
    assert who.mode == "online" or who.city == mentees[far.mentee].city


def test_locks_fixed_pairs_and_forbids_across_components(national, path):
    nat = [m for m in national.mentors if m.mode == "online"]
    online = [e for e in national.mentees if e.mode != "in_person"]
    inp = [e for e in national.mentees if e.mode == "in_person"]
    inst = replace(
        national,
        locks=(Link(online[0].id, nat[0].id, exempt=("grade", "common_slot")),
               Link(inp[0].id, nat[1].id)),  # in person with an online-only mentor: a rule
        fixed=(Link(online[1].id, nat[0].id, exempt=("grade", "common_slot")),),
        forbids=tuple(Link(e.id, nat[2].id) for e in online[:50]),
    )
    cfg = SolverConfig()
    got = decompose.solve_decomposed(inst, cfg)
    want = solve_undecomposed(inst, cfg)
    assert _key(got) == _key(want)
    assert got.infeasible_locks == want.infeasible_locks
    assert [x["code"] for x in got.infeasible_locks] == ["rule"]
    assert {(p.mentee, p.mentor, p.locked, p.fixed) for p in got.pairs if p.locked or p.fixed} \
        == {(online[0].id, nat[0].id, True, False), (online[1].id, nat[0].id, False, True)}
    assert validate(inst, got, cfg) == []


def test_two_runs_give_byte_identical_solutions(national, path):
    a = decompose.solve_decomposed(national, SolverConfig())
    b = decompose.solve_decomposed(national, SolverConfig())
    assert json.dumps(a.to_dict()) == json.dumps(b.to_dict())


def test_the_public_solve_decomposes_a_large_instance_by_itself(national, monkeypatch):
    """What the app's solve worker and the CLI call: no flag, the size decides. (The
    threshold is lowered so that a small instance counts as large.)"""
    monkeypatch.setattr(decompose, "DECOMPOSE_MIN_MENTEES", 1000)
    sol = solver.solve(national)
    assert "components" in sol.stats.model
    assert _key(sol) == _key(solve_undecomposed(national))
    small = replace(national, mentees=national.mentees[:900])
    assert "components" not in solver.solve(small).stats.model


def test_the_size_aware_wall_limit():
    assert decompose.wall_limit(250_000, SolverConfig()) == pytest.approx(600.0)
    assert decompose.wall_limit(20_000, SolverConfig()) == 30.0
    assert decompose.wall_limit(250_000, SolverConfig(time_limit=900)) == 900.0
