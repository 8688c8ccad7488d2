"""Decomposed solve for national cohorts (hundreds of thousands of mentees).

The dense pair table of ``model.solve`` (mentees x mentors) cannot exist at 250,000 x 80,000.
But with the mode and in-person rules on, a mentor who only meets in person can only have
mentees of their own city: the cities (provinces) are the connected components of the
eligibility graph without the *national* mentors (every mentor who can meet online), and only
those link the components. So:

1. ``split``: the components (city -> its mentees and in-person-only mentors) and the linking
   mentors;
2. ``stream``: every eligible pair, block by block, inside a component (its mentees x its own
   mentors, plus the linking mentors for the mentees who can meet online): arcs are streamed
   into compact arrays, never a dense table; each mentee's top-K and a capacity-aware mentor
   side are the first candidate arcs;
3. ``flow``: one min-cost flow over the whole network (``flow.Network``) on the candidate arcs.
   The matched counts are proven by the residual cut and the score by reduced-cost pricing of
   every streamed arc against the flow's potentials (the arcs between components are priced
   with the same duals as the others). What pricing leaves gives a proven upper bound;
4. ``components``: each component is solved by the public ``model.solve`` with its own
   mentors plus a *slice* of each linking mentor: the capacity and the weekly blocks the flow
   gave that component (disjoint across components, so the union is feasible), hinted with the
   flow's pairs. Each component can only improve on the flow's restriction to it;
5. merge: pairs, unmatched mentees (reasons recomputed over every mentor, the linking ones
   too), stats with the global bound and gap.

Determinism: decisions use work budgets (``pricing_rounds``, ``pricing_tolerance``, arcs);
the wall clock only guards (``stats.safety_stop``). The wall-clock limit of a decomposed solve
is size-aware: ``max(time_limit, SECONDS_PER_MENTEE * mentees)`` (600 s at 250,000), since 30 s
cannot even read a national instance; each component solve keeps ``time_limit``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .eligibility import ONLINE, Prepared
from .flow import Arr, Arrays, FlowResult, FlowTimeout, Locked, Network, Triple
from .model import Scheduler, check_locks, hint_links
from .model import solve as solve_one
from .schema import Instance, Link, Mentor, Solution, SolverConfig, Stats, Unmatched

# instances with at least this many mentees and two or more components are decomposed
DECOMPOSE_MIN_MENTEES = 30_000
SECONDS_PER_MENTEE = 0.0024  # size-aware wall-clock limit of a decomposed solve
BLOCK_CELLS = 2_000_000
CHUNK = 4_000_000  # pairs per vectorised pricing chunk
WEEK = 7 * 1440


@dataclass
class Split:
    """Components of the eligibility graph without the linking mentors (indices of
    ``Prepared``): ``groups`` = (key, mentee indices, own mentor indices)."""

    groups: list[tuple[str, Arr, Arr]]
    linking: Arr  # mentors who can meet online: eligible across components


def split(prep: Prepared) -> Split | None:
    """The components, or None when the rules make every mentor potentially national (mode or
    in-person rule off)."""
    cfg = prep.config
    if not (cfg.rule("mode") and cfg.rule("same_city_in_person")):
        return None
    keys: dict[str, int] = {}
    e_key = np.array([keys.setdefault(e.city, len(keys)) for e in prep.mentees], dtype=np.int64)
    m_key = np.array([keys.setdefault(m.city, len(keys)) for m in prep.mentors], dtype=np.int64)
    local = np.array([m.mode not in ONLINE for m in prep.mentors], dtype=bool)
    names = sorted(keys, key=lambda k: keys[k])
    groups = []
    for k, name in enumerate(names):
        es = np.nonzero(e_key == k)[0]
        ms = np.nonzero((m_key == k) & local)[0]
        if len(es) or len(ms):
            groups.append((name, es, ms))
    return Split(groups, np.nonzero(~local)[0])


def solve(instance: Instance, config: SolverConfig | None = None, hint: Any = None,
          progress: Callable[[dict[str, Any]], Any] | None = None) -> Solution:
    """The solver's entry point: a large instance whose eligibility graph has several
    components (a national cohort) is decomposed, anything else goes to ``model.solve``."""
    cfg = config or SolverConfig()
    if len(instance.mentees) >= DECOMPOSE_MIN_MENTEES and instance.mentors:
        prep = Prepared(instance, cfg)
        parts = split(prep)
        if parts is not None and len(parts.groups) > 1:
            return solve_decomposed(instance, cfg, hint, progress, prep, parts)
    return solve_one(instance, cfg, hint, progress)


class _Report:
    def __init__(self, fn: Callable[[dict[str, Any]], Any] | None, t0: float):
        self.fn, self.t0 = fn, t0

    def __call__(self, phase: str, matched: int | None = None, objective: int | None = None,
                 bound: int | None = None) -> None:
        if self.fn is None:
            return
        try:
            self.fn({"phase": phase, "elapsed": round(time.perf_counter() - self.t0, 3),
                     "matched": matched, "objective": objective, "bound": bound})
        except Exception:  # noqa: BLE001 - a broken callback must never break the solve
            self.fn = None


@dataclass
class Pairs:
    """Every eligible pair (streamed), the first candidates and per-mentee counts."""

    e: Arr  # int32 mentee
    m: Arr  # int32 mentor
    s: Arr  # int32 score
    n_ok: Arr  # per mentee: mentors passing the pair rules ignoring time
    n_el: Arr  # per mentee: eligible mentors (with a common slot)
    top: Arr  # indices into (e, m, s) of each mentee's top-K


def stream(arr: Arrays, parts: Split, k: int, workers: int) -> Pairs:
    """Every eligible pair, evaluated block by block inside the components only."""
    lk = parts.linking
    m_city = arr.m_city
    jobs: list[tuple[Arr, Arr]] = []
    for _name, es, ms in parts.groups:
        if not len(es):
            continue
        on = arr.e_on[es]
        city = arr.e_city[es[0]]
        lk_here = lk[m_city[lk] == city] if city >= 0 else lk[:0]
        for rows, cols in ((es[on], np.concatenate([ms, lk])),
                           (es[~on], np.concatenate([ms, lk_here]))):
            cols = np.sort(cols)
            if not len(rows) or not len(cols):
                continue
            step = max(1, BLOCK_CELLS // len(cols))
            for s0 in range(0, len(rows), step):
                jobs.append((rows[s0:s0 + step], cols))

    def one(job: tuple[Arr, Arr]) -> tuple[Arr, Arr, Arr, Arr, Arr, Arr, Arr]:
        rows, cols = job
        ok, elig, score = arr.block(rows, cols)
        ii, jj = np.nonzero(elig)
        kk = min(k, len(cols))
        val = np.where(elig, score, np.int32(-(1 << 30)))
        top = np.argpartition(-val, kk - 1, axis=1)[:, :kk] if kk < len(cols) else \
            np.tile(np.arange(len(cols)), (len(rows), 1))
        tv = np.take_along_axis(val, top, 1)
        ti, tk = np.nonzero(tv > -(1 << 30))
        # mark the top-K among this block's pairs (row-major order of np.nonzero)
        pos = np.cumsum(elig.ravel()) - 1
        top_idx = pos[ti * len(cols) + top[ti, tk]]
        return (rows[ii].astype(np.int32), cols[jj].astype(np.int32),
                score[ii, jj].astype(np.int32), rows, ok.sum(1), elig.sum(1), top_idx)

    if workers > 1 and len(jobs) > 1:
        with ThreadPoolExecutor(max_workers=workers) as ex:
            results = list(ex.map(one, jobs))
    else:
        results = [one(j) for j in jobs]
    n_ok = np.zeros(arr.n_e, dtype=np.int64)
    n_el = np.zeros(arr.n_e, dtype=np.int64)
    es, ms, ss, tops = [], [], [], []
    off = 0
    for e, m, s, rows, nok, nel, top_idx in results:  # job order: deterministic
        es.append(e)
        ms.append(m)
        ss.append(s)
        tops.append(top_idx + off)
        off += len(e)
        n_ok[rows] += nok
        n_el[rows] += nel
    del results
    return Pairs(_cat(es, np.int32), _cat(ms, np.int32), _cat(ss, np.int32), n_ok, n_el,
                 _cat(tops, np.int64))


def _cat(parts: list[Arr], dtype: Any) -> Arr:
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype)


def _rank_in_group(group: Arr, key: Arr) -> tuple[Arr, Arr]:
    """(order, rank): pairs sorted by (group, key), and each one's rank inside its group."""
    order = np.lexsort((key, group))
    g = group[order]
    start = np.searchsorted(g, g, side="left")
    return order, np.arange(len(order)) - start


def initial_candidates(arr: Arrays, pairs: Pairs, locked_rows: Arr, f_mentor: int,
                       f_regret: int) -> Arr:
    """Indices of the first candidate arcs: each mentee's top-K, each mentor capacity*F
    eligible mentees in a seeded spread-out order (a random bipartite graph over all capacity:
    nearly every mentee who can be matched is matched by the first flow) and capacity*f_regret
    mentees for whom it is worth the most above their K-th best (a cheap dual estimate)."""
    e, m, s = pairs.e, pairs.m, pairs.s
    keep = np.zeros(len(e), dtype=bool)
    keep[pairs.top] = True
    seed = np.uint64((arr.prep.config.seed * 2654435761 + 1) % (1 << 64))
    h = (e.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
         + m.astype(np.uint64) * np.uint64(0xBF58476D1CE4E5B9) + seed)
    h ^= h >> np.uint64(31)
    noise = (h % np.uint64(1 << 20)).astype(np.int64)
    del h
    order, rank = _rank_in_group(m, noise)
    keep[order[rank < (arr.cap[m[order]] * f_mentor)]] = True
    del order, rank, noise
    if f_regret and len(pairs.top):
        outside = np.zeros(arr.n_e, dtype=np.int64)
        te, ts = e[pairs.top], s[pairs.top].astype(np.int64)
        outside_low = np.full(arr.n_e, 1 << 40, dtype=np.int64)
        np.minimum.at(outside_low, te, ts)
        has = outside_low < (1 << 40)
        outside[has] = outside_low[has]
        gain = -(s.astype(np.int64) - outside[e])
        order, rank = _rank_in_group(m, gain)
        keep[order[rank < (arr.cap[m[order]] * f_regret)]] = True
    if len(locked_rows):
        keep &= ~np.isin(e, locked_rows)
    return np.nonzero(keep)[0]


def _bad_words(net: Network, arr: Arrays, bad_node: Arr) -> Arr:
    flag = np.zeros(net.node_of.shape, dtype=bool)
    have = net.node_of >= 0
    flag[have] = bad_node[net.node_of[have]]
    pad = np.zeros((arr.n_m, arr.n_words * 64), dtype=np.uint8)
    pad[:, : arr.n_slots] = flag
    return np.packbits(pad, axis=1, bitorder="little").view(np.uint64).reshape(
        arr.n_m, arr.n_words).copy()


def _any_common(a: Arr, b: Arr) -> Arr:
    out: Arr = ((a & b) != 0).any(axis=1)
    return out


def cut_streamed(net: Network, res: FlowResult, arr: Arrays, pairs: Pairs, in_net: Arr,
                 per_mentee: int) -> tuple[Arr, int]:
    """Pruned eligible arcs leaving the residual cut of unmatched (priority) mentees (see
    ``flow.cut_violations``), over the streamed pairs. None = the counts are maximal."""
    locked = res.net["is_locked"]
    act = res.net["active"]
    rows = np.nonzero(act & ~locked & (res.mentor < 0))[0]
    z = net.reachable(res, rows)
    un_p = rows[arr.prio[rows]]
    zp = net.reachable(res, un_p) if len(un_p) else np.zeros(net.n_nodes, dtype=bool)
    bad_z, bad_p = _bad_words(net, arr, ~z), _bad_words(net, arr, ~zp)
    found: list[Arr] = []
    n_viol = 0
    for c0 in range(0, len(pairs.e), CHUNK):
        e = pairs.e[c0:c0 + CHUNK].astype(np.int64)
        m = pairs.m[c0:c0 + CHUNK].astype(np.int64)
        cand = z[e] & ~locked[e] & ~in_net[c0:c0 + CHUNK]
        idx = np.nonzero(cand)[0]
        if not len(idx):
            continue
        ew = arr.e_words[e[idx]]
        viol = _any_common(ew, bad_z[m[idx]]) | (zp[e[idx]] & _any_common(ew, bad_p[m[idx]]))
        idx = idx[viol]
        n_viol += len(idx)
        found.append(idx + c0)
    if not found:
        return np.zeros(0, np.int64), n_viol
    return _per_mentee_best(pairs, np.concatenate(found), pairs.s[np.concatenate(found)]
                            .astype(np.int64), per_mentee), n_viol


def _per_mentee_best(pairs: Pairs, idx: Arr, val: Arr, k: int) -> Arr:
    order = np.lexsort((-val, pairs.e[idx]))
    idx = idx[order]
    g = pairs.e[idx]
    first = np.searchsorted(g, g, side="left")
    out: Arr = idx[(np.arange(len(idx)) - first) < k]
    return out


def price_streamed(net: Network, res: FlowResult, d: Arr, arr: Arrays, pairs: Pairs,
                   in_net: Arr, per_mentee: int) -> tuple[Arr, int]:
    """Reduced-cost pricing of every streamed pair against the potentials ``d`` (see
    ``flow.price``). Returns (arcs to add, sum over mentees of the largest violation): the
    full relaxation's optimum <= the restricted phase-B optimum + that sum (LP duality)."""
    unit = int(res.net["unit_score"])
    locked = res.net["is_locked"]
    node_d = np.where(net.node_of >= 0, d[np.maximum(net.node_of, 0)], np.iinfo(np.int64).min)
    dmax = node_d.max(axis=1) if arr.n_slots else np.zeros(arr.n_m, np.int64)
    per_row = np.zeros(arr.n_e, dtype=np.int64)
    found: list[Arr] = []
    vals: list[Arr] = []
    one = np.uint64(1)
    for c0 in range(0, len(pairs.e), CHUNK):
        e = pairs.e[c0:c0 + CHUNK].astype(np.int64)
        m = pairs.m[c0:c0 + CHUNK].astype(np.int64)
        s = pairs.s[c0:c0 + CHUNK].astype(np.int64)
        cand = ~in_net[c0:c0 + CHUNK] & ~locked[e] & (s * unit + dmax[m] - d[e] > 0)
        idx = np.nonzero(cand)[0]
        if not len(idx):
            continue
        ei, mi = e[idx], m[idx]
        common = arr.e_words[ei] & arr.m_words[mi]
        best = np.full(len(idx), np.iinfo(np.int64).min, dtype=np.int64)
        for c in range(arr.n_slots):
            has = ((common[:, c // 64] >> np.uint64(c % 64)) & one).astype(bool)
            if has.any():
                best = np.where(has, np.maximum(best, node_d[mi, c]), best)
        exact = s[idx] * unit + best - d[ei]
        pos = exact > 0
        if not pos.any():
            continue
        np.maximum.at(per_row, ei[pos], exact[pos])
        found.append(idx[pos] + c0)
        vals.append(exact[pos])
    total = int(per_row.sum())
    if not found:
        return np.zeros(0, np.int64), total
    return _per_mentee_best(pairs, np.concatenate(found), np.concatenate(vals), per_mentee), \
        total


@dataclass
class Flow:
    res: FlowResult
    counts_proven: bool
    score_proven: bool
    bound: int | None
    loss_bound: int | None
    rounds: int
    kept: int
    kept0: int
    log: list[dict[str, Any]]
    stop: str | None


def global_flow(arr: Arrays, net: Network, pairs: Pairs, locked: Locked,
                hint_map: dict[int, tuple[int, int | None]], cfg: SolverConfig,
                deadline: float) -> Flow:
    """The min-cost flow over the whole network on candidate arcs, then cut rounds (counts)
    and pricing rounds (score) over every streamed pair, within ``pricing_rounds``."""
    active = np.ones(arr.n_e, dtype=bool)
    lrows = np.array(sorted(locked.mentor), dtype=np.int64)
    active[lrows] = False
    idx = initial_candidates(arr, pairs, lrows, cfg.top_k_mentor_factor, 4)
    kept0 = len(idx)
    in_net = np.zeros(len(pairs.e), dtype=bool)
    in_net[idx] = True

    def arcs() -> Triple:
        sel = np.nonzero(in_net)[0]
        return (pairs.e[sel].astype(np.int64), pairs.m[sel].astype(np.int64),
                pairs.s[sel].astype(np.int64))

    net.deadline = deadline
    log: list[dict[str, Any]] = []
    stop: str | None = None
    res = net.solve(*arcs(), locked, active, hint_map, phases="A")
    counts_proven = score_proven = False
    rounds = 0
    bound: int | None = None
    loss: int | None = None
    while True:  # counts: cut rounds
        add, nv = cut_streamed(net, res, arr, pairs, in_net, 2 * cfg.pricing_per_mentee)
        log.append({"kind": "cut", "violations": nv, "added": len(add)})
        if nv == 0:
            counts_proven = True
            res = net.solve(*arcs(), locked, active, hint_map, phases="B",
                            counts=res.net["raw"])
            break
        if rounds >= cfg.pricing_rounds or time.perf_counter() > deadline:
            stop = None if rounds >= cfg.pricing_rounds else "pricing"
            res = net.solve(*arcs(), locked, active, hint_map)
            break
        rounds += 1
        in_net[add] = True
        res = net.solve(*arcs(), locked, active, hint_map, phases="A")
    while counts_proven:  # score: pricing rounds
        if time.perf_counter() > deadline:
            stop = "pricing"
            break
        d, converged = net.potentials(res)
        if not converged:
            break
        per = cfg.pricing_per_mentee * (2 if rounds == 0 else 1)
        add, viol = price_streamed(net, res, d, arr, pairs, in_net, per)
        lv = res.levels
        log.append({"kind": "price", "violation": viol, "added": len(add)})
        spread_term = lv["spread_max"] * lv["unit_spread"] if lv["spread"] else 0
        b = (res.objective_b + viol + spread_term) // lv["unit_score"]
        bound = b if bound is None else min(bound, b)
        loss = -(-viol // lv["unit_score"])
        if viol == 0:
            score_proven = True
            break
        if loss <= cfg.pricing_tolerance * max(1, res.score):
            break
        if len(add) == 0 or rounds >= cfg.pricing_rounds:
            break
        rounds += 1
        in_net[add] = True
        res = net.solve(*arcs(), locked, active, hint_map, phases="B", counts=res.net["raw"])
    return Flow(res, counts_proven, score_proven, bound, loss, rounds, int(in_net.sum()),
                kept0, log, stop)


def _slice(m: Mentor, starts: list[int], length: int) -> Mentor:
    """The part of a linking mentor given to one component: as many mentees as the flow gave
    it, and only the weekly blocks they got (everything else is busy), so the components'
    slices never share a session."""
    free = sorted(iv for b in starts for iv in (
        ((b, b + length),) if b + length <= WEEK else ((b, WEEK), (0, b + length - WEEK))))
    busy: list[tuple[int, int]] = []
    t = 0
    for a, b in free:
        if a > t:
            busy.append((t, a))
        t = max(t, b)
    if t < WEEK:
        busy.append((t, WEEK))
    return replace(m, capacity=len(starts), busy=tuple(sorted({*m.busy, *busy})))


def solve_decomposed(instance: Instance, cfg: SolverConfig, hint: Any = None,
                     progress: Callable[[dict[str, Any]], Any] | None = None,
                     prep: Prepared | None = None, parts: Split | None = None) -> Solution:
    """See the module doc. Public for the tests and the bench (``solve`` picks it by itself
    from ``DECOMPOSE_MIN_MENTEES`` mentees on)."""
    t0 = time.perf_counter()
    report = _Report(progress, t0)
    limit = max(cfg.time_limit, SECONDS_PER_MENTEE * len(instance.mentees))
    deadline = t0 + 0.6 * limit  # the component solves and the merge keep the rest
    timing: dict[str, Any] = {}
    prep = prep or Prepared(instance, cfg)
    parts = parts or split(prep)
    if parts is None:
        return solve_one(instance, cfg, hint, progress)
    t = time.perf_counter()
    arr = Arrays(prep)
    sched = Scheduler(prep)
    locked, infeasible = check_locks(prep, sched)
    step = cfg.slot_step_minutes
    hint_map: dict[int, tuple[int, int | None]] = {}
    for h in hint_links(instance, hint):
        i, j = prep.mentee_idx.get(h.mentee), prep.mentor_idx.get(h.mentor)
        if i is not None and j is not None:
            hint_map[i] = (j, h.slot // step if h.slot is not None and h.slot % step == 0
                           else None)
    timing["prepare"] = round(time.perf_counter() - t, 3)
    report("locks")
    t = time.perf_counter()
    pairs = stream(arr, parts, cfg.top_k_mentee or 16, max(1, cfg.num_workers))
    timing["stream"] = round(time.perf_counter() - t, 3)
    report("pairs")
    t = time.perf_counter()
    net = Network(arr, spread=cfg.spread_load)
    try:
        fl = global_flow(arr, net, pairs, locked, hint_map, cfg, deadline)
    except FlowTimeout:
        # the safety stop: no national flow; each component alone, linking mentors unused
        fl = None
    timing["flow"] = round(time.perf_counter() - t, 3)
    if fl is not None:
        report("pricing", fl.res.counts[2], fl.res.score, fl.bound)
    # components with slices of the linking mentors
    t = time.perf_counter()
    assign = fl.res.mentor if fl is not None else np.full(arr.n_e, -1, np.int64)
    node = fl.res.node if fl is not None else np.full(arr.n_e, -1, np.int64)
    is_link = np.zeros(arr.n_m, dtype=bool)
    is_link[parts.linking] = True
    start_of = net.slot_key // 7  # g == 1 with mentor blocks: the key is start * 7 + day
    accepted = {(prep.mentees[i].id, prep.mentors[j].id) for i, j in locked.mentor.items()}
    sols: list[tuple[Instance, Solution]] = []
    stops: list[str] = []
    for _name, es, ms in parts.groups:
        slices: dict[int, list[int]] = {}
        links: list[Link] = []
        for i in es.tolist():
            j = int(assign[i])
            if j < 0:
                continue
            b = int(start_of[int(node[i]) - net.s0]) if node[i] >= 0 else None
            if is_link[j] and b is not None:
                slices.setdefault(j, []).append(b)
            links.append(Link(prep.mentees[i].id, prep.mentors[j].id,
                              None if b is None else b * step))
        mentors = [prep.mentors[j] for j in ms.tolist()]
        mentors += [_slice(prep.mentors[j], [b * step for b in bs], cfg.session_minutes)
                    for j, bs in sorted(slices.items())]
        ids = {prep.mentees[i].id for i in es.tolist()}
        keep_link = [p for p in instance.locks if p.mentee in ids and (p.mentee, p.mentor)
                     in accepted]
        sub = Instance(
            mentors=tuple(mentors), mentees=tuple(prep.mentees[i] for i in es.tolist()),
            locks=tuple(keep_link),
            forbids=tuple(p for p in instance.forbids if p.mentee in ids),
            previous_pairs=tuple(p for p in instance.previous_pairs if p.mentee in ids),
            fixed=tuple(p for p in instance.fixed if p.mentee in ids and (p.mentee, p.mentor)
                        in accepted),
            holidays=instance.holidays)
        sol = solve_one(sub, cfg, hint=links)
        if sol.stats.safety_stop:
            stops.append(sol.stats.safety_stop)
        sols.append((sub, sol))
        report("components", None, None, None)
    timing["components"] = round(time.perf_counter() - t, 3)
    return _merge(prep, arr, pairs, sols, fl, infeasible, timing, t0, stops, report,
                  len(parts.linking))


def _merge(prep: Prepared, arr: Arrays, pairs: Pairs, sols: list[tuple[Instance, Solution]],
           fl: Flow | None, infeasible: list[dict[str, Any]], timing: dict[str, Any],
           t0: float, stops: list[str], report: _Report, n_linking: int) -> Solution:
    all_pairs = sorted((p for _s, sol in sols for p in sol.pairs), key=lambda p: p.mentee)
    comp_un = {u.mentee: u for _s, sol in sols for u in sol.unmatched}
    load = np.zeros(arr.n_m, dtype=np.int64)
    for p in all_pairs:
        load[prep.mentor_idx[p.mentor]] += 1
    # reasons over every mentor, the linking ones too (a component only saw its slices)
    un_rows = np.array(sorted(prep.mentee_idx[k] for k in comp_un), dtype=np.int64)
    is_un = np.zeros(arr.n_e, dtype=bool)
    is_un[un_rows] = True
    room = np.zeros(arr.n_e, dtype=np.int64)
    for c0 in range(0, len(pairs.e), CHUNK):
        e = pairs.e[c0:c0 + CHUNK]
        m = pairs.m[c0:c0 + CHUNK]
        sel = is_un[e] & (load[m] < arr.cap[m])
        np.add.at(room, e[sel], 1)
    unmatched: list[Unmatched] = []
    for i in un_rows.tolist():
        e_id = prep.mentees[i].id
        u = comp_un[e_id]
        if u.reason == "time_limit":
            unmatched.append(u)
        elif pairs.n_ok[i] == 0:
            unmatched.append(Unmatched(e_id, "no_eligible_mentor", {}))
        elif pairs.n_el[i] == 0:
            unmatched.append(Unmatched(e_id, "no_common_time", {"eligible": 0}))
        elif room[i] == 0:
            unmatched.append(Unmatched(e_id, "capacity_taken",
                                       {"eligible": int(pairs.n_el[i]), "with_room": 0}))
        else:
            unmatched.append(Unmatched(e_id, "no_common_time", {
                "eligible": int(pairs.n_el[i]), "with_room": int(room[i]),
                "day_limit": int(u.params.get("day_limit", 0))}))
    objective = sum(p.score for p in all_pairs)
    prio = sum(1 for p in all_pairs if prep.mentees[prep.mentee_idx[p.mentee]].priority)
    st = Stats(objective=objective, matched=len(all_pairs), matched_priority=prio,
               load_spread=int((load * (load - 1) // 2).sum()))
    proven = (fl is not None and fl.counts_proven and fl.score_proven
              and objective >= fl.res.score)
    st.status = "OPTIMAL" if proven else "FEASIBLE"
    if fl is not None and fl.counts_proven:
        st.matched_bound = fl.res.counts[2]
    bound = fl.bound if fl is not None else None
    st.bound = objective if proven else (max(bound, objective) if bound is not None else None)
    st.gap = (round((st.bound - objective) / st.bound, 6) if st.bound else
              (0.0 if st.bound == 0 else None))
    safety = [s for s in ([fl.stop] if fl is not None else ["flow"]) if s] + stops
    st.safety_stop = safety[0] if safety else None
    st.wall_time = round(time.perf_counter() - t0, 3)
    st.timing = timing
    st.model = {"mentees": arr.n_e, "mentors": arr.n_m, "components": len(sols),
                "linking_mentors": n_linking,
                "eligible_pairs": len(pairs.e),
                "pairs": fl.kept if fl is not None else 0,
                "flow_arcs": fl.res.arcs if fl is not None else 0}
    st.phases = [{"phase": "components", "status": {s: sum(1 for _i, x in sols
                                                           if x.status == s)
                                                    for s in sorted({x.status for _i, x in sols})}}]
    if fl is not None:
        st.phases.insert(0, {"phase": "flow", "log": fl.log, "score": fl.res.score,
                             "matched": fl.res.counts[2]})
        st.pruning = {"enabled": True, "pairs_kept_initially": fl.kept0, "pairs_kept": fl.kept,
                      "pairs_pruned": len(pairs.e) - fl.kept, "rounds": fl.rounds,
                      "counts_proven": fl.counts_proven, "score_proven": fl.score_proven,
                      "score_loss_bound": fl.loss_bound}
    infeasible_all = list(infeasible)
    report("done", st.matched, st.objective, st.bound)
    return Solution(all_pairs, unmatched, infeasible_all, st)


__all__ = ["DECOMPOSE_MIN_MENTEES", "SECONDS_PER_MENTEE", "Split", "solve", "solve_decomposed",
           "split"]
