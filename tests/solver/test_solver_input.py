"""Input the solver must not misread: duplicate preferences, unusable instances on the CLI."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from solver_helpers import inst, mentee, mentor

from solver import Link, SolverConfig, solve, validate
from solver.scoring import score_pair

ROOT = Path(__file__).resolve().parents[2]

# A lifts nothing, B lifts two levels: listed three times, A used to be optimised at the sum
# of three preference ranks but reported at one, so the solver returned A as OPTIMAL.
A = mentor("A", levels={"Komunikasi": 1, "Pengelolaan Anggaran": 2})
B = mentor("B", levels={"Komunikasi": 2, "Pengelolaan Anggaran": 3})


def test_duplicate_preferences_are_normalised_and_the_reported_score_is_the_optimised_one():
    e = mentee("E1", preferences=("A", "A", "A", "B"))
    assert e.preferences == ("A", "B")
    i = inst([A, B], [e])
    sol = solve(i)
    assert sol.status == "OPTIMAL"
    (pair,) = sol.pairs
    best = max(score_pair(e, m, SolverConfig())[0] for m in (A, B))
    assert (pair.mentor, pair.score) == ("B", best)
    assert validate(i, sol) == []


def test_validate_rejects_an_optimal_claim_the_exact_flow_beats():
    e = mentee("E1", preferences=("A", "B"))
    # solved with B forbidden, the A pair is optimal there, but not for the instance without
    # the forbid: the validator re-proves the claim with the exact flow
    sol = solve(inst([A, B], [e], forbids=(Link("E1", "B"),)))
    assert sol.status == "OPTIMAL" and sol.pairs[0].mentor == "A"
    problems = validate(inst([A, B], [e]), sol)
    assert any("status OPTIMAL" in p and "exact optimum" in p for p in problems), problems


def test_no_mentors_or_no_mentees_solve_to_all_unmatched():
    i = inst([], [mentee()])
    sol = solve(i)
    assert sol.status == "OPTIMAL" and sol.pairs == []
    assert [(u.mentee, u.reason) for u in sol.unmatched] == [("E1", "no_eligible_mentor")]
    assert validate(i, sol) == []
    assert solve(inst([mentor()], [])).pairs == []


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


GOOD = {"mentors": [{"id": "M1", "grade": 10, "levels": {"KOM": 4},
                     "availability": [{"weekday": 0, "start": "09:00", "end": "12:00"}]}],
        "mentees": [{"id": "E1", "grade": 5, "levels": {"KOM": 1}, "required": {"KOM": 3},
                     "availability": [{"weekday": 0, "start": "09:00", "end": "12:00"}]}]}


@pytest.mark.parametrize("text, message", [
    (json.dumps([GOOD]), "expected a JSON object"),
    (json.dumps({**GOOD, "mentors": []}), "no mentors"),
    (json.dumps({**GOOD, "mentees": [{**GOOD["mentees"][0], "required": {"KOMM": 3}}]}),
     "competency 'KOMM' (required by 1 mentee(s)) is held by no mentor"),
    ("{not json", "not JSON"),
    (json.dumps({**GOOD, "holidays": 5}), "malformed instance"),
    (json.dumps({**GOOD, "config": [1]}), "error:"),
])
def test_cli_input_errors_are_one_clean_line_and_exit_2(tmp_path, text, message):
    src = tmp_path / "instance.json"
    src.write_text(text, encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "solver", "solve", str(src)], cwd=ROOT,
                       env=_env(), capture_output=True, text=True, timeout=60)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert message in r.stderr and "Traceback" not in r.stderr
    assert r.stderr.startswith("error: ") and r.stdout == ""


def test_cli_valid_instance_exits_0(tmp_path):
    src = tmp_path / "instance.json"
    src.write_text(json.dumps(GOOD), encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "solver", "solve", str(src)], cwd=ROOT,
                       env=_env(), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["pairs"][0]["mentor"] == "M1"
