"""The pieces the optimality proof rests on: the pair table as a matrix product, the dual
potentials, and the bound a pruned solve reports (checked against the exact flow)."""

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import solver.flow as flow
from solver import Instance, SolverConfig, solve, validate
from solver.eligibility import Prepared
from solver.flow import Arrays, Locked, Network, candidates, cut_violations, exact_reference, price
from solver.model import Scheduler, _merge, check_locks
from solver.scoring import score_pair

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
from solver_instances import generate  # noqa: E402

from tests.helpers import cores_busy  # noqa: E402

# every soft term non-zero, so each column group of the matrix product is exercised
WEIGHTS = {"same_unit": 3.0, "other_unit": -1.0, "grade_distance": 0.5, "same_city": 5.0,
           "competency": {"Integritas": 2.0, "Pengelolaan Anggaran": 3.0}}


def _instance(n, family, seed):
    d = generate(n, family, seed)
    d.pop("config", None)
    return Instance.from_dict(d)


@pytest.mark.parametrize("one_hot_max", [256, 0])  # 0: unit, city and grade element-wise
@pytest.mark.parametrize("family,seed", [("realistic", 1), ("rules", 2), ("skewed", 3),
                                         ("dense", 4)])
def test_pair_table_as_matrix_product_equals_the_scalar_rules(monkeypatch, one_hot_max,
                                                              family, seed):
    monkeypatch.setattr(flow, "ONE_HOT_MAX", one_hot_max)
    cfg = SolverConfig.from_dict({"weights": WEIGHTS, "rules": {"sessions_per_day": False}})
    prep = Prepared(_instance(40, family, seed), cfg)
    arr = Arrays(prep)
    assert bool(arr.slow) == (one_hot_max == 0)
    mat, n_ok, n_el, neg = arr.matrix()
    for i, e in enumerate(prep.mentees):
        for j, m in enumerate(prep.mentors):
            v = prep.violations(i, j)
            assert (mat[i, j] > neg) == (not v)
            if not v:
                assert mat[i, j] == score_pair(e, m, cfg)[0]
        assert n_el[i] == sum(1 for j in range(len(prep.mentors)) if not prep.violations(i, j))
        assert n_ok[i] == sum(1 for j in range(len(prep.mentors))
                              if not [x for x in prep.violations(i, j) if x != "common_slot"])


def _pruned_flow(n, family, seed, k, f):
    cfg = SolverConfig()
    prep = Prepared(_instance(n, family, seed), cfg)
    arr = Arrays(prep)
    mat, _ok, _el, neg = arr.matrix()
    rows = np.arange(arr.n_e)
    ce, cm, cs = candidates(arr, mat, neg, rows, k, f, f_regret=0)
    net = Network(arr)
    act = np.ones(arr.n_e, dtype=bool)
    res = net.solve(ce, cm, cs, Locked(), act)
    while True:  # cut rounds, as the solver runs them: the counts become maximal
        (ae, am, as_), nv = cut_violations(net, res, mat, neg, rows, 4)
        if nv == 0:
            break
        ce, cm, cs = _merge((ce, cm, cs), (ae, am, as_))
        res = net.solve(ce, cm, cs, Locked(), act)
    return prep, arr, mat, neg, rows, (ce, cm, cs), net, res


def test_potentials_are_feasible_duals_and_price_an_upper_bound():
    """Reduced costs >= 0 on every residual arc (else the pricing bound is not a bound), and
    restricted optimum + the priced violation >= the exact optimum of the full network."""
    prep, arr, mat, neg, rows, (ce, cm, _cs), net, res = _pruned_flow(900, "dense", 5, 3, 1)
    d, converged = net.potentials(res)
    assert converged
    u, v, c = net._residual(res, True)
    assert c is not None and (c + d[u] - d[v]).min() >= 0
    have = np.sort(ce * arr.n_m + cm)
    _added, viol = price(net, res, d, mat, neg, rows, 8, have)
    lv = res.levels
    bound = (res.objective_b + viol + lv["spread_max"] * lv["unit_spread"]) // lv["unit_score"]
    ref = exact_reference(prep)
    assert ref["matched"] == res.counts[2]  # the counts of this instance are reached
    assert viol > 0 and res.score < ref["score"] <= bound


def test_cut_counts_pairs_left_out_of_the_network_in_its_residual():
    """A re-solve may leave out pairs that carry no flow; the cut on its flow then proves the
    counts with those pairs as residual arcs, and only with them: without, the unmatched
    mentees' own eligible pairs leave the cut."""
    prep, arr, mat, neg, rows, (ce, cm, cs), net, res = _pruned_flow(900, "dense", 5, 3, 1)
    assert exact_reference(prep)["matched"] == res.counts[2]
    used = res.mentor[ce] == cm
    sub = net.solve(ce[used], cm[used], cs[used], Locked(), np.ones(arr.n_e, dtype=bool))
    assert sub.counts == res.counts
    _added, nv_plain = cut_violations(net, sub, mat, neg, rows, 4)
    e, m = np.nonzero(mat > neg)
    out = ~np.isin(e * arr.n_m + m, ce[used] * arr.n_m + cm[used])
    (ae, _am, _as), nv = cut_violations(net, sub, mat, neg, rows, 4, (e[out], m[out]))
    assert nv_plain > 0 and nv == 0 and len(ae) == 0


def test_reported_gap_is_proven_against_the_exact_optimum():
    """A pruned solve that stops pricing early reports a bound the exact flow never beats, and
    the gap it reports is computed from that bound; with the default budget it is OPTIMAL."""
    inst = _instance(2000, "dense", 6)
    cfg = SolverConfig(exact_up_to_pairs=0, top_k_mentee=2, top_k_mentor_factor=1,
                       pricing_rounds=2, prove_up_to=10**6)
    prep = Prepared(inst, cfg)
    locked, _ = check_locks(prep, Scheduler(prep))
    ref = exact_reference(prep, locked=locked)
    sol = solve(inst, cfg)
    st = sol.stats
    assert validate(inst, sol, cfg) == []
    assert st.matched == ref["matched"]
    assert st.bound is not None and st.bound >= ref["score"] >= st.objective
    assert st.gap == round((st.bound - st.objective) / st.bound, 6)
    if st.status == "OPTIMAL":
        assert st.objective == ref["score"] and st.gap == 0.0
    else:
        assert st.gap > 0
    full = solve(inst, replace(cfg, pricing_rounds=SolverConfig().pricing_rounds * 4))
    assert full.status == "OPTIMAL" and full.stats.objective == ref["score"]
    assert full.stats.gap == 0.0 and full.stats.bound == ref["score"]


def test_pruned_pricing_is_byte_identical_with_both_cores_busy(tmp_path):
    """The pruned path with cut and pricing rounds (pricing, potentials, candidates on two
    threads) decides by work budgets: a quiet and a loaded run give the same bytes."""
    d = generate(2500, "dense", 7)
    d["config"] = {"exact_up_to_pairs": 0, "top_k_mentee": 4, "top_k_mentor_factor": 2}
    src = tmp_path / "instance.json"
    src.write_text(json.dumps(d), encoding="utf-8")

    def run(out):
        r = subprocess.run([sys.executable, "-m", "solver", "solve", str(src), "-o", str(out),
                            "--seed", "2"], cwd=ROOT, capture_output=True, text=True,
                           timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert r.returncode == 0, r.stderr

    quiet, loaded = tmp_path / "a.json", tmp_path / "b.json"
    run(quiet)
    with cores_busy(seconds=120):
        run(loaded)
    assert quiet.read_bytes() == loaded.read_bytes()
    sol = json.loads(quiet.read_text(encoding="utf-8"))
    assert sol["stats"]["safety_stop"] is None and sol["violations"] == []
    assert sol["stats"]["pruning"]["rounds"] >= 1


def test_a_pruned_network_has_the_full_networks_mentor_capacity():
    """Found by the property test: with the mentor-side candidates off (factor 0), a mentor
    reached by one candidate arc got one unit of capacity in the pruned network; pricing priced
    every pruned pair against that smaller network and proved a false OPTIMAL (5,300 where
    5,350 was possible). The pruned network now keeps each mentor's capacity as in the full
    network (up to its eligible pairs)."""
    import json
    from dataclasses import replace
    from pathlib import Path

    from solver import Instance, SolverConfig, solve, validate

    inst = Instance.from_dict(json.loads(
        (Path(__file__).parent / "data" / "false_optimal_capacity.json").read_text()))
    cfg = replace(SolverConfig(time_limit=5, rules={"sessions_per_day": False},
                               exact_up_to_pairs=0), top_k_mentee=1, top_k_mentor_factor=0)
    sol = solve(inst, cfg)
    assert sol.status == "OPTIMAL" and sol.stats.objective == 5350
    assert validate(inst, sol, cfg) == []  # the validator re-proves OPTIMAL by the exact flow
