"""Solver benchmark at DEFAULT settings: ours vs the exact reference, per family and size.

    python bench/solver_bench.py                                  # 5 families x 1k, 5k, 20k
    python bench/solver_bench.py --families national              # 250k national cohort
    python bench/solver_bench.py --sizes 1000,5000 --baselines    # + naive top-30, greedy
    python bench/solver_bench.py --sizes 1000 --mentor-match      # + mentor-match (pip .[bench])

Families (bench/solver_instances.py): dense, realistic, skewed, sparse, rules, and national
(``--national-sizes``, default 250,000 mentees, 80,000 mentors in 38 provinces: decomposed by
``solver.solve`` itself; its limit is size-aware, see solver/decompose.py; its exact reference
is the flow over every eligible arc, streamed, national mentors included; its validation
checks every pair and mentor and the reasons of 2,000 unmatched mentees). Everything runs
with the default ``SolverConfig`` (full rule set, 30 s limit) plus the family's weights; each
measurement runs in a fresh process; memory is that process's peak RSS (ru_maxrss). Per family
and size it prints time, peak memory, matched vs the exact maximum, score as % of the exact
optimum, the proven gap, the status, whether the solver's runs gave byte-identical solution
JSON (``--runs``, default 2) and whether each run kept 1.05 x limit + 1 s. Rows:

* ``exact flow``: the min-cost flow over every eligible (mentee, mentor, slot) arc with the
  feasible locks and fixed pairs kept: the exact optimum of matched / priority / score / spread
  (exact because mentors offer non-overlapping blocks; see solver/slots.py);
* ``ours``: ``solver.solve``; status, bound and gap as it reports them (bound from LP duality);
* ``naive top-30``: the same exact flow, but each mentee keeps only its own 30 best mentors;
* ``greedy``: priority first, then mentee id: best-scoring mentor with room and a free slot;
* ``mentor-match`` (PyPI, Munkres rounds) at 1,000: our eligibility and score as its rules, one
  round per unit of the largest capacity; it has no slot model, so clashes are repaired by
  dropping the lowest-scoring pairs; how many is printed.
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
    """Peak RSS of this process or of its largest child (large flows run in a forked child)."""
    return max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
               resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024


_CONFIG: dict = {}


def _load(n: int, family: str, seed: int):
    from solver_instances import generate

    from solver import Instance

    d = generate(n, family, seed)
    _CONFIG.clear()
    _CONFIG.update(d.pop("config", {}))
    return Instance.from_dict(d)


def _config(seed: int, time_limit: float | None):
    """The default SolverConfig (plus the family's weights), the seed and, if given, a limit."""
    from solver import SolverConfig

    cfg = SolverConfig.from_dict({**_CONFIG, "seed": seed})
    if time_limit is not None:
        from dataclasses import replace

        cfg = replace(cfg, time_limit=time_limit)
    return cfg


def run_fast(n, family, seed, time_limit):
    import hashlib
    import json

    from solver import solve, validate
    from solver.decompose import wall_limit  # size-aware for a decomposed (national) solve

    inst = _load(n, family, seed)
    cfg = _config(seed, time_limit)
    t, c = time.perf_counter(), _cpu()
    sol = solve(inst, cfg)
    dt, cpu = time.perf_counter() - t, _cpu() - c
    mem = _peak_mb()
    digest = hashlib.sha256(json.dumps(sol.to_dict()).encode()).hexdigest()[:12]
    bad = validate(inst, sol, cfg) if n <= 30000 else _validate_sampled(inst, sol, cfg)
    st = sol.stats
    return {"time": dt, "mem": mem, "matched": st.matched, "prio": st.matched_priority,
            "score": st.objective, "violations": len(bad), "status": st.status,
            "bound": st.bound, "gap": st.gap, "loss": st.pruning.get("score_loss_bound"),
            "kept": st.pruning.get("pairs_kept"), "eligible": st.model.get("eligible_pairs"),
            "rounds": st.pruning.get("rounds"), "stop": st.safety_stop, "digest": digest,
            "limit": wall_limit(n, cfg), "cpu": cpu}


def _validate_sampled(inst, sol, cfg, sample=2000):
    """``validate`` at national size: every pair, mentor, lock and fixed pair, and the reasons
    of a deterministic sample of the unmatched mentees (checking every reason compares each of
    them with all 80,000 mentors)."""
    from solver import Solution, validate

    un = sol.unmatched[:: max(1, len(sol.unmatched) // sample)]
    part = Solution(sol.pairs, un, sol.infeasible_locks, sol.stats)
    return [p for p in validate(inst, part, cfg)
            if not p.endswith("neither paired nor listed as unmatched")]


def run_exact_national(n, family, seed):
    """The exact reference of a national instance: one min-cost flow over every eligible arc
    (streamed inside the components; the arcs to the national mentors included), the same
    network as ``flow.exact_reference`` without its dense pair table."""
    import numpy as np

    from solver.decompose import split, stream
    from solver.eligibility import Prepared
    from solver.flow import Arrays, Network
    from solver.model import Scheduler, check_locks

    inst = _load(n, family, seed)
    cfg = _config(seed, None)
    t = time.perf_counter()
    prep = Prepared(inst, cfg)
    locked, _ = check_locks(prep, Scheduler(prep))
    arr = Arrays(prep)
    pairs = stream(arr, split(prep), 1, cfg.num_workers)
    e, m, s = (pairs.e.astype(np.int64), pairs.m.astype(np.int64), pairs.s.astype(np.int64))
    del pairs
    res = Network(arr).solve(e, m, s, locked, np.ones(arr.n_e, dtype=bool))
    return {"time": time.perf_counter() - t, "mem": _peak_mb(), "matched": res.counts[2],
            "prio": int((arr.prio & (res.mentor >= 0)).sum()), "score": res.score,
            "arcs": res.arcs, "exact": arr.g == 1}


def _cpu() -> float:
    """CPU seconds of this process and its reaped children (large flows run in a child)."""
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def run_exact(n, family, seed):
    from solver.eligibility import Prepared
    from solver.flow import exact_reference
    from solver.model import Scheduler, check_locks

    inst = _load(n, family, seed)
    cfg = _config(seed, None)
    t = time.perf_counter()
    prep = Prepared(inst, cfg)
    locked, _ = check_locks(prep, Scheduler(prep))  # the feasible locks and fixed pairs
    ref = exact_reference(prep, locked=locked, workers=cfg.num_workers)
    return {"time": time.perf_counter() - t, "mem": _peak_mb(), "matched": ref["matched"],
            "prio": ref["matched_priority"], "score": ref["score"], "arcs": ref["arcs"],
            "exact": ref["exact"]}


def run_naive(n, family, seed, k=30):
    import numpy as np

    from solver.eligibility import Prepared
    from solver.flow import Arrays, Locked, Network, naive_top

    inst = _load(n, family, seed)
    cfg = _config(seed, None)
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
    cfg = _config(seed, None)
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
    cfg = _config(seed, None)
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


def _reference(fn, n, family, seed, fresh=False):
    """The exact reference (``fn`` in a child), cached in ~/.cache/mentormatch/bench under a
    key of the instance and of every source it depends on (``solver/``, the generator): a
    national reference takes about 15 minutes, a 20,000 one up to 8. ``fresh``: recompute."""
    import hashlib
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256(f"{fn.__name__}:{family}:{n}:{seed}".encode())
    for src in sorted((root / "solver").glob("*.py")) + [root / "bench/solver_instances.py"]:
        h.update(src.read_bytes())
    name = f"{family}-{n}-{seed}-{h.hexdigest()[:16]}.json"
    path = Path.home() / ".cache/mentormatch/bench" / name
    if path.exists() and not fresh:
        return {**json.loads(path.read_text()), "cached": True}
    ref = _in_child(fn, n, family, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(ref))
    return {**ref, "cached": False}


def _in_child(fn, *args):
    ctx = mp.get_context("spawn")
    with cf.ProcessPoolExecutor(max_workers=1, mp_context=ctx) as ex:
        return ex.submit(fn, *args).result()


HDR = (f"{'family':10} {'n':>6} {'method':15} {'time s':>7} {'peak MB':>8} {'matched':>8} "
       f"{'prio':>5} {'score':>9} {'% exact':>8}  note")


def _row(fam, n, name, r, ref, note=""):
    pct = f"{100 * r['score'] / ref['score']:.4f}" if ref and ref["score"] else "-"
    if ref:
        diff = r["matched"] - ref["matched"]
        note = ("matched = max; " if diff == 0 else f"matched {diff:+d}; ") + note
    print(f"{fam:10} {n:>6} {name:15} {r['time']:>7.2f} {r['mem']:>8.0f} {r['matched']:>8} "
          f"{r['prio']:>5} {r['score']:>9} {pct:>8}  {note}", flush=True)


def main() -> None:
    from solver_instances import FAMILIES

    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,5000,20000")
    ap.add_argument("--families", default=",".join(f for f in FAMILIES if f != "national"),
                    help="default: the five 1k-20k families; national: --families national")
    ap.add_argument("--national-sizes", default="250000",
                    help="sizes of the national family (it ignores --sizes)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--time-limit", type=float, default=None,
                    help="default: the SolverConfig default (30 s)")
    ap.add_argument("--no-reference", action="store_true", help="skip the exact reference")
    ap.add_argument("--fresh-reference", action="store_true",
                    help="recompute the exact reference even if a cached one matches")
    ap.add_argument("--reference-max", type=int, default=20000)
    ap.add_argument("--baselines", action="store_true", help="naive top-30, greedy (<= 5k)")
    ap.add_argument("--mentor-match", action="store_true", help="mentor-match at 1,000")
    ap.add_argument("--runs", type=int, default=2, help="solver runs per row (identity check)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(HDR)
    print("-" * len(HDR))
    for fam in args.families.split(","):
        national = fam == "national"
        for n in ([int(x) for x in args.national_sizes.split(",")] if national else sizes):
            ref = None
            if not args.no_reference and (national or n <= args.reference_max):
                ref = _reference(run_exact_national if national else run_exact, n, fam,
                                 args.seed, args.fresh_reference)
                kind = "exact" if ref["exact"] else "relaxation (upper bound)"
                _row(fam, n, "exact flow", ref, None, f"{kind}; arcs={ref['arcs']}"
                     + ("; cached (same sources)" if ref["cached"] else ""))
            runs = [_in_child(run_fast, n, fam, args.seed, args.time_limit)
                    for _ in range(max(1, args.runs))]
            f = runs[0]
            gap = "-" if f["gap"] is None else f"{100 * f['gap']:.4f}%"
            same = len({r["digest"] for r in runs}) == 1
            limit_ok = all(r["time"] <= 1.05 * r["limit"] + 1 for r in runs)
            _row(fam, n, "ours", f, ref,
                 f"{f['status']}; proven gap={gap}; {len(runs)} runs "
                 f"{'identical' if same else 'DIFFER'} ({f['digest']}); times "
                 f"{'/'.join(format(r['time'], '.1f') for r in runs)} s "
                 f"{'<=' if limit_ok else 'ABOVE'} 1.05 x {f['limit']:g} + 1; cpu "
                 f"{'/'.join(format(r['cpu'], '.1f') for r in runs)} s; "
                 f"load {os.getloadavg()[0]:.1f}; "
                 f"safety stop={f['stop']}; pruning kept {f['kept']} of {f['eligible']} pairs, "
                 f"rounds={f['rounds']}; violations={f['violations']}")
            if args.baselines and n <= 5000:
                _row(fam, n, "naive top-30", _in_child(run_naive, n, fam, args.seed), ref)
                _row(fam, n, "greedy", _in_child(run_greedy, n, fam, args.seed), ref)
            if n == 1000 and args.mentor_match:
                mm = _in_child(run_mentor_match, n, fam, args.seed)
                if "error" in mm:
                    raise SystemExit(mm["error"])
                _row(fam, n, "mentor-match", mm, ref,
                     f"{mm['rounds']} Munkres rounds; {mm['dropped']} slot clashes dropped; "
                     f"time x{mm['time'] / f['time']:.0f} ours")


if __name__ == "__main__":
    main()
