import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solver import Instance, Solution, SolverConfig, solve, validate
from solver.eligibility import Prepared
from solver.flow import Arrays, exact_reference
from solver.model import Scheduler, check_locks
from solver.scoring import score_pair

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
from solver_instances import generate  # noqa: E402

# exact_up_to_pairs=0: these small instances must go through the pruned path (pruning, pricing)
NO_SPD = SolverConfig(time_limit=5, rules={"sessions_per_day": False}, exact_up_to_pairs=0)


def _instance(n, family, seed):
    return Instance.from_dict(generate(n, family, seed))


@st.composite
def _with_links(draw, n_max=30):
    """A generated instance plus random locks, forbids and fixed pairs (some infeasible)."""
    n = draw(st.integers(3, n_max))
    d = generate(n, draw(st.sampled_from(["dense", "realistic"])), draw(st.integers(0, 10_000)))
    ids_e = [e["id"] for e in d["mentees"]]
    ids_m = [m["id"] for m in d["mentors"]] + ["M_missing"]
    pair = st.tuples(st.sampled_from(ids_e), st.sampled_from(ids_m))
    d["locks"] = [{"mentee": a, "mentor": b} for a, b in draw(st.lists(pair, max_size=3))]
    d["forbids"] = [{"mentee": a, "mentor": b} for a, b in draw(st.lists(pair, max_size=3))]
    fixed = draw(st.lists(st.tuples(pair, st.sampled_from([None, 30, 90, 150, 390, 1470])),
                          max_size=2))
    d["fixed"] = [{"mentee": a, "mentor": b, **({"slot": sl} if sl is not None else {})}
                  for (a, b), sl in fixed]
    for e in d["mentees"]:
        e["priority"] = draw(st.booleans()) if e["id"] in ids_e[:5] else e["priority"]
    return Instance.from_dict(d)


def _reference(inst, cfg):
    prep = Prepared(inst, cfg)
    locked, _ = check_locks(prep, Scheduler(prep))
    return exact_reference(prep, locked=locked)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inst=_with_links(), spd=st.booleans(), k=st.integers(1, 6), f=st.integers(0, 3))
def test_solutions_valid_never_above_the_bound_and_the_exact_flow(inst, spd, k, f):
    cfg = replace(NO_SPD, top_k_mentee=k, top_k_mentor_factor=f)
    if spd:
        cfg = replace(cfg, rules={})
    sol = solve(inst, cfg)
    assert validate(inst, sol, cfg) == []
    ref = _reference(inst, cfg)
    assert ref["exact"]
    assert sol.stats.matched <= ref["matched"] <= sol.stats.matched_bound
    assert sol.stats.objective <= sol.stats.bound
    if sol.stats.matched == ref["matched"]:
        assert sol.stats.objective <= ref["score"] <= sol.stats.bound
    if sol.status == "OPTIMAL":
        assert (sol.stats.matched, sol.stats.objective) == (ref["matched"], ref["score"])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inst=_with_links(), spd=st.booleans())
def test_unpruned_and_pruned_fast_path_reach_the_exact_flow(inst, spd):
    cfg = replace(NO_SPD, rules={}) if spd else NO_SPD
    ref = _reference(inst, cfg)
    for prune in (False, True):
        sol = solve(inst, replace(cfg, prune=prune))
        assert validate(inst, sol, cfg) == []
        assert (sol.stats.matched, sol.stats.objective) == (ref["matched"], ref["score"])
        assert sol.status == "OPTIMAL" and sol.stats.bound == sol.stats.objective


@settings(max_examples=20, deadline=None)
@given(n=st.integers(3, 25), family=st.sampled_from(["dense", "realistic"]),
       seed=st.integers(0, 10_000))
def test_vectorised_eligibility_agrees_with_the_rules(n, family, seed):
    inst = _instance(n, family, seed)
    prep = Prepared(inst, NO_SPD)
    ok, elig, score = Arrays(prep).block(np.arange(len(prep.mentees)))
    for i, e in enumerate(prep.mentees):
        for j, m in enumerate(prep.mentors):
            v = prep.violations(i, j)
            assert elig[i, j] == (not v)
            assert ok[i, j] == (not [x for x in v if x != "common_slot"])
            if not v:
                assert score[i, j] == score_pair(e, m, NO_SPD)[0]


def _strip(d):
    d["stats"] = {k: v for k, v in d["stats"].items() if k not in ("wall_time", "phases")}
    return d


def test_deterministic():
    inst = _instance(80, "realistic", 3)
    cfg = SolverConfig(time_limit=5, seed=7)
    a, b = solve(inst, cfg).to_dict(), solve(inst, cfg).to_dict()
    assert _strip(a) == _strip(b)


def test_json_round_trip_of_schema():
    inst = _instance(20, "realistic", 1)
    assert Instance.from_dict(json.loads(json.dumps(inst.to_dict()))) == inst
    cfg = SolverConfig(seed=3, rules={"mode": False})
    assert SolverConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    sol = solve(inst, cfg)
    back = Solution.from_dict(json.loads(json.dumps(sol.to_dict())))
    assert back.to_dict() == sol.to_dict()


@pytest.mark.parametrize(
    "patch, message",
    [
        ({"tz": "Mars/Base"}, "unknown IANA time zone"),
        ({"mode": "telepathy"}, r"mentees\[0\]\.mode"),
        ({"grade": "III/a"}, r"mentees\[0\]\.grade"),
        ({"availability": [{"weekday": 0, "start": "10:00", "end": "09:00"}]}, "must be after"),
    ],
)
def test_bad_input_gives_clear_value_error(patch, message):
    d = generate(3, "dense", 0)
    d["mentees"][0].update(patch)
    with pytest.raises(ValueError, match=message):
        Instance.from_dict(d)


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_cli_round_trip(tmp_path):
    d = generate(30, "realistic", 2)
    d["config"] = {"time_limit": 5}
    src = tmp_path / "instance.json"
    out = tmp_path / "solution.json"
    src.write_text(json.dumps(d), encoding="utf-8")
    r = subprocess.run(
        [sys.executable, "-m", "solver", "solve", str(src), "-o", str(out), "--seed", "1"],
        cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=60,
    )
    assert r.returncode == 0, r.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["violations"] == []
    sol = Solution.from_dict(data)
    assert len(sol.pairs) + len(sol.unmatched) == 30
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"mentors": []}), encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "solver", "solve", str(bad)], cwd=ROOT,
                       env=_env(), capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "missing field 'mentees'" in r.stderr


def test_import_loads_neither_flask_nor_sqlalchemy():
    # numpy is allowed (an OR-Tools dependency, declared in pyproject.toml); the web stack and
    # the app package are not
    code = ("import sys, solver; bad = [m for m in sys.modules if m.split('.')[0] in "
            "('flask', 'sqlalchemy', 'mentormatch', 'matching', 'werkzeug', 'jinja2')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_env(),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inst=_with_links(40))
def test_free_grid_with_overlapping_starts_is_repaired_and_valid(inst):
    # mentors offering every half-hour start: overlapping sessions must be repaired, the
    # result stays valid and below the flow relaxation's bound
    cfg = replace(NO_SPD, rules={}, mentor_blocks=False)
    sol = solve(inst, cfg)
    assert validate(inst, sol, cfg) == []
    assert sol.stats.objective <= sol.stats.bound
    ref = _reference(inst, cfg)
    assert sol.stats.matched <= ref["matched"]
    if sol.status == "OPTIMAL":
        assert (sol.stats.matched, sol.stats.objective) == (ref["matched"], ref["score"])


def test_the_same_fixed_pair_twice_one_kept_one_reported_is_valid():
    """A (mentee, mentor) fixed twice - first at a time they do not share, then without a time:
    the solver reports the first (fixed_slot) and keeps the second; the validator must match
    each report to the link it is true of (found by the property test above)."""
    d = generate(8, "dense", 1)
    inst = Instance.from_dict(d)
    prep = Prepared(inst, NO_SPD)
    step = NO_SPD.slot_step_minutes
    i, j = next((a, b) for a in range(len(prep.mentees)) for b in range(len(prep.mentors))
                if not prep.violations(a, b) and prep.common(a, b))
    off = next(b for b in range(10_080 // step) if not (prep.common(i, j) >> b) & 1)
    e, m = prep.mentees[i].id, prep.mentors[j].id
    d["fixed"] = [{"mentee": e, "mentor": m, "slot": off * step}, {"mentee": e, "mentor": m}]
    inst = Instance.from_dict(d)
    sol = solve(inst, NO_SPD)
    assert [x["code"] for x in sol.infeasible_locks] == ["fixed_slot"]
    assert any(q.mentee == e and q.mentor == m and q.fixed for q in sol.pairs)
    assert validate(inst, sol, NO_SPD) == []
