"""Solver benchmark: our solver vs the exact reference, naive top-30 pruning, greedy, mentor-match.

    python bench/solver_bench.py --sizes 1000,5000             # both families
    python bench/solver_bench.py --sizes 20000                 # fast path only at 20k
    python bench/solver_bench.py --sizes 20000 --reference     # + exact reference (~15 GB)

Everything runs with the default ``SolverConfig`` (full rule set). Each measurement runs in a
fresh process; memory is that process's peak RSS (ru_maxrss). Rows:

* ``exact flow``: the min-cost flow over every eligible (mentee, mentor, slot) arc: the exact
  optimum of matched / priority / score / spread (exact because mentors offer non-overlapping
  blocks; see solver/slots.py);
* ``ours``: ``solver.solve``; status, bound and gap as it reports them (bound from LP duality);
* ``naive top-30``: the same exact flow, but each mentee keeps only its own 30 best mentors;
* ``greedy``: priority first, then mentee id: best-scoring mentor with room and a free slot;
* ``mentor-match`` (PyPI, Munkres rounds; ``pip install -e .[bench]``) at 1,000: our eligibility
  and score as its rules, one round per unit of the largest capacity; it has no slot model, so
  clashes (two mentees of a mentor in overlapping or over-limit slots) are repaired by dropping
  the lowest-scoring pairs; how many is printed.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import multiprocessing as mp
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _load(n: int, family: str, seed: int):
    from solver_instances import generate

    from solver import Instance

    return Instance.from_dict(generate(n, family, seed))


def _config(seed: int, time_limit: float):
    from solver import SolverConfig

    return SolverConfig(time_limit=time_limit, seed=seed)


def run_fast(n, family, seed, time_limit):
    from solver import solve, validate

    inst = _load(n, family, seed)
    cfg = _config(seed, time_limit)
    t = time.perf_counter()
    sol = solve(inst, cfg)
    dt = time.perf_counter() - t
    mem = _peak_mb()
    bad = validate(inst, sol, cfg)
    st = sol.stats
    return {"time": dt, "mem": mem, "matched": st.matched, "prio": st.matched_priority,
            "score": st.objective, "violations": len(bad), "status": st.status,
            "bound": st.bound, "gap": st.gap, "loss": st.pruning.get("score_loss_bound"),
            "kept": st.pruning["pairs_kept"], "eligible": st.model["eligible_pairs"],
            "rounds": st.pruning["rounds"]}


def run_exact(n, family, seed):
    from solver.eligibility import Prepared
    from solver.flow import exact_reference

    inst = _load(n, family, seed)
    cfg = _config(seed, 60)
    t = time.perf_counter()
    ref = exact_reference(Prepared(inst, cfg), workers=cfg.num_workers)
    return {"time": time.perf_counter() - t, "mem": _peak_mb(), "matched": ref["matched"],
            "prio": ref["matched_priority"], "score": ref["score"], "arcs": ref["arcs"],
            "exact": ref["exact"]}


def run_naive(n, family, seed, k=30):
    import numpy as np

    from solver.eligibility import Prepared
    from solver.flow import Arrays, Locked, Network, naive_top

    inst = _load(n, family, seed)
    cfg = _config(seed, 60)
    t = time.perf_counter()
    arr = Arrays(Prepared(inst, cfg))
    mat, _ok, _el, neg = arr.matrix(cfg.num_workers)
    e, m, s = naive_top(mat, neg, k)
    res = Network(arr).solve(e, m, s, Locked(), np.ones(arr.n_e, dtype=bool))
    return {"time": time.perf_counter() - t, "mem": _peak_mb(), "matched": res.counts[2],
            "prio": int((arr.prio & (res.mentor >= 0)).sum()), "score": res.score}


def run_greedy(n, family, seed):
    """Priority first, then mentee id: best-scoring eligible mentor with room and a free slot."""
    import numpy as np

    from solver.eligibility import Prepared
    from solver.flow import Arrays
    from solver.model import Scheduler
    from solver.slots import bits

    inst = _load(n, family, seed)
    cfg = _config(seed, 60)
    t = time.perf_counter()
    prep = Prepared(inst, cfg)
    arr = Arrays(prep)
    mat, _ok, _el, neg = arr.matrix(cfg.num_workers)
    sched = Scheduler(prep)
    room = arr.cap.copy()
    taken: list[list[int]] = [[] for _ in range(arr.n_m)]
    order = sorted(range(arr.n_e), key=lambda i: (not prep.mentees[i].priority, i))
    matched = score = prio = 0
    for i in order:
        row = mat[i].astype(np.int64)
        js = np.nonzero(row > neg)[0]
        for j in js[np.argsort(-row[js], kind="stable")].tolist():
            if room[j] <= 0:
                continue
            b = sched.free(j, taken[j], bits(prep.common(i, j)))
            if b is not None:
                taken[j].append(b)
                room[j] -= 1
                matched += 1
                score += int(row[j])
                prio += prep.mentees[i].priority
                break
    return {"time": time.perf_counter() - t, "mem": _peak_mb(), "matched": matched,
            "prio": prio, "score": score}


def run_mentor_match(n, family, seed):
    """mentor-match on the same instance. Its rules, mapped as closely as it allows: our pair
    rules (incl. a common slot) and the mentor's capacity as ``Disqualify`` rules, our pair score
    plus a priority bonus as its score; one Munkres round per unit of the largest capacity (a
    round gives every mentor at most one mentee). Slot clashes are then repaired per mentor by
    dropping the lowest-scoring mentees until the rest fit; the count is reported."""
    try:
        from matching import process
        from matching.mentee import Mentee as MMMentee
        from matching.mentor import Mentor as MMMentor
        from matching.rules import rule as rl
    except ImportError:
        return {"error": "mentor-match is not installed: pip install -e .[bench]"}

    from solver.eligibility import Prepared
    from solver.flow import Arrays
    from solver.model import Scheduler
    from solver.slots import bits

    inst = _load(n, family, seed)
    cfg = _config(seed, 60)
    t = time.perf_counter()
    prep = Prepared(inst, cfg)
    arr = Arrays(prep)
    mat, _ok, _el, neg = arr.matrix(1)
    offset = int(-mat[mat > neg].min()) + 1 if (mat > neg).any() else 1
    prio_bonus = 2 * (arr.max_abs_score + offset)
    # its Person.__eq__ compares e-mail addresses, so every person needs a distinct one
    mentors = [MMMentor(grade=m.grade, email=f"{m.id}@mentor") for m in prep.mentors]
    mentees = [MMMentee(grade=e.grade, email=f"{e.id}@mentee") for e in prep.mentees]
    mi = {id(p): j for j, p in enumerate(mentors)}
    ei = {id(p): i for i, p in enumerate(mentees)}

    class OurScore:
        def apply(self, match):
            i, j = ei[id(match.mentee)], mi[id(match.mentor)]
            return int(mat[i, j]) + offset + (prio_bonus if arr.prio[i] else 0)

        def evaluate(self, match):
            return True

    def disallowed(match):
        i, j = ei[id(match.mentee)], mi[id(match.mentor)]
        return bool(mat[i, j] <= neg or len(match.mentee.mentors) > 0
                    or len(match.mentor.mentees) >= prep.mentors[j].capacity)

    rounds = int(arr.cap.max()) if arr.n_m else 0
    process.process_data(mentors, mentees, [[rl.Disqualify(disallowed), OurScore()]
                                            for _ in range(rounds)])
    elapsed = time.perf_counter() - t
    sched = Scheduler(prep)
    matched = total = prio = dropped = 0
    for j, mt in enumerate(mentors):
        group = sorted((ei[id(e)] for e in mt.mentees), key=lambda i: (-int(mat[i, j]), i))
        keep: list[int] = []
        for i in group:
            if sched.fits(j, [(x, bits(prep.common(x, j))) for x in keep + [i]]) is None:
                dropped += 1
            else:
                keep.append(i)
        for i in keep:
            matched += 1
            total += int(mat[i, j])
            prio += bool(arr.prio[i])
    return {"time": elapsed, "mem": _peak_mb(), "matched": matched, "prio": prio,
            "score": total, "rounds": rounds, "dropped": dropped}


def _in_child(fn, *args):
    ctx = mp.get_context("spawn")
    with cf.ProcessPoolExecutor(max_workers=1, mp_context=ctx) as ex:
        return ex.submit(fn, *args).result()


HDR = (f"{'family':10} {'n':>6} {'method':15} {'time s':>7} {'peak MB':>8} {'matched':>8} "
       f"{'prio':>5} {'score':>9} {'% exact':>8}  note")


def _row(fam, n, name, r, ref, note=""):
    pct = f"{100 * r['score'] / ref['score']:.3f}" if ref and ref["score"] else "-"
    if ref:
        diff = r["matched"] - ref["matched"]
        note = ("matched = max; " if diff == 0 else f"matched {diff:+d}; ") + note
    print(f"{fam:10} {n:>6} {name:15} {r['time']:>7.2f} {r['mem']:>8.0f} {r['matched']:>8} "
          f"{r['prio']:>5} {r['score']:>9} {pct:>8}  {note}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,5000,20000")
    ap.add_argument("--families", default="dense,realistic")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--reference", action="store_true", help="exact reference even above 5k")
    ap.add_argument("--reference-max", type=int, default=5000)
    ap.add_argument("--no-baselines", action="store_true", help="skip naive top-30 and greedy")
    ap.add_argument("--no-mentor-match", action="store_true")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(HDR)
    print("-" * len(HDR))
    for fam in args.families.split(","):
        for n in sizes:
            ref = None
            if n <= args.reference_max or args.reference:
                ref = _in_child(run_exact, n, fam, args.seed)
                kind = "exact" if ref["exact"] else "relaxation (upper bound)"
                _row(fam, n, "exact flow", ref, None, f"{kind}; arcs={ref['arcs']}")
            f = _in_child(run_fast, n, fam, args.seed, args.time_limit)
            gap = "-" if f["gap"] is None else f"{100 * f['gap']:.4f}%"
            _row(fam, n, "ours", f, ref,
                 f"{f['status']}; bound={f['bound']} gap={gap}; pruning kept {f['kept']} of "
                 f"{f['eligible']} pairs, loss<={f['loss']}; rounds={f['rounds']}; "
                 f"violations={f['violations']}")
            if not args.no_baselines and (n <= 5000 or args.reference):
                _row(fam, n, "naive top-30", _in_child(run_naive, n, fam, args.seed), ref)
                _row(fam, n, "greedy", _in_child(run_greedy, n, fam, args.seed), ref)
            if n == 1000 and not args.no_mentor_match:
                mm = _in_child(run_mentor_match, n, fam, args.seed)
                if "error" in mm:
                    raise SystemExit(mm["error"])
                _row(fam, n, "mentor-match", mm, ref,
                     f"{mm['rounds']} Munkres rounds; {mm['dropped']} slot clashes dropped; "
                     f"time x{mm['time'] / f['time']:.0f} ours")


if __name__ == "__main__":
    main()
