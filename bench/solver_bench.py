"""Solver benchmark: fast path vs exact min-cost-flow reference, greedy and mentor-match.

    python bench/solver_bench.py --sizes 1000            # quick
    python bench/solver_bench.py                         # 1000, 5000, 20000; both families
    python bench/solver_bench.py --sizes 20000 --reference   # force the exact run at 20k

Each measurement runs in a fresh process; memory is that process's peak RSS (ru_maxrss).
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import multiprocessing as mp
import os
import resource
import sys
import time
from dataclasses import replace

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _load(n: int, family: str, seed: int):
    from solver_instances import generate

    from solver import Instance

    return Instance.from_dict(generate(n, family, seed))


def run_fast(n, family, seed, spd):
    from solver import SolverConfig, solve, validate

    inst = _load(n, family, seed)
    cfg = SolverConfig(time_limit=60, seed=seed)
    if not spd:
        cfg = replace(cfg, rules={**cfg.rules, "sessions_per_day": False})
    t = time.perf_counter()
    sol = solve(inst, cfg)
    dt = time.perf_counter() - t
    bad = validate(inst, sol, cfg)
    return {"time": dt, "mem": _peak_mb(), "matched": sol.stats.matched,
            "prio": sol.stats.matched_priority, "score": sol.stats.objective,
            "violations": len(bad), "arcs": sol.stats.pruning["arcs_kept"],
            "pruned": sol.stats.pruning["arcs_pruned"], "status": sol.stats.status}


def run_exact(n, family, seed, spd):
    from solver import SolverConfig
    from solver.eligibility import Prepared
    from solver.flow import exact_reference

    inst = _load(n, family, seed)
    cfg = SolverConfig(rules={"sessions_per_day": spd})
    t = time.perf_counter()
    ref = exact_reference(Prepared(inst, cfg))
    return {"time": time.perf_counter() - t, "mem": _peak_mb(), "matched": ref["matched"],
            "prio": ref["matched_priority"], "score": ref["score"], "arcs": ref["arcs"]}


def run_greedy(n, family, seed):
    """Priority first, then mentee id: best-scoring eligible mentor with room and a free slot."""
    import numpy as np

    from solver import SolverConfig
    from solver.eligibility import Prepared
    from solver.flow import Arrays
    from solver.slots import bits

    inst = _load(n, family, seed)
    cfg = SolverConfig(rules={"sessions_per_day": False})
    t = time.perf_counter()
    prep = Prepared(inst, cfg)
    arr = Arrays(prep)
    room = arr.cap.copy()
    busy: list[set[int]] = [set() for _ in range(arr.n_m)]
    order = sorted(range(arr.n_e), key=lambda i: (not prep.mentees[i].priority, i))
    matched = score = prio = 0
    for s in range(0, len(order), 256):
        rows = np.array(order[s:s + 256])
        _, elig, sc = arr.block(rows)
        for r, i in enumerate(rows.tolist()):
            cand = np.nonzero(elig[r])[0]
            for j in cand[np.argsort(-sc[r, cand], kind="stable")].tolist():
                if room[j] <= 0:
                    continue
                free = [b for b in bits(prep.common(i, j)) if b not in busy[j]]
                if free:
                    busy[j].add(free[0])
                    room[j] -= 1
                    matched += 1
                    score += int(sc[r, j])
                    prio += prep.mentees[i].priority
                    break
    return {"time": time.perf_counter() - t, "mem": _peak_mb(), "matched": matched,
            "prio": prio, "score": score}


def run_mentor_match(n, family, seed, rounds=1):
    """mentor-match (PyPI; Munkres/Hungarian) on the same instance: our eligibility (incl. a
    common slot) as a Disqualify rule, our pair score as its score rule, one Munkres round per
    unit of capacity (it has no capacity or slot model: slot clashes are counted, not fixed)."""
    try:
        from matching import process
        from matching.mentee import Mentee as MMMentee
        from matching.mentor import Mentor as MMMentor
        from matching.rules import rule as rl
    except ImportError:
        return {"note": "mentor-match not installed (pip install mentor-match); skipped"}
    import numpy as np

    from solver import SolverConfig
    from solver.eligibility import Prepared
    from solver.flow import Arrays

    inst = _load(n, family, seed)
    cfg = SolverConfig(rules={"sessions_per_day": False})
    t = time.perf_counter()
    prep = Prepared(inst, cfg)
    arr = Arrays(prep)
    _, elig, score = arr.block(np.arange(arr.n_e))
    offset = int(-score.min()) + 1
    # its Person.__eq__ compares e-mail addresses, so every person needs a distinct one
    mentors = [MMMentor(grade=m.grade, email=f"{m.id}@mentor") for m in prep.mentors]
    mentees = [MMMentee(grade=e.grade, email=f"{e.id}@mentee") for e in prep.mentees]
    mi = {id(p): j for j, p in enumerate(mentors)}
    ei = {id(p): i for i, p in enumerate(mentees)}

    class OurScore:
        def apply(self, match):
            return int(score[ei[id(match.mentee)], mi[id(match.mentor)]]) + offset

        def evaluate(self, match):
            return True

    def disallowed(match):
        i, j = ei[id(match.mentee)], mi[id(match.mentor)]
        return (not elig[i, j]) or len(match.mentee.mentors) > 0 or (
            len(match.mentor.mentees) >= prep.mentors[j].capacity)

    rules = [[rl.Disqualify(disallowed), OurScore()] for _ in range(rounds)]
    process.process_data(mentors, mentees, rules)
    matched = total = prio = 0
    for i, e in enumerate(mentees):
        for mt in e.mentors:
            matched += 1
            total += int(score[i, mi[id(mt)]])
            prio += prep.mentees[i].priority
    return {"time": time.perf_counter() - t, "mem": _peak_mb(), "matched": matched,
            "prio": prio, "score": total, "rounds": rounds}


def _in_child(fn, *args):
    ctx = mp.get_context("spawn")
    with cf.ProcessPoolExecutor(max_workers=1, mp_context=ctx) as ex:
        return ex.submit(fn, *args).result()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,5000,20000")
    ap.add_argument("--families", default="dense,realistic")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--reference", action="store_true", help="exact reference even at 20k")
    ap.add_argument("--reference-max", type=int, default=5000)
    ap.add_argument("--no-mentor-match", action="store_true")
    ap.add_argument("--mentor-match-rounds", type=int, default=1)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    hdr = (f"{'family':10} {'n':>6} {'method':22} {'time s':>8} {'peak MB':>8} {'matched':>8} "
           f"{'prio':>5} {'score':>9} {'score %':>8} {'note'}")
    print(hdr)
    print("-" * len(hdr))
    for fam in args.families.split(","):
        for n in sizes:
            do_ref = n <= args.reference_max or args.reference
            last_ref = None
            for spd in (True, False):
                rows = []
                ref = None
                tag = "full rules" if spd else "no sess/day"
                if do_ref:
                    ref = _in_child(run_exact, n, fam, args.seed, spd)
                    rows.append((f"exact flow, {tag}", ref, f"arcs={ref['arcs']}"))
                fast = _in_child(run_fast, n, fam, args.seed, spd)
                rows.append((f"fast, {tag}", fast,
                             f"kept={fast['arcs']} pruned={fast['pruned']} "
                             f"viol={fast['violations']}"))
                if n <= 5000 and not spd:
                    g = _in_child(run_greedy, n, fam, args.seed)
                    rows.append(("greedy, no sess/day", g, ""))
                _print_rows(fam, n, rows, ref)
                if not spd:
                    last_ref = ref
            if n == 1000 and not args.no_mentor_match:
                mm = _in_child(run_mentor_match, n, fam, args.seed, args.mentor_match_rounds)
                if "note" in mm:
                    print(f"{fam:10} {n:>6} {'mentor-match':22} {mm['note']}", flush=True)
                else:
                    _print_rows(fam, n, [(f"mentor-match x{mm['rounds']}", mm,
                                          "Munkres rounds; no slot model")], last_ref)


def _print_rows(fam, n, rows, ref):
    for name, r, note in rows:
        pct = f"{100 * r['score'] / ref['score']:.3f}" if ref and ref["score"] else "-"
        mt = r["matched"]
        if ref:
            diff = mt - ref["matched"]
            note = ("= max " if diff == 0 else f"{diff:+d} ") + note
        print(f"{fam:10} {n:>6} {name:22} {r['time']:>8.2f} {r['mem']:>8.0f} {mt:>8} "
              f"{r['prio']:>5} {r['score']:>9} {pct:>8} {note}", flush=True)


if __name__ == "__main__":
    main()
