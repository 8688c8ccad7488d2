"""Public ``solve``: locks, pair table, pruned flow with pricing, slot realisation, CP-SAT repair.

Objective, lexicographic and exact at every size: (1) feasible locks kept, then as many mentees
matched as possible with as many priority mentees as possible (the two orders coincide for flow
networks, see ``flow.py``), (2) summed pair score, (3) load spread: the k-th mentee of a mentor
costs k-1 (convex costs on mentor -> sink arcs, so the flow spreads mentees whenever the score
ties), (4) closeness to the hint (previous solution) as the last tie-break.

Phases (each reported to ``progress``; one function each, reading a frozen ``Ctx``):
1. ``locks`` (``check_locks``): fixed pairs and locks are checked (rule, capacity, a free slot
   with the other accepted ones); infeasible ones are reported by name with a code and its
   parameters;
2. ``pairs`` (``_pair_table``): eligibility and score of every mentee x mentor, as matrix
   products per row block (``Arrays.block``);
3. ``flow`` (``_first_flow``): capacity-aware candidate arcs and the min-cost flow, both phases
   (A: counts, B: score, spread, hint), over (mentor, slot) nodes, with sessions-per-day and
   capacity in the network; if the safety stop cuts it, a greedy pass over the candidates;
4. ``pricing`` (``_pricing``, ``_rounds``): each round checks on the current flow the pruned
   arcs that could add a match (residual cut; until the counts are proven) and prices every
   pruned arc under the flow's potentials, adds the worst of both and re-solves, until none is
   left, the loss bound is below ``pricing_tolerance`` (above ``prove_up_to`` mentees), the
   budget ``pricing_rounds`` or the work budget (``WORK_*``: sizes, not the clock) is spent, or
   the safety stop ends it. What remains gives the bound;
5. ``slots`` (``_place``): every pair gets its start. With mentor blocks (default) a mentor's
   starts never overlap and the flow's slot is final. With ``mentor_blocks=False`` (any grid
   start) slots of one mentor may overlap: they are repaired per mentor (exact small search),
   and where that fails by CP-SAT over those mentors and their neighbours, hinted with the flow
   solution;
6. ``done`` (``_finish``): status, bound, gap and the solver's account in ``stats``.

Determinism: the same input, config and seed give the same output. The flows are exact and
deterministic, blocks run on threads but are combined in order, the mentor-side sample is seeded,
CP-SAT runs single-threaded with a deterministic-time limit, and every round is counted against
``pricing_rounds``. Only the wall-clock safety stop (``Clock``) can end a phase early; then a
slower or faster run may stop elsewhere, and ``stats.safety_stop`` names the phase.

Status OPTIMAL only when every level is proven for the full problem: no pruned arc can improve
the counts or the score, and the slot realisation kept the flow optimum. Otherwise FEASIBLE with
``bound`` (upper bound on the summed score for the matched counts) and ``gap``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from .eligibility import Prepared, pair_mode
from .flow import (
    Arr,
    Arrays,
    FlowResult,
    FlowTimeout,
    Locked,
    Network,
    Triple,
    _row_blocks,
    candidates,
    cut_violations,
    price,
    settled_codes,
)
from .schema import Instance, Link, Pair, Slot, Solution, SolverConfig, Stats, Unmatched
from .scoring import reason_codes, score_pair
from .slots import bits, local_day, local_time, utc_label

BACKTRACK_LIMIT = 20_000
# On a loaded machine (load average 7-9 on 2 cores, 20,000 mentees) the output after a stop took
# up to 3.5 s (now less: only unmatched rows are counted); the greedy fallback needs the time
# between the deadline and the hard stop more than the output needs its reserve.
TAIL_SHARE = 0.15  # share of the time limit kept for the greedy fallback, slots and output
HARD_SHARE = 0.93  # the greedy fallback and the safety-net fill stop here; the output follows
# expected seconds of the exact (unpruned) flow per eligible pair, in units of the measured
# seconds per pair-table cell (about 80 measured on dense 5,000; kept pessimistic)
EXACT_FLOW_CELLS_PER_PAIR = 120
# The work model that decides how many pricing rounds a large solve runs: seconds on this
# 2-core machine shared with other work (dense 20,000 at load average 3-4; reading the
# instance included), per pair-table cell (the table and the candidate arcs; one cut or
# pricing pass) and per flow arc (one solve with the counts, or phase B alone). Only sizes
# enter it, never the clock: the same input runs the same rounds on a quiet or a loaded
# machine; the clock remains the safety stop (and says so in ``stats.safety_stop``).
WORK_TABLE_CELL = 50e-9
WORK_PASS_CELL = 9e-9
WORK_ARC_AB = 4.5e-6
WORK_ARC_B = 4.5e-6
NEIGHBOURS = 4  # CP-SAT repair: other mentors per affected mentee
PROGRESS_EVERY = 0.5


@lru_cache(maxsize=8192)
def _day_of(tz: str, minute: int, reference_week: str) -> int:
    return local_day(tz, minute, reference_week)


class Progress:
    """Calls the user's callback; a callback that raises is never called again."""

    def __init__(self, fn: Callable[[dict[str, Any]], Any] | None, t0: float):
        self.fn = fn
        self.t0 = t0
        self.last = -1e9

    def __call__(self, phase: str, matched: int | None = None, objective: int | None = None,
                 bound: int | None = None,
                 throttle: bool = False) -> None:
        if self.fn is None:
            return
        now = time.perf_counter()
        if throttle and now - self.last < PROGRESS_EVERY:
            return
        self.last = now
        try:
            self.fn({"phase": phase, "elapsed": round(now - self.t0, 3),
                     "matched": None if matched is None else int(matched),
                     "objective": None if objective is None else int(objective),
                     "bound": None if bound is None else int(bound)})
        except Exception:  # noqa: BLE001 - a broken callback must never break the solve
            self.fn = None


class Clock:
    """The wall-clock safety stop. The solver's decisions come from work budgets (pricing
    rounds, arcs, CP-SAT deterministic time), so the same input and seed give the same
    solution on a quiet or a loaded machine; only when a step would end after the time limit
    does this stop it, and the solution then says so (``stats.safety_stop``)."""

    def __init__(self, t0: float, limit: float, hard: float | None = None):
        self.t0 = t0
        self.deadline = t0 + limit
        # the safety nets after the last phase stop here (the time limit itself)
        self.hard = t0 + (limit if hard is None else hard)
        self.fired: str | None = None

    def fire(self, phase: str) -> None:
        if self.fired is None:
            self.fired = phase

    def left(self) -> float:
        return self.deadline - time.perf_counter()

    def stop(self, phase: str, need: float = 0.0) -> bool:
        """True (and remembered) when a step expected to take ``need`` seconds would end
        after the limit."""
        if time.perf_counter() + need <= self.deadline:
            return False
        if self.fired is None:
            self.fired = phase
        return True


class Scheduler:
    """Concrete starts for one mentor's mentees: distinct, non-overlapping, per-day limit."""

    def __init__(self, prep: Prepared):
        self.prep = prep
        cfg = prep.config
        self.step = cfg.slot_step_minutes
        self.length = cfg.session_minutes
        self.week = 7 * 1440 // self.step
        self.exclusive = cfg.rule("one_mentee_per_slot")
        self.spd = cfg.rule("sessions_per_day")

    def conflict(self, a: int, b: int) -> bool:
        if not self.exclusive:
            return False
        d = abs(a - b) % self.week
        return min(d, self.week - d) * self.step < self.length

    def day(self, j: int, b: int) -> int:
        m = self.prep.mentors[j]
        return _day_of(m.tz, b * self.step, self.prep.config.reference_week)

    def limit(self, j: int) -> int | None:
        m = self.prep.mentors[j]
        return m.max_sessions_per_day if self.spd and m.max_sessions_per_day else None

    def fits(self, j: int, items: list[tuple[int, list[int]]]) -> dict[int, int] | None:
        """items: (mentee, allowed starts in order of preference). Exact small search."""
        limit = self.limit(j)
        opts = sorted(items, key=lambda x: (len(x[1]), x[0]))
        chosen: list[int] = []
        days: dict[int, int] = {}
        budget = [BACKTRACK_LIMIT]

        def rec(k: int) -> bool:
            if k == len(opts):
                return True
            for b in opts[k][1]:
                budget[0] -= 1
                if budget[0] < 0:
                    return False
                if any(self.conflict(b, c) for c in chosen):
                    continue
                d = self.day(j, b) if limit is not None else 0
                if limit is not None and days.get(d, 0) >= limit:
                    continue
                chosen.append(b)
                days[d] = days.get(d, 0) + 1
                if rec(k + 1):
                    return True
                chosen.pop()
                days[d] -= 1
            return False

        if not rec(0):
            return None
        return {opts[k][0]: chosen[k] for k in range(len(opts))}

    def free(self, j: int, taken: list[int], options: Iterable[int]) -> int | None:
        """First option that fits next to the already placed starts ``taken``."""
        limit = self.limit(j)
        days: dict[int, int] = {}
        if limit is not None:
            for b in taken:
                d = self.day(j, b)
                days[d] = days.get(d, 0) + 1
        for b in options:
            if any(self.conflict(b, c) for c in taken):
                continue
            if limit is not None and days.get(self.day(j, b), 0) >= limit:
                continue
            return b
        return None


def hint_links(instance: Instance, hint: Any) -> list[Link]:
    """The hint as links: a Solution, a list of Link / Pair / dict, plus ``instance.hint``."""
    out = list(instance.hint)
    if hint is None:
        return out
    items = hint.pairs if isinstance(hint, Solution) else hint
    if not isinstance(items, list | tuple):
        raise ValueError("hint: expected a Solution or a list of pairs")
    for k, h in enumerate(items):
        if isinstance(h, Link):
            out.append(h)
        elif isinstance(h, Pair):
            out.append(Link(h.mentee, h.mentor, h.slot.minute_of_week))
        elif isinstance(h, dict):
            out.append(Link.from_dict(h, f"hint[{k}]"))
        else:
            raise ValueError(f"hint[{k}]: expected a pair, got {type(h).__name__}")
    return out


def check_locks(prep: Prepared, sched: Scheduler) -> tuple[Locked, list[dict[str, Any]]]:
    """Accept fixed pairs, then locks, in input order; report the ones that cannot be kept."""
    inst, cfg = prep.instance, prep.config
    step = cfg.slot_step_minutes
    locked = Locked()
    infeasible: list[dict[str, str]] = []
    links = [("fixed", p) for p in inst.fixed]
    if cfg.rule("locks"):
        links += [("lock", p) for p in inst.locks]
    kinds: dict[int, str] = {}
    for kind, p in links:
        i, j = prep.mentee_idx.get(p.mentee), prep.mentor_idx.get(p.mentor)
        code: str | None = None
        params: dict[str, Any] = {}
        if i is None or j is None:
            code = "unknown_mentee" if i is None else "unknown_mentor"
        elif i in locked.mentor:
            code = "duplicate"
            params = {"other": prep.mentors[locked.mentor[i]].id, "other_kind": kinds[i]}
        else:
            v = prep.violations(i, j)
            fixed_bit = None
            if kind == "fixed" and p.slot is not None:
                fixed_bit = p.slot // step
            if v:
                code, params = "rule", {"rules": v}
            elif fixed_bit is not None and p.slot is not None and (p.slot % step or
                                            not (prep.common(i, j) >> fixed_bit) & 1):
                code = "fixed_slot"
            elif cfg.rule("capacity") and \
                    sum(1 for x in locked.mentor.values() if x == j) >= prep.mentors[j].capacity:
                code = "capacity"
            else:
                items = [(a, _lock_opts(prep, a, jj, locked)) for a, jj in locked.mentor.items()
                         if jj == j]
                items.append((i, [fixed_bit] if fixed_bit is not None else bits(prep.common(i, j))))
                if sched.fits(j, items) is None:
                    code = "no_slot"
            if code is None:
                locked.mentor[i] = j
                kinds[i] = kind
                if fixed_bit is not None:
                    locked.slot[i] = fixed_bit
        if code:
            infeasible.append({"kind": kind, "mentee": p.mentee, "mentor": p.mentor,
                               "code": code, **params})
    return locked, infeasible


def _lock_opts(prep: Prepared, i: int, j: int, locked: Locked) -> list[int]:
    return [locked.slot[i]] if i in locked.slot else bits(prep.common(i, j))


@dataclass(frozen=True)
class Ctx:
    """What every phase of one solve reads: the instance as arrays, the slot rules, the clock,
    the progress callback, the hint, the accepted locks and the phase log (``mark``)."""

    prep: Prepared
    arr: Arrays
    cfg: SolverConfig
    sched: Scheduler
    clock: Clock
    report: Progress
    hint_map: dict[int, tuple[int, int | None]]
    locked: Locked
    infeasible: list[dict[str, Any]]
    t0: float
    timing: dict[str, Any] = field(default_factory=dict)
    phases: list[dict[str, Any]] = field(default_factory=list)

    def mark(self, name: str, t: float, **info: Any) -> None:
        self.timing[name] = round(time.perf_counter() - t, 3)
        self.phases.append({"phase": name, **info})


@dataclass(frozen=True)
class Table:
    """The pair table (``Arrays.matrix``): score where eligible, ``neg`` elsewhere; per mentee
    the mentors passing the pair rules (``n_ok``) and also sharing a slot (``n_el``)."""

    mat: Arr
    neg: int
    n_ok: Arr
    n_el: Arr
    complete: bool  # every row computed: the safety stop did not cut the table
    seconds: float


@dataclass
class Search:
    """The flow that pricing extends: candidate arcs (ce, cm, cs) and the current flow."""

    net: Network
    res: FlowResult
    ce: Arr
    cm: Arr
    cs: Arr
    rows: Arr  # mentees not locked
    active: Arr
    prune: bool
    first_flow: bool  # False: the safety stop cut the first flow, the greedy result stands
    k_mentee: int
    n_kept0: int


@dataclass
class Pricing:
    """What the cut and pricing rounds proved, and what pruning can still cost."""

    counts_proven: bool
    score_proven: bool
    converged: bool
    loss_bound: int | None
    rounds: int = 0
    added_cut: int = 0
    added_price: int = 0
    score_bound: int | None = None
    outside: Triple | None = None  # pairs a re-solve left out before the counts were proven
    log: list[dict[str, Any]] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class Placement:
    """Concrete starts: the final assignment and what the slot phase had to change."""

    assign: Arr
    slots: dict[int, int]
    overlapping: int  # pairs whose flow slot group clashed (before the repair)
    filled: int  # mentees added by the safety-net fill


def solve(instance: Instance, config: SolverConfig | None = None, hint: Any = None,
          progress: Callable[[dict[str, Any]], Any] | None = None) -> Solution:
    """Match mentees to mentors with a weekly slot. Never raises on infeasible locks.

    ``hint``: a previous Solution or a list of pairs; ties are broken toward it.
    ``progress``: called with {"phase", "elapsed", "matched", "objective", "bound"} at each
    phase boundary and (at most every 0.5 s) on improving CP-SAT solutions."""
    t0 = time.perf_counter()
    cfg = config or SolverConfig()
    report = Progress(progress, t0)
    # the last phases (slots, output) are not interruptible: keep a reserve for them
    limit = max(0.5, cfg.time_limit)
    clock = Clock(t0, limit * (1 - TAIL_SHARE), limit * HARD_SHARE)
    prep = Prepared(instance, cfg)
    arr = Arrays(prep)
    sched = Scheduler(prep)
    hint_map = _hint_map(prep, instance, hint)
    # 1. locks
    t = time.perf_counter()
    locked, infeasible = check_locks(prep, sched)
    ctx = Ctx(prep, arr, cfg, sched, clock, report, hint_map, locked, infeasible, t0)
    ctx.mark("locks", t, locked=len(locked.mentor), infeasible=len(infeasible))
    report("locks")
    if arr.n_e == 0 or arr.n_m == 0:
        return _nothing_to_match(ctx)
    table = _pair_table(ctx)  # 2.
    search = _first_flow(ctx, table)  # 3.
    pricing = _pricing(ctx, table, search)  # 4.
    placement = _place(ctx, table, search)  # 5.
    return _finish(ctx, table, search, pricing, placement)  # 6.


def _hint_map(prep: Prepared, instance: Instance, hint: Any) -> dict[int, tuple[int, int | None]]:
    """Hinted (mentor, grid start or None) per mentee index."""
    step = prep.config.slot_step_minutes
    out: dict[int, tuple[int, int | None]] = {}
    for h in hint_links(instance, hint):
        i, j = prep.mentee_idx.get(h.mentee), prep.mentor_idx.get(h.mentor)
        if i is not None and j is not None:
            b = h.slot // step if h.slot is not None and h.slot % step == 0 else None
            out[i] = (j, b)
    return out


def _nothing_to_match(ctx: Ctx) -> Solution:
    """No mentee or no mentor: every mentee unmatched, trivially optimal."""
    n_e = ctx.arr.n_e
    none = np.zeros(n_e, dtype=np.int64)
    table = Table(np.zeros((n_e, 0), np.int16), 0, none, none, True, 0.0)
    sol = _build_solution(ctx, table, np.full(n_e, -1, dtype=np.int64), {})
    sol.stats.status = "OPTIMAL"
    sol.stats.bound, sol.stats.gap, sol.stats.matched_bound = 0, 0.0, 0
    sol.stats.phases = ctx.phases
    sol.stats.timing = ctx.timing
    sol.stats.wall_time = round(time.perf_counter() - ctx.t0, 3)
    ctx.report("done", 0, 0, 0)
    return sol


def _pair_table(ctx: Ctx) -> Table:
    """Phase 2: the vectorised pair table; rows the safety stop did not reach stay empty."""
    t = time.perf_counter()
    mat, n_ok, n_el, neg = ctx.arr.matrix(max(1, ctx.cfg.num_workers), ctx.clock.deadline)
    complete = bool(ctx.arr.rows_done.all())
    if not complete:
        ctx.clock.fire("pairs")  # rows not reached keep no eligible mentor: valid, not optimal
    seconds = time.perf_counter() - t
    ctx.mark("pairs", t, eligible_pairs=int(n_el.sum()))
    ctx.report("pairs")
    return Table(mat, neg, n_ok, n_el, complete, seconds)


def _first_flow(ctx: Ctx, table: Table) -> Search:
    """Phase 3: candidate arcs (or every eligible arc on a small instance) and the first flow
    (phase A, the counts, when pruning). When the safety stop cuts it: the greedy result."""
    arr, cfg, clock = ctx.arr, ctx.cfg, ctx.clock
    mat, neg, n_el = table.mat, table.neg, table.n_el
    n_e, n_m = arr.n_e, arr.n_m
    t = time.perf_counter()
    active = np.ones(n_e, dtype=bool)
    if ctx.locked.mentor:
        active[list(ctx.locked.mentor)] = False
    rows = np.nonzero(active)[0]
    k_mentee = cfg.top_k_mentee or 16
    # Small enough to take every eligible arc: exact in about the same time as pruning.
    prune = cfg.prune and int(n_el.sum()) > cfg.exact_up_to_pairs
    if cfg.prune and not prune and n_e * n_m and table.seconds / (n_e * n_m) * \
            int(n_el.sum()) * EXACT_FLOW_CELLS_PER_PAIR > clock.left():
        # the safety stop: the exact flow would not end in time on this machine now
        prune = True
        clock.fire("flow")
    no_time = clock.stop("flow")  # no time left for any flow: the greedy safety net below
    ce = cm = cs = np.zeros(0, dtype=np.int64)
    if not no_time and prune:
        try:
            ce, cm, cs = candidates(arr, mat, neg, rows, k_mentee, cfg.top_k_mentor_factor,
                                    deadline=clock.deadline, workers=max(1, cfg.num_workers))
        except FlowTimeout as cut:
            no_time = clock.stop("flow")
            if cut.arcs is not None:  # for the greedy fallback
                ce, cm, cs = cut.arcs
    if no_time:
        pass  # the candidates computed until the stop (if any) feed the greedy fallback
    elif prune:
        he = [i for i, (j, _b) in ctx.hint_map.items() if active[i] and mat[i, j] > neg]
        if he:
            hm = [ctx.hint_map[i][0] for i in he]
            ce, cm, cs = _merge((ce, cm, cs), (np.array(he), np.array(hm),
                                                mat[he, hm].astype(np.int64)))
    else:
        e, m = np.nonzero(mat[rows] > neg)
        ce, cm = rows[e].astype(np.int64), m.astype(np.int64)
        cs = mat[ce, cm].astype(np.int64)
    n_kept0 = len(ce)
    net = Network(arr, spread=cfg.spread_load)
    # the mentors' capacity as in the full network (counted in row blocks: no table-sized mask)
    net.reach = np.zeros(arr.n_m, dtype=np.int64)
    for r0 in range(0, arr.n_e, 2048):
        net.reach += (mat[r0:r0 + 2048] > neg).sum(axis=0)
    net.deadline = clock.deadline
    # both phases at once: if the clock stops the cut rounds, the score phase has run
    res: FlowResult | None = None
    if not no_time:
        try:
            res = net.solve(ce, cm, cs, ctx.locked, active, ctx.hint_map, phases="AB")
        except FlowTimeout:
            clock.fire("flow")
    first_flow = res is not None
    if res is None:  # the safety stop: locks, then greedy; the safety net fills the rest
        res = _greedy(ctx, net, ce, cm, cs)
        prune = True
    ctx.mark("flow", t, arcs=res.arcs, pairs=int(len(ce)))
    ctx.report("flow", res.counts[2], res.score)
    return Search(net, res, ce, cm, cs, rows, active, prune, first_flow, k_mentee, n_kept0)


def _pricing(ctx: Ctx, table: Table, s: Search) -> Pricing:
    """Phase 4: pruned arcs that could add matches (cut) or score (reduced cost). Each round is
    one unit of the work budget ``pricing_rounds``; the clock only guards it."""
    t = time.perf_counter()
    p = Pricing(counts_proven=not s.prune, score_proven=not s.prune, converged=not s.prune,
                loss_bound=0 if not s.prune else None)
    if s.prune and s.first_flow:
        _rounds(ctx, table, s, p)
    if p.score_bound is None and s.first_flow:
        p.score_bound = _simple_bound(ctx, table, s.res)
    if p.score_bound is None and table.complete:  # every mentee with room at its best score
        p.score_bound = _simple_bound(ctx, table, s.res, _matched_bound(ctx, table))
    ctx.mark("pricing", t, rounds=p.rounds, potentials_converged=p.converged, log=p.log)
    ctx.timing["rounds"] = p.seconds
    ctx.report("pricing", s.res.counts[2], s.res.score, p.score_bound)
    return p


def _rounds(ctx: Ctx, table: Table, s: Search, p: Pricing) -> None:
    """Cut and pricing rounds on the current flow (it always has phase B), one pass each:

    * counts: the pruned arcs leaving the residual cut of unmatched mentees; none left = the
      matched counts are maximal for the full problem (checked until proven; they never
      change after that);
    * score: reduced-cost pricing under the flow's potentials; once the counts are proven,
      the priced violation bounds the score (``p.score_bound``).

    Both kinds of arcs are added and the flow re-solved (phase B alone once the counts are
    proven), until nothing is left (proven), the loss bound is below ``pricing_tolerance``
    (above ``prove_up_to`` mentees), the budget ``pricing_rounds`` is spent (each re-solve is
    one unit), the next flow and its pricing pass would not fit the work budget (``WORK_*``),
    or the safety stop ends it."""
    cfg, clock, arr = ctx.cfg, ctx.clock, ctx.arr
    # wall seconds per arc of the last re-solve: the next one is expected to take as long per
    # arc (the first re-solve leaves out most pairs, the next ones are far smaller)
    last_flow, last_arcs = 0.0, 1
    # the work budget (``WORK_*``): what the limit allows before the slots and the output
    cells = arr.n_e * arr.n_m
    budget = max(0.5, cfg.time_limit) * (1 - TAIL_SHARE)
    work = cells * WORK_TABLE_CELL + s.res.arcs * WORK_ARC_AB
    while True:
        tr = time.perf_counter()
        if clock.stop("pricing"):
            return
        ae = am = as_ = np.zeros(0, dtype=np.int64)
        passes = 1 if p.counts_proven else 2  # pricing, and the cut until the counts are proven
        if not p.counts_proven:
            out = None
            if p.outside is not None:
                o = p.outside
                sel = ~np.isin(o[0] * arr.n_m + o[1], s.ce * arr.n_m + s.cm)
                out = (o[0][sel], o[1][sel])
            (ae, am, as_), nv = cut_violations(s.net, s.res, table.mat, table.neg, s.rows,
                                               2 * cfg.pricing_per_mentee, out)
            p.log.append({"kind": "cut", "violations": int(nv), "added": int(len(ae))})
            p.counts_proven = nv == 0
        work += cells * WORK_PASS_CELL * passes
        tp = time.perf_counter()
        try:
            d, p.converged = s.net.potentials(s.res)
        except FlowTimeout:
            clock.fire("pricing")
            return
        ctx.timing.setdefault("potentials", []).append(round(time.perf_counter() - tp, 3))
        if not p.converged:
            return
        have = np.sort(s.ce * arr.n_m + s.cm)
        # the first round starts from the pruned prices and moves most of the way: it
        # takes twice as many arcs per mentee
        per = cfg.pricing_per_mentee * (2 if p.added_price == 0 else 1)
        (pe, pm, ps), viol = price(s.net, s.res, d, table.mat, table.neg, s.rows, per, have,
                                   max(1, cfg.num_workers))
        p.log.append({"kind": "price", "violation": int(viol), "added": int(len(pe))})
        if p.counts_proven:
            lv = s.res.levels
            spread_term = lv["spread_max"] * lv["unit_spread"] if lv["spread"] else 0
            b = (s.res.objective_b + viol + spread_term) // lv["unit_score"]
            p.score_bound = b if p.score_bound is None else min(p.score_bound, b)
            p.loss_bound = -(-viol // lv["unit_score"])
            if viol == 0:
                p.score_proven = True
                return
            if arr.n_e > cfg.prove_up_to and \
                    p.loss_bound <= cfg.pricing_tolerance * max(1, s.res.score):
                return
        if len(ae) + len(pe) == 0 or p.rounds >= cfg.pricing_rounds:
            return
        # the next flow and the pricing pass that bounds it must fit the work budget
        # every re-solve leaves out the pairs that priced far too high (``_settled_out``);
        # until the counts are proven, the next cut keeps them in its residual network
        kept = _settled_out(s, d)
        if not p.counts_proven and len(kept[0]) < len(s.ce):
            gone = ~np.isin(s.ce * arr.n_m + s.cm, kept[0] * arr.n_m + kept[1])
            lost = (s.ce[gone], s.cm[gone], s.cs[gone])
            p.outside = lost if p.outside is None else _merge(p.outside, lost)
        n_pair = int(s.res.net["n_pair"])  # arcs of the pairs: one per common slot group
        arcs = s.res.arcs - n_pair + n_pair * (len(kept[0]) + len(ae) + len(pe)) // \
            max(1, len(s.ce))
        nxt = arcs * (WORK_ARC_B if p.counts_proven else WORK_ARC_AB)
        if work + nxt + cells * WORK_PASS_CELL > budget:
            p.log.append({"kind": "budget", "work": round(work, 1), "next": round(nxt, 1)})
            return
        work += nxt
        if clock.stop("pricing", last_flow * arcs / last_arcs):
            return  # the next flow would not end in time: the last bound stands
        p.rounds += 1
        p.added_cut += len(ae)
        p.added_price += len(pe)
        s.ce, s.cm, s.cs = _merge(kept, (np.concatenate([ae, pe]),
                                                        np.concatenate([am, pm]),
                                                        np.concatenate([as_, ps])))
        tf = time.perf_counter()
        try:
            if p.counts_proven:
                s.res = s.net.solve(s.ce, s.cm, s.cs, ctx.locked, s.active, ctx.hint_map,
                                    phases="B", counts=s.res.net["raw"])
            else:
                s.res = s.net.solve(s.ce, s.cm, s.cs, ctx.locked, s.active, ctx.hint_map)
        except FlowTimeout:  # the previous flow and the bound of this round stand
            clock.fire("pricing")
            return
        last_flow, last_arcs = time.perf_counter() - tf, max(1, s.res.arcs)
        ctx.timing.setdefault("flow_b", []).append(round(last_flow, 3))
        p.seconds.append(round(time.perf_counter() - tr, 3))
        ctx.report("pricing", s.res.counts[2], s.res.score, p.score_bound)


def _settled_out(s: Search, d: Arr) -> Triple:
    """The network's pairs without those ``settled_codes`` leaves out. Pricing sees the pairs
    left out like any pruned one, so the bound stays valid; on dense 20,000 the second re-solve
    keeps a quarter of the pairs, takes 2.9 s instead of 5.1 s and reaches the same score. Also
    the first re-solve (counts not yet proven): the next cut counts the pairs left out as
    residual arcs (``Pricing.outside``), so they cost no count-proof round; on skewed 20,000 it
    takes 3.3 s instead of 6.2 s and a second round fits the work budget."""
    code = settled_codes(s.res, d, s.net.arr.n_m)
    have = s.ce * s.net.arr.n_m + s.cm  # sorted by (mentee, mentor): codes ascending
    sel = np.isin(have, code)
    return s.ce[sel], s.cm[sel], s.cs[sel]


def _place(ctx: Ctx, table: Table, s: Search) -> Placement:
    """Phase 5: a start for every pair; clashes go to the CP-SAT repair; the safety-net fill."""
    t = time.perf_counter()
    slots, dropped = _realise(ctx, s.net, s.res)
    assign = s.res.mentor.copy()
    cp_info: dict[str, Any] = {}
    if dropped:
        assign, slots, cp_info = _cpsat_repair(ctx, table, assign, slots, dropped)
    filled = _fill(ctx, table, assign, slots, s.active)
    ctx.mark("slots", t, overlapping=len(dropped), banned=0, dropped=len(dropped),
             filled=filled, **cp_info)
    return Placement(assign, slots, len(dropped), filled)


def _finish(ctx: Ctx, table: Table, s: Search, p: Pricing, pl: Placement) -> Solution:
    """Phase 6: the solution with its status, bound, gap and the solver's own account."""
    cfg, arr, res = ctx.cfg, ctx.arr, s.res
    sol = _build_solution(ctx, table, pl.assign, pl.slots, ctx.clock.fired is not None)
    st = sol.stats
    flow_kept = not pl.overlapping and not pl.filled
    proven = p.counts_proven and p.score_proven and flow_kept
    st.status = "OPTIMAL" if proven else "FEASIBLE"
    st.bound = max(int(p.score_bound), st.objective) if p.score_bound is not None else None
    if proven:
        st.bound = st.objective
    st.gap = (round((st.bound - st.objective) / st.bound, 6)
              if st.bound is not None and st.bound > 0 else (0.0 if st.bound == 0 else None))
    st.matched_bound = res.counts[2] if p.counts_proven else _matched_bound(ctx, table)
    if not table.complete:
        st.matched_bound = int(min(arr.n_e, int(arr.cap.sum())))
    if ctx.clock.fired:
        st.safety_stop = ctx.clock.fired
    st.wall_time = round(time.perf_counter() - ctx.t0, 3)
    st.timing = ctx.timing
    st.model = {"mentees": arr.n_e, "mentors": arr.n_m, "pairs": int(len(s.ce)),
                "eligible_pairs": int(table.n_el.sum()), "flow_arcs": res.arcs,
                "flow_nodes": res.nodes, "slot_group": arr.g}
    st.phases = ctx.phases
    st.pruning = {
        "enabled": s.prune,
        "top_k_mentee": s.k_mentee,
        "top_k_mentor_factor": cfg.top_k_mentor_factor,
        "pairs_kept_initially": int(s.n_kept0),
        "pairs_kept": int(len(s.ce)),
        "pairs_pruned": int(table.n_el.sum() - len(s.ce)),
        "rounds": p.rounds,
        "cut_pairs_added": p.added_cut,
        "price_pairs_added": p.added_price,
        "counts_proven": p.counts_proven,
        "score_proven": p.score_proven,
        # what pruning can still cost at most, in score points (0 = nothing lost)
        "score_loss_bound": p.loss_bound,
        "repaired_pairs": pl.overlapping,
        "levels": {k: v for k, v in res.levels.items() if k in ("spread", "hint")},
    }
    ctx.report("done", st.matched, st.objective, st.bound)
    return sol


def _merge(a: Triple, b: Triple) -> Triple:
    e = np.concatenate([a[0], np.asarray(b[0], dtype=np.int64)])
    m = np.concatenate([a[1], np.asarray(b[1], dtype=np.int64)])
    s = np.concatenate([a[2], np.asarray(b[2], dtype=np.int64)])
    order = np.lexsort((m, e))
    e, m, s = e[order], m[order], s[order]
    keep = np.ones(len(e), dtype=bool)
    keep[1:] = (e[1:] != e[:-1]) | (m[1:] != m[:-1])
    return e[keep], m[keep], s[keep]


def _greedy(ctx: Ctx, net: Network, ce: Arr, cm: Arr, cs: Arr) -> FlowResult:
    """The flow result when the safety stop cut the first flow: the accepted locks, then the
    candidate pairs, mentors in turns (each its best remaining candidate), where the mentor has
    room and a free common start."""
    prep, arr, sched, locked, clock = ctx.prep, ctx.arr, ctx.sched, ctx.locked, ctx.clock
    mentor = np.full(arr.n_e, -1, dtype=np.int64)
    taken: dict[int, list[int]] = {}
    for i, j in locked.mentor.items():
        mentor[i] = j
        taken.setdefault(j, []).append(-10**6)  # counts toward capacity only
    load = np.bincount(mentor[mentor >= 0], minlength=arr.n_m)
    # mentors take turns, each its best remaining candidate: the first n_m arcs already reach
    # every mentor (a global best-score order spends its time on the few popular mentors)
    by_m = np.lexsort((ce, -cs, cm))
    first = np.searchsorted(cm[by_m], cm[by_m], side="left")
    turn = np.empty(len(cm), dtype=np.int64)
    turn[by_m] = np.arange(len(cm)) - first
    order = np.lexsort((cm, ce, -cs, turn))
    placed: dict[int, list[int]] = {}
    for k, (i, j) in enumerate(zip(ce[order].tolist(), cm[order].tolist(), strict=True)):
        # the first n_e arcs always: a late start still gives a useful result
        if k >= arr.n_e and k % 4096 == 0 and time.perf_counter() > clock.hard:
            break
        if mentor[i] >= 0 or load[j] >= arr.cap[j] or j in taken:
            continue
        b = sched.free(j, placed.get(j, []), bits(prep.common(i, j)))
        if b is not None:
            mentor[i] = j
            load[j] += 1
            placed.setdefault(j, []).append(b)
    return FlowResult(mentor=mentor, node=np.full(arr.n_e, -1, dtype=np.int64),
                      counts=(len(locked.mentor), 0, len(locked.mentor)), score=0,
                      objective_b=0, spread=0, arcs=0, nodes=net.n_nodes,
                      levels={"spread": False, "hint": False}, net={})


def _simple_bound(ctx: Ctx, table: Table, res: FlowResult, matched: int | None = None) -> int:
    """Valid without potentials: each matched mentee at its best score (per class). With
    ``matched`` (an upper bound on the matched count): the best ``matched`` mentees, any
    class."""
    arr, mat, neg, locked = ctx.arr, table.mat, table.neg, ctx.locked
    best = np.where((mat > neg).any(1), mat.max(1).astype(np.int64), np.iinfo(np.int64).min)
    lk = np.zeros(arr.n_e, dtype=bool)
    lk[list(locked.mentor)] = True
    total = 0
    for i, j in locked.mentor.items():
        total += int(mat[i, j]) if mat[i, j] > neg else 0
    if matched is not None:
        vals = np.sort(best[~lk])[::-1][:max(0, matched - len(locked.mentor))]
        return total + int(vals[vals > np.iinfo(np.int64).min].clip(min=0).sum())
    _, n_p, n_all = res.counts
    n_p_unlocked = n_p
    n_n_unlocked = n_all - res.counts[0] - n_p_unlocked
    for mask, k in ((arr.prio & ~lk, n_p_unlocked), (~arr.prio & ~lk, n_n_unlocked)):
        vals = np.sort(best[mask])[::-1][:k]
        total += int(vals[vals > np.iinfo(np.int64).min].sum())
    return total


def _matched_bound(ctx: Ctx, table: Table) -> int:
    arr, n_el, locked = ctx.arr, table.n_el, ctx.locked
    lk = np.zeros(arr.n_e, dtype=bool)
    lk[list(locked.mentor)] = True
    return int(min(int(((n_el > 0) | lk).sum()), int(arr.cap.sum())))


def _options(ctx: Ctx, net: Network, i: int, j: int, node: int) -> list[int]:
    """Common starts of (i, j): those of the flow's slot group first, the hinted one first."""
    prep, arr, hint_map = ctx.prep, ctx.arr, ctx.hint_map
    common = bits(prep.common(i, j))
    first = [b for b in common if _node_of_bit(arr, net, j, b) == node]
    h = hint_map.get(i)
    rest = [b for b in common if b not in first]
    opts = first + rest
    if h is not None and h[0] == j and h[1] in opts:
        pos = 0 if h[1] in first else len(first)
        opts.remove(h[1])
        opts.insert(pos, h[1])
    return opts


def _node_of_bit(arr: Arrays, net: Network, j: int, b: int) -> int:
    c = int(np.searchsorted(arr.slot_bits, b))
    if c >= arr.n_slots or int(arr.slot_bits[c]) != b:
        return -1
    return int(net.node_of[j, c])


def _realise(ctx: Ctx, net: Network, res: FlowResult
             ) -> tuple[dict[int, int], list[tuple[int, int]]]:
    """Concrete starts per mentor. Returns (slots, dropped pairs that could not be placed)."""
    prep, sched, locked = ctx.prep, ctx.sched, ctx.locked
    by_m: dict[int, list[int]] = {}
    for i in np.nonzero(res.mentor >= 0)[0].tolist():
        by_m.setdefault(int(res.mentor[i]), []).append(i)
    slots: dict[int, int] = {}
    dropped: list[tuple[int, int]] = []
    for j in sorted(by_m):
        ms = by_m[j]
        opts = {}
        for i in ms:
            if i in locked.slot:
                opts[i] = [locked.slot[i]]
            else:
                opts[i] = _options(ctx, net, i, j, int(res.node[i]))
        # the flow's own groups first: nearly always a valid placement already
        first = {i: opts[i][0] for i in ms}
        if sched.fits(j, [(i, [first[i]]) for i in ms]) is not None:
            slots.update(first)
            continue
        got = sched.fits(j, [(i, opts[i]) for i in ms])
        if got is not None:
            slots.update(got)
            continue
        # keep locked ones and the best others; the rest go to the CP-SAT repair
        keep = [i for i in ms if i in locked.mentor]
        others = sorted((i for i in ms if i not in locked.mentor),
                        key=lambda i: (-int(prep.mentees[i].priority), i))
        cur = sched.fits(j, [(i, opts[i]) for i in keep]) or {}
        for i in others:
            trial = sched.fits(j, [(x, opts[x]) for x in keep + [i]])
            if trial is None:
                dropped.append((i, j))
            else:
                keep.append(i)
                cur = trial
        slots.update(cur)
    return slots, dropped


def _cpsat_repair(ctx: Ctx, table: Table, assign: Arr, slots: dict[int, int],
                  dropped: list[tuple[int, int]]) -> tuple[Arr, dict[int, int], dict[str, Any]]:
    """CP-SAT over the mentors whose sessions overlapped: their mentees and the dropped ones,
    every eligible start; hinted with the current placement; lexicographic objective.
    Single worker and a deterministic-time limit: same input, same answer."""
    prep, arr, sched, locked, cfg = ctx.prep, ctx.arr, ctx.sched, ctx.locked, ctx.cfg
    clock, report, mat, neg = ctx.clock, ctx.report, table.mat, table.neg
    assign = assign.copy()
    for i, _j in dropped:
        assign[i] = -1
    # neighbourhood: the mentors with overlapping sessions, their mentees, and the best few
    # other eligible mentors of those mentees (with all of their mentees)
    core = {j for _i, j in dropped}
    near = {i for i in range(arr.n_e) if assign[i] in core} | {i for i, _j in dropped}
    mset = set(core)
    for i in sorted(near):
        row = mat[i].astype(np.int64)
        js = np.nonzero(row > neg)[0]
        mset.update(js[np.argsort(-row[js], kind="stable")[:NEIGHBOURS]].tolist())
    mentors = sorted(mset)
    mentees = sorted({i for i in range(arr.n_e) if assign[i] in mset} | near)
    info: dict[str, Any] = {"cpsat_mentors": len(mentors), "cpsat_mentees": len(mentees)}
    if clock.stop("slots", 0.05):
        return assign, slots, {**info, "cpsat": "no time left"}
    m = cp_model.CpModel()
    x: dict[tuple[int, int, int], Any] = {}
    maxs = arr.max_abs_score
    spread_unit = 1
    score_unit = sum(prep.mentors[j].capacity ** 2 for j in mentors) + 1
    big = (len(mentees) + 1) * (2 * maxs + 1) * score_unit
    bigp = (len(mentees) + 1) * big
    obj: list[Any] = []
    for i in mentees:
        for j in mentors:
            if mat[i, j] <= neg and locked.mentor.get(i) != j:
                continue
            opts = [locked.slot[i]] if i in locked.slot else bits(prep.common(i, j))
            if i in locked.mentor and locked.mentor[i] != j:
                continue
            for b in opts:
                v = m.new_bool_var(f"x{i}_{j}_{b}")
                x[(i, j, b)] = v
                w = int(mat[i, j]) * score_unit + big + (bigp if arr.prio[i] else 0)
                obj.append(w * v)
    by_e: dict[int, list[Any]] = {}
    by_m: dict[int, list[Any]] = {}
    by_mb: dict[tuple[int, int], list[Any]] = {}
    by_md: dict[tuple[int, int], list[Any]] = {}
    for (i, j, b), v in x.items():
        by_e.setdefault(i, []).append(v)
        by_m.setdefault(j, []).append(v)
        by_mb.setdefault((j, b), []).append(v)
        if sched.limit(j) is not None:
            by_md.setdefault((j, sched.day(j, b)), []).append(v)
    for i, vs in by_e.items():
        if i in locked.mentor:
            m.add(sum(vs) == 1)
        else:
            m.add(sum(vs) <= 1)
    for j, vs in by_m.items():
        c = prep.mentors[j].capacity if cfg.rule("capacity") else len(vs)
        load = sum(vs)
        m.add(load <= c)
        ys = [m.new_bool_var(f"y{j}_{k}") for k in range(min(c, len(vs)))]
        for y0, y1 in zip(ys, ys[1:], strict=False):
            m.add(y0 >= y1)
        m.add(sum(ys) == load)
        obj.extend(-k * spread_unit * y for k, y in enumerate(ys))
        now = int((assign == j).sum())
        for k, y in enumerate(ys):
            m.add_hint(y, 1 if k < now else 0)
    if sched.exclusive:
        for j in mentors:
            starts = sorted({b for (jj, b) in by_mb if jj == j})
            for a_i, a0 in enumerate(starts):
                group = [b for b in starts[a_i:] if b == a0 or sched.conflict(a0, b)]
                m.add(sum(v for b in group for v in by_mb[(j, b)]) <= 1)
    for (j, _d), vs in by_md.items():
        m.add(sum(vs) <= sched.limit(j))
    m.maximize(sum(obj))
    for (i, j, b), v in x.items():
        m.add_hint(v, 1 if assign[i] == j and slots.get(i) == b else 0)

    class _Cb(cp_model.CpSolverSolutionCallback):
        def on_solution_callback(self) -> None:
            report("cpsat", None, None, None, throttle=True)

    solver = cp_model.CpSolver()
    p = solver.parameters
    p.random_seed = cfg.seed
    p.num_workers = 1
    p.max_deterministic_time = max(0.05, cfg.cpsat_time)  # the budget: deterministic
    p.max_time_in_seconds = max(0.05, clock.left())  # the safety stop
    code = solver.solve(m, _Cb())
    if code != cp_model.OPTIMAL and solver.wall_time >= 0.98 * p.max_time_in_seconds:
        clock.stop("slots", 1e9)
    info["cpsat"] = solver.status_name(code)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return assign, slots, info
    new_assign, new_slots = assign.copy(), dict(slots)
    for i in mentees:
        if i not in locked.mentor:
            new_assign[i] = -1
            new_slots.pop(i, None)
    for (i, j, b), v in x.items():
        if solver.boolean_value(v):
            new_assign[i] = j
            new_slots[i] = b
    if _lex(arr, mat, new_assign) < _lex(arr, mat, assign):
        info["cpsat"] += " (kept the flow placement)"
        return assign, slots, info
    return new_assign, new_slots, info


def _lex(arr: Arrays, mat: Arr, assign: Arr) -> tuple[int, int, int, int]:
    idx = np.nonzero(assign >= 0)[0]
    load = np.bincount(assign[idx], minlength=arr.n_m)
    return (int(arr.prio[idx].sum()), len(idx), int(mat[idx, assign[idx]].astype(np.int64).sum()),
            -int((load * (load - 1) // 2).sum()))


def _fill(ctx: Ctx, table: Table, assign: Arr, slots: dict[int, int], active: Arr) -> int:
    """Safety net: an unmatched mentee with an eligible mentor who has room and a free common
    start gets it (best score first). Returns how many were added."""
    prep, arr, sched, clock, mat, neg = ctx.prep, ctx.arr, ctx.sched, ctx.clock, table.mat, \
        table.neg
    load = np.bincount(assign[assign >= 0], minlength=arr.n_m)
    taken: dict[int, list[int]] = {}
    for i in np.nonzero(assign >= 0)[0].tolist():
        taken.setdefault(int(assign[i]), []).append(slots[i])
    added = 0
    order = sorted(np.nonzero((assign < 0) & active)[0].tolist(),
                   key=lambda i: (not prep.mentees[i].priority, i))
    for i in order:
        if time.perf_counter() > clock.hard:
            clock.fire("slots")
            break
        row = mat[i]
        js = np.nonzero((row > neg) & (load < arr.cap))[0]
        for j in js[np.argsort(-row[js].astype(np.int64), kind="stable")].tolist():
            b = sched.free(j, taken.get(j, []), bits(prep.common(i, j)))
            if b is not None:
                assign[i] = j
                slots[i] = b
                load[j] += 1
                taken.setdefault(j, []).append(b)
                added += 1
                break
    return added


def unmatched_reason(ctx: Ctx, table: Table, i: int, load: Arr, taken: dict[int, list[int]],
                     stopped: bool = False, counts: tuple[Arr, Arr] | None = None
                     ) -> tuple[str, dict[str, int]]:
    """(reason, params) that is true of the solution (validate.py checks it). ``stopped``:
    the safety stop fired, so a mentee with an eligible mentor with room is ``time_limit``."""
    prep, arr, sched, mat, neg = ctx.prep, ctx.arr, ctx.sched, table.mat, table.neg
    n_ok, n_el = table.n_ok, table.n_el
    if stopped and not arr.rows_done[i]:
        return "time_limit", {}
    if n_ok[i] == 0:
        return "no_eligible_mentor", {}
    if n_el[i] == 0:
        return "no_common_time", {"eligible": 0}
    if counts is not None:  # (eligible, with room) per mentee, computed in blocks
        n_js, n_room = int(counts[0][i]), int(counts[1][i])
        if n_room == 0:
            return "capacity_taken", {"eligible": n_js, "with_room": 0}
        if stopped:
            return "time_limit", {"eligible": n_js, "with_room": n_room}
    js = np.nonzero(mat[i] > neg)[0]
    room = [j for j in js.tolist() if load[j] < arr.cap[j]]
    if not room:
        return "capacity_taken", {"eligible": len(js), "with_room": 0}
    if stopped:
        return "time_limit", {"eligible": len(js), "with_room": len(room)}
    by_day = 0
    for j in room:
        common = bits(prep.common(i, j))
        if sched.limit(j) is not None and any(
                all(not sched.conflict(b, c) for c in taken.get(j, [])) for b in common):
            by_day += 1
    # every eligible mentor with room left has no free common start: taken by their other
    # mentees, or (day_limit of them) their sessions-per-day limit is reached
    return "no_common_time", {"eligible": len(js), "with_room": len(room), "day_limit": by_day}


def _build_solution(ctx: Ctx, table: Table, assign: Arr, slots: dict[int, int],
                    stopped: bool = False) -> Solution:
    prep, arr, mat, neg, locked = ctx.prep, ctx.arr, table.mat, table.neg, ctx.locked
    cfg = prep.config
    step = cfg.slot_step_minutes
    pairs: list[Pair] = []
    unmatched: list[Unmatched] = []
    total = prio = 0
    load = np.bincount(assign[assign >= 0], minlength=arr.n_m)
    taken: dict[int, list[int]] = {}
    for i in np.nonzero(assign >= 0)[0].tolist():
        taken.setdefault(int(assign[i]), []).append(slots[i])
    kinds = {(p.mentee, p.mentor): "fixed" for p in prep.instance.fixed}
    counts = None
    if stopped and arr.n_m:  # many unmatched after a safety stop: count in blocks, fast
        # eligible mentors = n_el; with room: only the unmatched rows x the mentors with room
        room = np.nonzero(load < arr.cap)[0]
        un = np.nonzero(assign < 0)[0]
        n_room = np.zeros(arr.n_e, dtype=np.int64)
        for blk in _row_blocks(len(un), len(room)):
            n_room[un[blk]] = (mat[np.ix_(un[blk], room)] > neg).sum(1)
        counts = (table.n_el.astype(np.int64), n_room)
    for i, e in enumerate(prep.mentees):
        j = int(assign[i])
        if j < 0:
            r, params = unmatched_reason(ctx, table, i, load, taken, stopped, counts)
            unmatched.append(Unmatched(e.id, r, params))
            continue
        mt = prep.mentors[j]
        minute = slots[i] * step
        mode = pair_mode(e, mt, cfg) or "online"
        score, breakdown = score_pair(e, mt, cfg, mode)
        el = local_time(e.tz, minute, cfg.reference_week)
        ml = local_time(mt.tz, minute, cfg.reference_week)
        why = reason_codes(e, mt, breakdown, (el.weekday, el.time, el.tz), mode)
        wd, hhmm = utc_label(minute)
        kind = ""
        if i in locked.mentor:
            kind = kinds.get((e.id, mt.id), "lock")
        pairs.append(Pair(e.id, mt.id, Slot(minute, wd, hhmm, ml, el), mode, score, breakdown,
                          why, locked=kind == "lock", fixed=kind == "fixed"))
        total += score
        prio += e.priority
    spread = int((load * (load - 1) // 2).sum())
    st = Stats(objective=total, matched=len(pairs), matched_priority=prio, load_spread=spread)
    return Solution(pairs, unmatched, ctx.infeasible, st)
