"""Decomposed solve for national cohorts (hundreds of thousands of mentees).

The dense pair table of ``model.solve`` (mentees x mentors) cannot exist at 250,000 x 80,000.
But with the mode and in-person rules on, a mentor who only meets in person can only have
mentees of their own city: the cities are the connected components of the eligibility graph
without the *linking* mentors (every mentor who can meet online, e.g. national online mentors),
and only those join the components. So:

1. ``split``: the components (city -> its mentees and in-person-only mentors) and the linking
   mentors;
2. ``stream``: every eligible pair, block by block inside a component (its mentees x its own
   mentors, plus the linking mentors for the mentees who can meet online): the arcs go into
   compact arrays (~10 bytes a pair), never into a dense table; each mentee's top-K, a
   spread-out mentor side and a regret side are the first candidate arcs;
3. ``global_flow``: one min-cost flow over the whole network (``flow.Network``: every mentee,
   every (mentor, slot) node) on the candidate arcs, then rounds as in ``model.solve``: each
   proves the counts by the residual cut over every streamed pair (until proven) and prices
   every streamed pair against the flow's potentials on the same flow (the arcs between
   components priced with the same duals as the arcs inside them; what pricing leaves is a
   proven upper bound, LP duality), adds what both found, and re-solves without the pairs
   priced far too high (``flow.settled_codes``: a national re-solve keeps ~0.6 M of 5 M
   pairs). Potentials come from ``Network.potentials`` (a vectorised label-correcting
   Bellman-Ford: seconds at this size). If the work budget ends the rounds before the counts
   are proven, ``_fill`` adds what a free common start still allows;
4. output: with mentor blocks (the default) the flow's slot is final (a mentor's blocks never
   overlap, the day limits are in the network), so pairs, reasons and unmatched figures are
   written straight from the flow; unmatched reasons are computed over every mentor, the linking
   ones too.

Instances it does not fit (fewer than ``DECOMPOSE_MIN_MENTEES`` mentees, one component, the
in-person or mode rule off, overlapping starts) go to ``model.solve`` unchanged.

Determinism: decisions use work budgets (``pricing_rounds``, ``pricing_tolerance``, and the work
model ``WORK_*`` of flow arcs and streamed pairs), never the clock; the wall clock only guards
(``stats.safety_stop``). The wall-clock limit of a decomposed solve is size-aware,
``wall_limit``: ``max(time_limit, SECONDS_PER_MENTEE * mentees)`` (600 s at 250,000 mentees),
since the default 30 s cannot even read a national instance.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from .eligibility import ONLINE, Prepared, pair_mode
from .flow import (
    Arr,
    Arrays,
    FlowResult,
    FlowTimeout,
    Locked,
    Network,
    Triple,
    bad_words,
    mentee_slack,
    settled_codes,
)
from .model import Scheduler, check_locks, hint_links
from .model import solve as solve_one
from .schema import Instance, LocalTime, Pair, Slot, Solution, SolverConfig, Stats, Unmatched
from .scoring import reason_codes, score_pair
from .slots import bits, local_time, utc_label

# instances with at least this many mentees and two or more components are decomposed
DECOMPOSE_MIN_MENTEES = 30_000
SECONDS_PER_MENTEE = 0.0024  # size-aware wall-clock limit of a decomposed solve
BLOCK_CELLS = 2_000_000
# first candidate arcs of the national flow (per mentee; per unit of mentor capacity, spread-out
# and by regret): fewer than model.solve keeps, since at 250,000 mentees the flow's size is the
# cost; pricing buys back what they miss
TOP_K = 8
F_MENTOR = 10
F_REGRET = 4
# up to this many eligible pairs the national flow takes them all: measured at 50,000 mentees
# (1.05 M pairs) one exact flow took 40 s where the pruned rounds took over 100 s
EXACT_PAIRS = 8_000_000
CHUNK = 4_000_000  # pairs per vectorised pricing chunk
WEEK = 7 * 1440
# The work model that decides how many rounds a national solve runs: seconds on this 2-core
# machine (kept pessimistic) per flow arc of one solve and per streamed pair of one cut or
# pricing pass. Only sizes enter it, never the clock: the same input runs the same rounds on a
# quiet or a loaded machine; the clock remains the safety stop (``stats.safety_stop``).
WORK_ARC = 9e-6
WORK_PAIR_PASS = 0.5e-6
WORK_SHARE = 0.55  # of the wall limit: the rounds' share (reading, streaming, output, a load)


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
    if len(instance.mentees) >= DECOMPOSE_MIN_MENTEES and instance.mentors and \
            cfg.rule("mode") and cfg.rule("same_city_in_person") and cfg.mentor_blocks and \
            cfg.rule("one_mentee_per_slot") and len({e.city for e in instance.mentees}) > 1:
        prep = Prepared(instance, cfg)
        parts = split(prep)
        if parts is not None and len(parts.groups) > 1:
            return solve_decomposed(instance, cfg, hint, progress, prep, parts)
    return solve_one(instance, cfg, hint, progress)


def wall_limit(n_mentees: int, cfg: SolverConfig) -> float:
    """The wall-clock limit of a solve of ``n_mentees``: ``time_limit``, and for a decomposed
    (national) solve at least ``SECONDS_PER_MENTEE`` per mentee (600 s at 250,000)."""
    if n_mentees < DECOMPOSE_MIN_MENTEES:
        return cfg.time_limit
    return max(cfg.time_limit, SECONDS_PER_MENTEE * n_mentees)


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
    for _name, g_es, ms in parts.groups:
        if not len(g_es):
            continue
        on = arr.e_on[g_es]
        city = arr.e_city[g_es[0]]
        lk_here = lk[m_city[lk] == city] if city >= 0 else lk[:0]
        for rows, cols in ((g_es[on], np.concatenate([ms, lk])),
                           (g_es[~on], np.concatenate([ms, lk_here]))):
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
    es: list[Arr] = []
    js: list[Arr] = []
    ss: list[Arr] = []
    tops: list[Arr] = []
    off = 0
    for e, m, sc, rows, nok, nel, top_idx in results:  # job order: deterministic
        es.append(e)
        js.append(m)
        ss.append(sc)
        tops.append(top_idx + off)
        off += len(e)
        n_ok[rows] += nok
        n_el[rows] += nel
    del results
    return Pairs(_cat(es, np.int32), _cat(js, np.int32), _cat(ss, np.int32), n_ok, n_el,
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


def _any_common(a: Arr, b: Arr) -> Arr:
    out: Arr = ((a & b) != 0).any(axis=1)
    return out


def cut_streamed(net: Network, res: FlowResult, arr: Arrays, pairs: Pairs, in_net: Arr,
                 per_mentee: int, outside: Arr | None = None) -> tuple[Arr, int]:
    """Pruned eligible arcs leaving the residual cut of unmatched (priority) mentees (see
    ``flow.cut_violations``), over the streamed pairs. None = the counts are maximal.
    ``outside``: pairs a re-solve left out; they carry no flow, so their arcs join the
    residual network (the same proof, with fewer violations)."""
    locked = res.net["is_locked"]
    act = res.net["active"]
    rows = np.nonzero(act & ~locked & (res.mentor < 0))[0]
    extra = None
    seen = in_net
    if outside is not None and outside.any():
        o = np.nonzero(outside)[0]
        oe, om = pairs.e[o].astype(np.int64), pairs.m[o].astype(np.int64)
        ip, node = net.expand(oe, om)
        extra = (oe[ip], node)
        seen = in_net | outside
    z = net.reachable(res, rows, extra)
    un_p = rows[arr.prio[rows]]
    zp = net.reachable(res, un_p, extra) if len(un_p) else np.zeros(net.n_nodes, dtype=bool)
    bad_z, bad_p = bad_words(net, ~z), bad_words(net, ~zp)
    found: list[Arr] = []
    n_viol = 0
    for c0 in range(0, len(pairs.e), CHUNK):
        e = pairs.e[c0:c0 + CHUNK].astype(np.int64)
        m = pairs.m[c0:c0 + CHUNK].astype(np.int64)
        cand = z[e] & ~locked[e] & ~seen[c0:c0 + CHUNK]
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
    total = int((per_row - mentee_slack(res, d, arr.n_e)).clip(min=0).sum())
    if not found:
        return np.zeros(0, np.int64), total
    return _per_mentee_best(pairs, np.concatenate(found), np.concatenate(vals), per_mentee), \
        total


@dataclass
class Flow:
    res: FlowResult | None  # None: the safety stop came before the first flow ended
    counts_proven: bool
    score_proven: bool
    bound: int | None
    loss_bound: int | None
    rounds: int
    kept: int
    kept0: int
    log: list[dict[str, Any]]
    stop: str | None  # the phase the wall-clock safety stop ended (None: budgets decided)
    secs: list[float]  # wall seconds of each step of ``log`` (timing only)


def global_flow(arr: Arrays, net: Network, pairs: Pairs, locked: Locked,
                hint_map: dict[int, tuple[int, int | None]], cfg: SolverConfig,
                deadline: float, limit: float) -> Flow:
    """One exact flow over every streamed pair when there are few enough (``EXACT_PAIRS``),
    otherwise the flow on the candidate arcs and the rounds of ``_rounds``; the deadline only
    guards (a flow it cuts leaves the previous one)."""
    active = np.ones(arr.n_e, dtype=bool)
    lrows = np.array(sorted(locked.mentor), dtype=np.int64)
    active[lrows] = False
    idx = initial_candidates(arr, pairs, lrows, F_MENTOR, F_REGRET)
    kept0 = len(idx)
    in_net = np.zeros(len(pairs.e), dtype=bool)
    in_net[idx] = True

    def arcs() -> Triple:
        sel = np.nonzero(in_net)[0]
        return (pairs.e[sel].astype(np.int64), pairs.m[sel].astype(np.int64),
                pairs.s[sel].astype(np.int64))

    net.deadline = deadline
    log: list[dict[str, Any]] = []
    fl = Flow(None, False, False, None, None, 0, kept0, kept0, log, None, [])
    try:
        if len(pairs.e) <= EXACT_PAIRS:
            # sparse enough: one flow over every eligible arc is cheaper than the rounds of
            # pruned flows, and exact (no cut or pricing needed)
            in_net[:] = True
            t = time.perf_counter()
            fl.res = net.solve(*arcs(), locked, active, hint_map)
            fl.secs.append(round(time.perf_counter() - t, 2))
            log.append({"kind": "exact", "matched": fl.res.counts[2], "score": fl.res.score})
            fl.counts_proven = fl.score_proven = True
            fl.bound, fl.loss_bound = fl.res.score, 0
        else:
            _rounds(fl, arr, net, pairs, locked, hint_map, cfg, deadline, limit, active,
                    in_net, arcs)
    except FlowTimeout:  # a cut re-solve keeps the previous flow ("pricing", as model.solve)
        fl.stop = fl.stop or ("pricing" if fl.res is not None else "flow")
    fl.kept = int(in_net.sum())
    return fl



def _rounds(fl: Flow, arr: Arrays, net: Network, pairs: Pairs, locked: Locked,
            hint_map: dict[int, tuple[int, int | None]], cfg: SolverConfig, deadline: float,
            limit: float, active: Arr, in_net: Arr, arcs: Callable[[], Triple]) -> None:
    """The first flow (counts by maximum flows, then the score), then rounds as in
    ``model._rounds``: each runs the count proof (the residual cut over every streamed pair,
    until the counts are proven) and reduced-cost pricing on the same flow, adds both kinds of
    arcs, leaves out the pairs that priced far too high (``flow.settled_codes``; until the
    counts are proven, the next cut keeps them as residual arcs) and re-solves. It ends when
    pricing proves the score, the loss bound is below ``pricing_tolerance``, nothing is left
    to add, ``pricing_rounds`` re-solves ran, or the next one would not fit the work budget
    (``WORK_*``: sizes, never the clock); the clock is only the safety stop."""
    log = fl.log
    budget = WORK_SHARE * limit
    outside = np.zeros(len(pairs.e), dtype=bool)  # left out while the counts were unproven
    t = time.perf_counter()
    res = net.solve(*arcs(), locked, active, hint_map)
    fl.res = res
    log.append({"kind": "flow", "matched": res.counts[2], "score": res.score})
    fl.secs.append(round(time.perf_counter() - t, 2))
    last_flow, last_arcs = fl.secs[-1], max(1, res.arcs)
    work = res.arcs * WORK_ARC
    while True:
        if time.perf_counter() > deadline:
            fl.stop = "pricing"
            return
        t = time.perf_counter()
        add_c = np.zeros(0, np.int64)
        if not fl.counts_proven:
            add_c, nv = cut_streamed(net, res, arr, pairs, in_net, 2 * cfg.pricing_per_mentee,
                                     outside)
            log.append({"kind": "cut", "violations": nv, "added": len(add_c)})
            fl.counts_proven = nv == 0
            work += len(pairs.e) * WORK_PAIR_PASS
        d, converged = net.potentials(res)
        if not converged:
            return
        per = cfg.pricing_per_mentee * (2 if fl.rounds == 0 else 1)
        add_p, viol = price_streamed(net, res, d, arr, pairs, in_net, per)
        work += len(pairs.e) * WORK_PAIR_PASS
        log.append({"kind": "price", "violation": viol, "added": len(add_p)})
        fl.secs.append(round(time.perf_counter() - t, 2))
        if fl.counts_proven:
            lv = res.levels
            spread_term = lv["spread_max"] * lv["unit_spread"] if lv["spread"] else 0
            b = (res.objective_b + viol + spread_term) // lv["unit_score"]
            fl.bound = b if fl.bound is None else min(fl.bound, b)
            fl.loss_bound = -(-viol // lv["unit_score"])
            if viol == 0:
                fl.score_proven = True
                return
            if fl.loss_bound <= cfg.pricing_tolerance * max(1, res.score):
                return
        if len(add_c) + len(add_p) == 0 or fl.rounds >= cfg.pricing_rounds:
            return
        # the next network: without the pairs priced far too high, with the arcs found
        nxt_net = in_net.copy()
        sel = np.nonzero(in_net)[0]
        code = pairs.e[sel].astype(np.int64) * arr.n_m + pairs.m[sel]
        gone = sel[~np.isin(code, settled_codes(res, d, arr.n_m))]
        nxt_net[gone] = False
        nxt_net[add_c] = True
        nxt_net[add_p] = True
        n_pair = int(res.net["n_pair"])  # arcs of the pairs: one per common slot
        est = res.arcs - n_pair + n_pair * int(nxt_net.sum()) // max(1, len(sel))
        if work + est * WORK_ARC + 2 * len(pairs.e) * WORK_PAIR_PASS > budget:
            log.append({"kind": "budget", "work": round(work, 1),
                        "next": round(est * WORK_ARC, 1)})
            return
        if time.perf_counter() + 1.2 * last_flow * est / last_arcs > deadline:
            fl.stop = "pricing"  # the safety stop: the next flow would not end in time
            return
        work += est * WORK_ARC
        if not fl.counts_proven:
            outside[gone] = True
        outside[nxt_net] = False
        in_net[:] = nxt_net
        fl.rounds += 1
        t = time.perf_counter()
        if fl.counts_proven:
            res = net.solve(*arcs(), locked, active, hint_map, phases="B",
                            counts=res.net["raw"])
        else:
            res = net.solve(*arcs(), locked, active, hint_map)
        fl.res = res
        log.append({"kind": "flow", "matched": res.counts[2], "score": res.score})
        fl.secs.append(round(time.perf_counter() - t, 2))
        last_flow, last_arcs = fl.secs[-1], max(1, res.arcs)


def _greedy(prep: Prepared, arr: Arrays, pairs: Pairs, locked: Locked, sched: Scheduler
            ) -> tuple[Arr, dict[int, int]]:
    """The safety stop's answer when not even the first flow finished: the locks, then the
    mentees' top-K pairs best score first where the mentor has room and a free common start."""
    assign = np.full(arr.n_e, -1, dtype=np.int64)
    slots: dict[int, int] = {}
    taken: dict[int, list[int]] = {}
    for i, j in locked.mentor.items():
        b = locked.slot.get(i)
        if b is None:
            b = sched.free(j, taken.get(j, []), bits(prep.common(i, j)))
        if b is not None:
            assign[i], slots[i] = j, b
            taken.setdefault(j, []).append(b)
    t = pairs.top
    order = t[np.lexsort((pairs.m[t], pairs.e[t], -pairs.s[t].astype(np.int64)))]
    _take(prep, arr, pairs, order, assign, slots, taken, sched)
    return assign, slots


def _take(prep: Prepared, arr: Arrays, pairs: Pairs, order: Arr, assign: Arr,
          slots: dict[int, int], taken: dict[int, list[int]], sched: Scheduler) -> int:
    """The pairs ``order`` (indices into ``pairs``) in turn: an unmatched mentee takes the
    mentor when they have room and a free common start (day limits kept). Returns how many."""
    load = np.bincount(assign[assign >= 0], minlength=arr.n_m)
    added = 0
    for i, j in zip(pairs.e[order].tolist(), pairs.m[order].tolist(), strict=True):
        if assign[i] >= 0 or load[j] >= arr.cap[j]:
            continue
        b = sched.free(j, taken.get(j, []), bits(prep.common(i, j)))
        if b is not None:
            assign[i], slots[i] = j, b
            load[j] += 1
            taken.setdefault(j, []).append(b)
            added += 1
    return added


def _fill(prep: Prepared, arr: Arrays, pairs: Pairs, assign: Arr, slots: dict[int, int],
          sched: Scheduler) -> int:
    """The work budget ended the rounds before the counts were proven: every unmatched mentee
    with an eligible mentor who has room and a free common start (day limits kept) gets one,
    best score first (as ``model.solve``'s fill), so no unmatched reason says otherwise.
    Returns how many were added."""
    load = np.bincount(assign[assign >= 0], minlength=arr.n_m)
    taken: dict[int, list[int]] = {}
    for i, b in slots.items():
        taken.setdefault(int(assign[i]), []).append(b)
    sel = np.nonzero((assign[pairs.e] < 0) & (load[pairs.m] < arr.cap[pairs.m]))[0]
    order = sel[np.lexsort((pairs.m[sel], -pairs.s[sel].astype(np.int64), pairs.e[sel]))]
    return _take(prep, arr, pairs, order, assign, slots, taken, sched)


def solve_decomposed(instance: Instance, cfg: SolverConfig, hint: Any = None,
                     progress: Callable[[dict[str, Any]], Any] | None = None,
                     prep: Prepared | None = None, parts: Split | None = None) -> Solution:
    """See the module doc. Public for the tests and the bench (``solve`` picks it by itself
    from ``DECOMPOSE_MIN_MENTEES`` mentees on)."""
    t0 = time.perf_counter()
    report = _Report(progress, t0)
    limit = max(cfg.time_limit, SECONDS_PER_MENTEE * len(instance.mentees))  # wall_limit
    deadline = t0 + 0.8 * limit  # the output keeps the rest
    timing: dict[str, Any] = {}
    prep = prep or Prepared(instance, cfg)
    parts = parts or split(prep)
    if parts is None or not cfg.mentor_blocks or not cfg.rule("one_mentee_per_slot"):
        # overlapping starts need the slot repair of model.solve: no decomposition
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
    pairs = stream(arr, parts, cfg.top_k_mentee or TOP_K, max(1, cfg.num_workers))
    timing["stream"] = round(time.perf_counter() - t, 3)
    report("pairs")
    t = time.perf_counter()
    net = Network(arr, spread=cfg.spread_load)
    net.reach = np.bincount(pairs.m, minlength=arr.n_m)  # capacity as in the full network
    fl = global_flow(arr, net, pairs, locked, hint_map, cfg, deadline, limit)
    timing["flow"] = round(time.perf_counter() - t, 3)
    timing["flow_steps"] = fl.secs
    t = time.perf_counter()
    if fl.res is not None:
        report("flow", fl.res.counts[2], fl.res.score, fl.bound)
        assign = fl.res.mentor
        start_of = net.slot_key // 7  # g == 1 with mentor blocks: key = start * 7 + day
        slots = {i: int(start_of[int(fl.res.node[i]) - net.s0])
                 for i in np.nonzero(assign >= 0)[0].tolist()}
        if not fl.counts_proven and fl.stop is None:
            assign = assign.copy()
            timing["filled"] = _fill(prep, arr, pairs, assign, slots, sched)
    else:
        assign, slots = _greedy(prep, arr, pairs, locked, sched)
    sol = _build(prep, arr, pairs, assign, slots, locked, fl, infeasible, len(parts.groups),
                 len(parts.linking))
    timing["output"] = round(time.perf_counter() - t, 3)
    sol.stats.timing = timing
    sol.stats.wall_time = round(time.perf_counter() - t0, 3)
    report("done", sol.stats.matched, sol.stats.objective, sol.stats.bound)
    return sol


def _build(prep: Prepared, arr: Arrays, pairs: Pairs, assign: Arr, slots: dict[int, int],
           locked: Locked, fl: Flow, infeasible: list[dict[str, Any]], n_groups: int,
           n_linking: int) -> Solution:
    """The Solution of an assignment whose slots are final (mentor blocks never overlap)."""
    cfg = prep.config
    step = cfg.slot_step_minutes
    ref = cfg.reference_week
    stopped = fl.stop is not None
    kinds = {(p.mentee, p.mentor): "fixed" for p in prep.instance.fixed}
    local: dict[tuple[str, int], LocalTime] = {}

    def loc(tz: str, minute: int) -> LocalTime:
        key = (tz, minute)
        if key not in local:
            local[key] = local_time(tz, minute, ref)
        return local[key]

    out: list[Pair] = []
    for i in np.nonzero(assign >= 0)[0].tolist():
        e, mt = prep.mentees[i], prep.mentors[int(assign[i])]
        minute = slots[i] * step
        mode = pair_mode(e, mt, cfg) or "online"
        score, breakdown = score_pair(e, mt, cfg, mode)
        el, ml = loc(e.tz, minute), loc(mt.tz, minute)
        why = reason_codes(e, mt, breakdown, (el.weekday, el.time, el.tz), mode)
        wd, hhmm = utc_label(minute)
        kind = kinds.get((e.id, mt.id), "lock") if i in locked.mentor else ""
        out.append(Pair(e.id, mt.id, Slot(minute, wd, hhmm, ml, el), mode, score, breakdown,
                        why, locked=kind == "lock", fixed=kind == "fixed"))
    load = np.bincount(assign[assign >= 0], minlength=arr.n_m)
    # free weekly starts per mentor (compact slot words): a start no mentee of theirs has
    taken = np.zeros((arr.n_m, arr.n_slots), dtype=bool)
    pos = {int(b): c for c, b in enumerate(arr.slot_bits.tolist())}
    for i, b in slots.items():
        taken[int(assign[i]), pos[b]] = True
    have = np.zeros((arr.n_m, arr.n_words * 64), dtype=np.uint8)
    have[:, : arr.n_slots] = ~taken
    free_words = np.packbits(have, axis=1, bitorder="little").view(np.uint64).reshape(
        arr.n_m, arr.n_words) & arr.m_words
    is_un = assign < 0
    room = np.zeros(arr.n_e, dtype=np.int64)
    by_day = np.zeros(arr.n_e, dtype=np.int64)
    for c0 in range(0, len(pairs.e), CHUNK):
        ce = pairs.e[c0:c0 + CHUNK].astype(np.int64)
        cm = pairs.m[c0:c0 + CHUNK].astype(np.int64)
        sel = is_un[ce] & (load[cm] < arr.cap[cm])
        ce, cm = ce[sel], cm[sel]
        np.add.at(room, ce, 1)
        # a free common start with a mentor who has room: only the day limit keeps it unused
        # (the matched count is maximal)
        free = _any_common(arr.e_words[ce], free_words[cm])
        np.add.at(by_day, ce[free], 1)
    unmatched: list[Unmatched] = []
    for i in np.nonzero(is_un)[0].tolist():
        e_id = prep.mentees[i].id
        if pairs.n_ok[i] == 0:
            unmatched.append(Unmatched(e_id, "no_eligible_mentor", {}))
        elif pairs.n_el[i] == 0:
            unmatched.append(Unmatched(e_id, "no_common_time", {"eligible": 0}))
        elif room[i] == 0:
            unmatched.append(Unmatched(e_id, "capacity_taken",
                                       {"eligible": int(pairs.n_el[i]), "with_room": 0}))
        elif stopped:
            unmatched.append(Unmatched(e_id, "time_limit", {"eligible": int(pairs.n_el[i]),
                                                            "with_room": int(room[i])}))
        else:
            unmatched.append(Unmatched(e_id, "no_common_time", {
                "eligible": int(pairs.n_el[i]), "with_room": int(room[i]),
                "day_limit": int(by_day[i])}))
    objective = sum(p.score for p in out)
    prio = sum(1 for i in np.nonzero(assign >= 0)[0].tolist() if prep.mentees[i].priority)
    st = Stats(objective=objective, matched=len(out), matched_priority=prio,
               load_spread=int((load * (load - 1) // 2).sum()))
    res = fl.res
    proven = res is not None and fl.counts_proven and fl.score_proven and not stopped
    st.status = "OPTIMAL" if proven else "FEASIBLE"
    if res is not None and fl.counts_proven:
        st.matched_bound = res.counts[2]
    else:
        st.matched_bound = int(min(int((pairs.n_el > 0).sum()), int(arr.cap.sum())))
    bound = fl.bound if fl.bound is not None else _simple_bound(arr, pairs, st.matched_bound)
    st.bound = objective if proven else max(bound, objective)
    st.gap = (round((st.bound - objective) / st.bound, 6) if st.bound else
              (0.0 if st.bound == 0 else None))
    st.safety_stop = fl.stop
    st.model = {"mentees": arr.n_e, "mentors": arr.n_m, "components": n_groups,
                "linking_mentors": n_linking, "eligible_pairs": len(pairs.e),
                "pairs": fl.kept, "flow_arcs": res.arcs if res is not None else 0,
                "flow_nodes": res.nodes if res is not None else 0}
    st.phases = [{"phase": "flow", "log": fl.log}]
    st.pruning = {"enabled": True, "pairs_kept_initially": fl.kept0, "pairs_kept": fl.kept,
                  "pairs_pruned": len(pairs.e) - fl.kept, "rounds": fl.rounds,
                  "counts_proven": fl.counts_proven, "score_proven": fl.score_proven,
                  "score_loss_bound": fl.loss_bound}
    return Solution(out, unmatched, infeasible, st)


def _simple_bound(arr: Arrays, pairs: Pairs, matched: int) -> int:
    """An upper bound on the score of any solution without duals (pricing never ran): the
    ``matched`` mentees with the best best-pair scores, each at its best pair (none below 0)."""
    best = np.zeros(arr.n_e, dtype=np.int64)
    np.maximum.at(best, pairs.e, pairs.s.astype(np.int64))
    return int(np.sort(best)[::-1][:max(0, matched)].sum())


__all__ = ["DECOMPOSE_MIN_MENTEES", "SECONDS_PER_MENTEE", "Split", "solve", "solve_decomposed",
           "split", "stream", "wall_limit"]
