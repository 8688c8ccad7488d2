"""Same input and seed -> byte-identical solution JSON, quiet or loaded; the time limit holds,
and when the wall-clock safety stop ends the work early the solution says so."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

# times itself or runs several servers: scripts/test runs it alone, after the parallel part
pytestmark = pytest.mark.serial

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
from solver_instances import generate  # noqa: E402

from tests.helpers import cores_busy  # noqa: E402


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _solve(src: Path, out: Path, *extra: str) -> float:
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "solver", "solve", str(src), "-o", str(out),
                        "--seed", "3", *extra], cwd=ROOT, env=_env(), capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return time.perf_counter() - t


def test_same_input_and_seed_give_byte_identical_json_quiet_and_loaded(tmp_path):
    d = generate(400, "realistic", 5)
    # force the pruned path (pricing rounds, CP-SAT not needed) on a small instance
    d["config"] = {"exact_up_to_pairs": 0, "top_k_mentee": 3, "top_k_mentor_factor": 2}
    src = tmp_path / "instance.json"
    src.write_text(json.dumps(d), encoding="utf-8")
    quiet, loaded = tmp_path / "a.json", tmp_path / "b.json"
    _solve(src, quiet)
    with cores_busy(seconds=60):
        _solve(src, loaded)
    assert quiet.read_bytes() == loaded.read_bytes()
    sol = json.loads(quiet.read_text(encoding="utf-8"))
    assert sol["stats"]["safety_stop"] is None
    assert "wall_time" not in sol["stats"] and "timing" not in sol["stats"]
    assert sol["stats"]["pruning"]["enabled"] and sol["violations"] == []


def test_safety_stop_says_so_and_the_result_stays_valid(tmp_path):
    d = generate(5000, "dense", 1)
    d["config"] = {"exact_up_to_pairs": 0, "time_limit": 0.5}
    src = tmp_path / "instance.json"
    src.write_text(json.dumps(d), encoding="utf-8")
    out = tmp_path / "sol.json"
    _solve(src, out, "--timing")
    sol = json.loads(out.read_text(encoding="utf-8"))
    # 0.5 s cannot hold the pair table and first flow of 5,000 mentees: one is cut (at 2,500
    # the work budget now ends pricing before the clock has to)
    assert sol["stats"]["safety_stop"] in ("pairs", "flow", "pricing")
    assert sol["stats"]["timing"]["pricing"] < 1.0
    assert sol["stats"]["wall_time"] <= 1.05 * 0.5 + 1.0
    assert sol["status"] == "FEASIBLE" and sol["violations"] == []


def test_a_short_time_limit_is_kept_on_a_30s_instance_with_the_cores_busy(tmp_path):
    """Every long phase (pair table, candidates, each flow) stops at the deadline: 5,000 dense
    mentees (about 30 s of work at default settings) with a 2 s limit and both cores busy."""
    d = generate(5000, "dense", 1)
    limit = 2.0
    d["config"] = {**d.get("config", {}), "time_limit": limit}
    src = tmp_path / "instance.json"
    src.write_text(json.dumps(d), encoding="utf-8")
    out = tmp_path / "sol.json"
    with cores_busy(seconds=60):
        _solve(src, out, "--timing")
    sol = json.loads(out.read_text(encoding="utf-8"))
    st = sol["stats"]
    assert st["wall_time"] <= 1.05 * limit + 1.0, st["timing"]
    assert sol["violations"] == []
    assert st["safety_stop"] in ("pairs", "flow", "pricing", "slots")
    assert sol["status"] == "FEASIBLE"
    assert st["matched"] + len(sol["unmatched"]) == 5000
    if st["bound"] is not None:
        assert st["bound"] >= st["objective"]
    reasons = {u["reason"] for u in sol["unmatched"]}
    assert reasons <= {"no_eligible_mentor", "no_common_time", "capacity_taken", "time_limit"}
