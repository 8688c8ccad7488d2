import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solver import Instance, Solution, SolverConfig, solve, validate
from solver.eligibility import Prepared
from solver.flow import exact_reference

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
from solver_instances import generate  # noqa: E402

NO_SPD = SolverConfig(time_limit=5, rules={"sessions_per_day": False})


def _instance(n, family, seed):
    return Instance.from_dict(generate(n, family, seed))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(3, 30), family=st.sampled_from(["dense", "realistic"]),
       seed=st.integers(0, 10_000), spd=st.booleans(), k=st.integers(1, 6))
def test_solutions_valid_and_never_above_exact_flow(n, family, seed, spd, k):
    inst = _instance(n, family, seed)
    cfg = replace(NO_SPD, top_k_mentee=k, top_k_mentor_factor=1)
    if spd:
        cfg = replace(cfg, rules={})
    sol = solve(inst, cfg)
    assert validate(inst, sol, cfg) == []
    ref = exact_reference(Prepared(inst, NO_SPD))
    assert sol.stats.matched <= ref["matched"]
    if sol.stats.matched == ref["matched"]:
        assert sol.stats.objective <= ref["score"]


@settings(max_examples=15, deadline=None)
@given(n=st.integers(3, 30), family=st.sampled_from(["dense", "realistic"]),
       seed=st.integers(0, 10_000), spd=st.booleans())
def test_unpruned_fast_path_equals_exact_flow(n, family, seed, spd):
    inst = _instance(n, family, seed)
    cfg = replace(NO_SPD, rules={}) if spd else NO_SPD
    sol = solve(inst, replace(cfg, prune=False))
    assert validate(inst, sol, cfg) == []
    ref = exact_reference(Prepared(inst, cfg))
    assert (sol.stats.matched, sol.stats.objective) == (ref["matched"], ref["score"])


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
    code = ("import sys, solver; bad = [m for m in sys.modules if m.split('.')[0] in "
            "('flask', 'sqlalchemy', 'mentormatch')]; print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_env(),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
