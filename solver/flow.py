"""Min-cost-flow core shared by the solver and the exact reference.

Network (one per solve)::

    source -> mentee -> (mentor, slot group) -> (mentor, local day) -> mentor -> sink

* A *slot group* is a run of ``ceil(session / step)`` consecutive grid starts: starts inside one
  group pairwise overlap, so "at most one session per group" is a valid (relaxed) form of "a mentor
  never has two sessions at once". With ``step >= session`` a group is one start and the network is
  exact; with a finer grid (default 30-min step, 60-min sessions, so 07:30 starts exist) starts in
  neighbouring groups can still overlap and ``model.py`` repairs them per mentor.
* (mentor, day) arcs carry the sessions-per-day limit, mentor -> sink arcs the capacity, split in
  unit arcs of cost 0, 1, 2, ... (convex) so that load spreading is part of the flow objective.

Objective, lexicographic, in two flow solves (this keeps every cost small enough for OR-Tools'
cost scaling, which multiplies costs by the node count; a single big-M objective overflows int64
at 20,000 mentees):

* phase A, ``solve_max_flow_with_min_cost``: maximum flow (matched mentees); among maximum flows the
  most feasible locks, then the most priority mentees (costs -(n_prio+1) and -1). The sets of
  mentees that can be matched together form a matroid (a gammoid of this network), so "priority
  first, then as many as possible" and "as many as possible, then priority" have the same optima;
  with phase B the same counts come from push-relabel maximum flows (``run_counts``, a fraction
  of the time);
* phase B, ``solve`` with the counts of phase A as exact supplies (locked mentees, priority and
  other mentees from separate sources): summed pair score, then load spread (k-th mentee of a
  mentor costs k-1), then closeness to the hint (+2 hinted mentor and slot group, +1 hinted mentor).
  Scaling keeps the order exact: spread unit > total hint bonus, score unit > total spread + hint.

Pruning (``candidates``) keeps each mentee's top-K mentors by score and, capacity-aware, gives each
mentor capacity*F of its eligible mentees in a seeded pseudo-random sample (score orders pick the
same few people on both sides when quality is correlated; a spread-out choice is a random
bipartite graph over all capacity, so the first flow already matches nearly everyone who can be
matched). Its loss is then measured and bought back, not guessed:

* ``cut_violations``: the mentees reachable from unmatched mentees in the residual network form a
  cut; an eligible pruned arc leaving that cut is the only way the full network can match more
  (or more priority mentees). Such arcs are added and the flow re-solved until none is left: then
  the matched counts are proven maximal for the full problem;
* ``potentials`` (the least feasible potentials of the residual network of phase B: shortest
  distances out of every node, negated; a vectorised label-correcting Bellman-Ford) give dual
  prices in which a full mentor's free slots cost what displacing one of its mentees costs; a
  pruned arc with negative reduced cost could raise the score. The worst ones per mentee are added
  (column generation) and the flow re-solved; the remaining violation is a valid bound on what
  pruning can still cost: full optimum <= restricted optimum + sum over mentees of the largest
  violation (raise the mentee's potential, pay for it on its unit source arc: LP duality).
  No violation left = the restricted optimum is the optimum of the full network.

numpy is used for the vectorised pair evaluation: OR-Tools imports it and its flow API takes numpy
arrays, so it adds no dependency of its own (it is declared in pyproject.toml all the same).
"""

from __future__ import annotations

import os
import select
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from ortools.graph.python import max_flow, min_cost_flow

from .eligibility import IN_PERSON, ONLINE, Prepared
from .scoring import competency_points, points, preference_points
from .slots import bits, local_day

Arr = NDArray[Any]
Triple = tuple[Arr, Arr, Arr]

BLOCK_CELLS = 1_500_000
ONE_HOT_MAX = 256  # distinct units / cities / grades folded into the score's matrix product
INT64_SAFE = 2**62
FORK_ARCS = 150_000  # flows with more arcs run in a child process that the deadline can stop
SAMPLE_EVERY = 8  # candidate arcs: mentor thresholds from every 8th mentee row (4,096+)
SPREAD_SLACK = 64  # score points the spread level may add to a pricing bound (``spread_gap``)


class FlowTimeout(Exception):
    """The wall-clock deadline came before a min-cost flow finished (the safety stop).
    ``arcs``: what was computed until then, if anything (candidate pairs)."""

    def __init__(self, arcs: Triple | None = None):
        super().__init__("deadline")
        self.arcs = arcs


def run_flow(tails: Arr, heads: Arr, caps: Arr, costs: Arr, supplies: Arr, max_flow: bool,
             deadline: float | None = None) -> tuple[Arr, int]:
    """One OR-Tools min-cost flow: (flows, optimal cost). OR-Tools holds the GIL and cannot be
    interrupted, so with a ``deadline`` (``time.perf_counter()`` value) a large flow runs in a
    forked child, which is killed at the deadline (``FlowTimeout``). The child computes exactly
    what the parent would: the result does not depend on where it ran."""
    def compute() -> Arr:
        f = min_cost_flow.SimpleMinCostFlow()
        f.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
        f.set_nodes_supplies(np.arange(len(supplies), dtype=np.int32), supplies)
        st = f.solve_max_flow_with_min_cost() if max_flow else f.solve()
        if st != f.OPTIMAL:
            raise RuntimeError(f"min cost flow failed with status {st}")
        flows = np.asarray(f.flows(np.arange(len(tails), dtype=np.int32)), dtype=np.int64)
        return np.concatenate([[np.int64(f.optimal_cost())], flows])

    out = _guarded(compute, len(tails) + 1, len(tails), deadline)
    return out[1:].copy(), int(out[0])


def run_counts(tails: Arr, heads: Arr, caps: Arr, source: int, sink: int, lock_arcs: Arr,
               arc_sp: int, arc_sn: int, deadline: float | None = None
               ) -> tuple[Arr, int, int]:
    """The counts of phase A by push-relabel maximum flows, a fraction of a min-cost flow's
    time: (flow on each lock's source arc, priority count, total) of a maximum flow that keeps
    as many locks as possible, then as many priority mentees as possible. Three flows: locks
    alone, then with the priority sources, then all. The mentees matchable together form a
    matroid (a gammoid of this network), so the locks of the first flow extend to a maximum
    set of locks and priority mentees, and that to a maximum flow (with non-priority mentees
    only): phase B can take the lock set and the two counts as its supplies."""
    def compute() -> Arr:
        f = max_flow.SimpleMaxFlow()
        f.add_arcs_with_capacity(tails, heads, caps)
        cap_sp, cap_sn = int(caps[arc_sp]), int(caps[arc_sn])
        f.set_arc_capacity(arc_sp, 0)
        f.set_arc_capacity(arc_sn, 0)
        out = []
        if len(lock_arcs):
            if f.solve(source, sink) != f.OPTIMAL:
                raise RuntimeError("max flow failed")
            out.append(np.asarray(f.flows(lock_arcs.astype(np.int32)), dtype=np.int64))
        n_lock = int(out[0].sum()) if out else 0
        f.set_arc_capacity(arc_sp, cap_sp)
        if f.solve(source, sink) != f.OPTIMAL:
            raise RuntimeError("max flow failed")
        n_p = int(f.optimal_flow()) - n_lock
        f.set_arc_capacity(arc_sn, cap_sn)
        if f.solve(source, sink) != f.OPTIMAL:
            raise RuntimeError("max flow failed")
        return np.concatenate([*out, np.array([n_p, int(f.optimal_flow()) - n_lock],
                                                dtype=np.int64)])

    out = _guarded(compute, len(lock_arcs) + 2, len(tails), deadline)
    return out[:len(lock_arcs)].copy(), int(out[-2]), int(out[-1])


def _guarded(compute: Any, n_out: int, n_arcs: int, deadline: float | None) -> Arr:
    """``compute()`` (an int64 array of ``n_out`` values), in a forked child that the deadline
    can kill when the network is large (``FORK_ARCS``)."""
    if deadline is None or n_arcs < FORK_ARCS or not hasattr(os, "fork"):
        res: Arr = compute()
        return res
    if time.perf_counter() >= deadline:
        raise FlowTimeout
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: solve, write the values, leave without running any cleanup
        code = 0
        try:
            os.close(r)
            data = np.asarray(compute(), dtype=np.int64).tobytes()
            view = memoryview(data)
            while view:
                view = view[os.write(w, view):]
        except BaseException:  # noqa: BLE001 - the parent sees the missing bytes
            code = 3
        os._exit(code)
    os.close(w)
    chunks: list[bytes] = []
    try:
        while True:
            left = deadline - time.perf_counter()
            if left <= 0 or not select.select([r], [], [], left)[0]:
                os.kill(pid, signal.SIGKILL)
                raise FlowTimeout
            chunk = os.read(r, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(r)
        os.waitpid(pid, 0)
    data = b"".join(chunks)
    if len(data) != 8 * n_out:
        raise RuntimeError("flow failed in its worker process")
    return np.frombuffer(data, dtype=np.int64)


def group_size(session: int, step: int) -> int:
    """Starts per slot group: all starts of a group overlap each other."""
    return max(1, -(-session // step))


class Arrays:
    """Column arrays of a ``Prepared`` instance for vectorised evaluation.

    Slots are compacted to the grid starts some mentor can use at all (about 70 a week instead of
    336 grid positions), so a person's slot set is one or two 64-bit words."""

    def __init__(self, prep: Prepared):
        cfg = prep.config
        w = cfg.weights
        self.prep = prep
        E, M = prep.mentees, prep.mentors
        self.n_e, self.n_m = len(E), len(M)
        self.rows_done = np.ones(self.n_e, dtype=bool)  # pair-table rows computed (matrix)
        self.eg = np.array([e.grade for e in E], dtype=np.int64)
        # ungraded mentors (external partners): outside the seniority rule and grade distance
        self.m_graded = np.array([m.grade is not None for m in M], dtype=bool)
        self.mg = np.array([m.grade if m.grade is not None else 0 for m in M], dtype=np.int64)
        # the grade rule as one comparison: mentor >= mentee + k, ungraded mentors always pass
        self.mg_rule = np.where(self.m_graded, self.mg.clip(-16000, 16000), 32000)\
            .astype(np.int16)
        self.eg_rule = (self.eg.clip(-16000, 16000) + cfg.min_grade_gap).clip(-32000, 32000)\
            .astype(np.int16)
        codes: dict[str, int] = {}
        self.e_unit = np.array([codes.setdefault(e.unit, len(codes)) for e in E], dtype=np.int32)
        self.m_unit = np.array([codes.setdefault(m.unit, len(codes)) for m in M], dtype=np.int32)
        cities: dict[str, int] = {}
        self.e_city = np.array(
            [cities.setdefault(e.city, len(cities)) if e.city else -1 for e in E], dtype=np.int32
        )
        self.m_city = np.array(
            [cities.setdefault(m.city, len(cities)) if m.city else -2 for m in M], dtype=np.int32
        )
        mode_rule = cfg.rule("mode")
        self.e_on = np.array([not mode_rule or e.mode in ONLINE for e in E], dtype=bool)
        self.e_ip = np.array([not mode_rule or e.mode in IN_PERSON for e in E], dtype=bool)
        self.m_on = np.array([not mode_rule or m.mode in ONLINE for m in M], dtype=bool)
        self.m_ip = np.array([not mode_rule or m.mode in IN_PERSON for m in M], dtype=bool)
        comps = prep.competencies
        nc = len(comps)
        self.W = np.array([competency_points(w, c) for c in comps], dtype=np.int32)
        cur = np.array([[e.levels.get(c, 0) for c in comps] for e in E], dtype=np.int16)
        req = np.array([[e.required.get(c, 0) for c in comps] for e in E], dtype=np.int16)
        lev = np.array([[m.levels.get(c, 0) for c in comps] for m in M], dtype=np.int16)
        self.cur16 = cur.reshape(self.n_e, nc)
        self.req16 = np.maximum(req.reshape(self.n_e, nc), self.cur16)
        self.lev16 = lev.reshape(self.n_m, nc)
        self.cap = np.array([m.capacity for m in M], dtype=np.int64)
        if not cfg.rule("capacity"):
            self.cap = np.full(self.n_m, max(1, self.n_e), dtype=np.int64)
        self.prio = np.array([e.priority for e in E], dtype=bool)
        self.p_same_unit = points(w.same_unit)
        self.p_other_unit = points(w.other_unit)
        self.p_city = points(w.same_city)
        self.p_grade = points(w.grade_distance)
        self.k = cfg.min_grade_gap
        bans: dict[int, set[int]] = {}
        for i, e in enumerate(E):
            if cfg.rule("supervisor") and e.supervisor_id in prep.mentor_idx:
                bans.setdefault(i, set()).add(prep.mentor_idx[e.supervisor_id])
        for rule, pairs in (("no_repeat", prep.previous), ("forbids", prep.forbidden)):
            if not cfg.rule(rule):
                continue
            for eid, mid in pairs:
                if eid in prep.mentee_idx and mid in prep.mentor_idx:
                    bans.setdefault(prep.mentee_idx[eid], set()).add(prep.mentor_idx[mid])
        self.bans = bans
        prefs: dict[int, list[tuple[int, int]]] = {}
        for i, e in enumerate(E):
            n = len(e.preferences)
            for r, mid in enumerate(e.preferences):
                if mid in prep.mentor_idx:
                    prefs.setdefault(i, []).append(
                        (prep.mentor_idx[mid], preference_points(w, r, n))
                    )
        self.prefs = prefs
        self.max_abs_score = self._max_abs_score()
        self._score_factors()
        self._slots(prep)

    def _score_factors(self) -> None:
        """The pair score as one matrix product (plus a constant): A @ B.T per row block
        instead of several passes per competency over the block.

        * competency c: the gap closed, max(0, min(level, required) - current), is the number
          of levels l with current < l <= required and l <= level: A[e, (c, l)] =
          W_c * [current < l <= required], B[m, (c, l)] = [level >= l];
        * unit: other_unit + (same_unit - other_unit) * [same unit] (one-hot columns);
        * city: same_city * [both may meet in person and share a city] (one-hot columns);
        * grade distance: max(0, mentor - mentee - k) = the number of t with
          mentee + k < t <= mentor (graded mentors only).

        A term with too many distinct values (more than ``ONE_HOT_MAX`` units, cities or
        grades) stays element-wise (``self.slow``). Integer-valued with every partial sum
        below 2**24 (float32) or 2**53 (float64): exact in any BLAS summation order."""
        E, M = self.prep.mentees, self.prep.mentors
        nc = len(self.W)
        cols_a: list[Arr] = []
        cols_b: list[Arr] = []
        top = int(max(self.req16.max(initial=0), self.lev16.max(initial=0)))
        if nc and top:
            lv = np.arange(1, top + 1, dtype=np.int16)
            a = ((self.cur16[:, :, None] < lv) & (lv <= self.req16[:, :, None])) \
                * self.W[None, :, None].astype(np.int64)
            b = self.lev16[:, :, None] >= lv
            cols_a.append(a.reshape(self.n_e, nc * top))
            cols_b.append(b.reshape(self.n_m, nc * top))
        self.slow: set[str] = set()
        self.base_score = self.p_other_unit
        n_units = int(max(self.e_unit.max(initial=-1), self.m_unit.max(initial=-1))) + 1
        if self.p_same_unit != self.p_other_unit:
            if n_units <= ONE_HOT_MAX:
                u = np.arange(n_units)
                cols_a.append((self.e_unit[:, None] == u) *
                              np.int64(self.p_same_unit - self.p_other_unit))
                cols_b.append(self.m_unit[:, None] == u)
            else:
                self.slow.add("unit")
        n_cities = int(max(self.e_city.max(initial=-1), self.m_city.max(initial=-1))) + 1
        if self.p_city:
            if n_cities <= ONE_HOT_MAX:
                c = np.arange(n_cities)
                cols_a.append((self.e_city[:, None] == c) * self.e_ip[:, None] *
                              np.int64(self.p_city))
                cols_b.append((self.m_city[:, None] == c) & self.m_ip[:, None])
            else:
                self.slow.add("city")
        if self.p_grade and self.n_e and self.n_m:
            lo = int(self.eg.min()) + self.k + 1
            hi = int(self.mg.max())
            if hi - lo + 1 <= ONE_HOT_MAX:
                t = np.arange(lo, max(lo, hi + 1))
                cols_a.append((t[None, :] > (self.eg + self.k)[:, None]) * np.int64(self.p_grade))
                cols_b.append((t[None, :] <= self.mg[:, None]) & self.m_graded[:, None])
            else:
                self.slow.add("grade")
        a_all = np.concatenate(cols_a, axis=1) if cols_a else np.zeros((self.n_e, 0), np.int64)
        b_all = np.concatenate(cols_b, axis=1) if cols_b else np.zeros((self.n_m, 0), bool)
        total = int(np.abs(a_all).sum(axis=1).max(initial=0))
        self.gemm_type = np.float32 if total < 2**24 else np.float64
        self.score_a = a_all.astype(self.gemm_type)
        self.score_b = np.ascontiguousarray(b_all.T.astype(self.gemm_type))
        del E, M

    def _slots(self, prep: Prepared) -> None:
        cfg = prep.config
        self.step = cfg.slot_step_minutes
        self.length = cfg.session_minutes
        self.g = group_size(self.length, self.step) \
            if cfg.rule("one_mentee_per_slot") and not cfg.mentor_blocks else 1
        union = 0
        for m in prep.mentor_mask:
            union |= m
        self.slot_bits = np.array(bits(union), dtype=np.int64)  # compact index -> grid start
        self.n_slots = len(self.slot_bits)
        self.n_words = max(1, (self.n_slots + 63) // 64)
        self.e_words = _compact(prep.mentee_mask, self.slot_bits, self.n_words)
        self.m_words = _compact(prep.mentor_mask, self.slot_bits, self.n_words)
        # common slots as a matrix product too: a count > 0 means a common start
        self.slot_a = _unpack(self.e_words, self.n_slots).astype(np.float32)
        self.slot_b = np.ascontiguousarray(_unpack(self.m_words, self.n_slots).T
                                           .astype(np.float32))
        # group key per (mentor, compact slot): (start // g) * 7 + local weekday; -1 = not free
        days: dict[str, np.ndarray] = {}
        self.mkey = np.full((self.n_m, self.n_slots), -1, dtype=np.int64)
        self.mday = np.zeros((self.n_m, self.n_slots), dtype=np.int64)
        for j, mt in enumerate(prep.mentors):
            if mt.tz not in days:
                days[mt.tz] = np.array(
                    [local_day(mt.tz, int(b) * self.step, cfg.reference_week)
                     for b in self.slot_bits], dtype=np.int64)
            d = days[mt.tz]
            self.mday[j] = d
            have = _bits_of_words(self.m_words[j], self.n_slots)
            if self.g == 1:
                self.mkey[j, have] = self.slot_bits[have] * 7 + d[have]
                continue
            # groups aligned to the start of each run of consecutive starts of this mentor:
            # a window 07:30-09:30 gives {07:30, 08:00} {08:30}, i.e. its two real sessions
            b = self.slot_bits[have]
            run_start = np.ones(len(b), dtype=bool)
            run_start[1:] = (b[1:] != b[:-1] + 1) | (d[have][1:] != d[have][:-1])
            first = np.maximum.accumulate(np.where(run_start, np.arange(len(b)), 0))
            lead = b[first] + ((b - b[first]) // self.g) * self.g
            self.mkey[j, have] = lead * 7 + d[have]
        self.n_keys = int(self.mkey.max()) + 1 if self.mkey.size else 1

    def _max_abs_score(self) -> int:
        gap = int((self.W.astype(np.int64) * 5).sum()) if len(self.W) else 0
        return (
            gap
            + points(self.prep.config.weights.preference)
            + abs(self.p_city)
            + max(abs(self.p_same_unit), abs(self.p_other_unit))
            + abs(self.p_grade) * 40
            + 1
        )

    def block(self, rows: Arr, cols: Arr | None = None) -> tuple[Arr, Arr, Arr]:
        """(eligible ignoring time, eligible, score) for mentee rows x mentor cols.

        Score and common slots are matrix products (``_score_factors``, ``slot_a``); the
        rest is boolean and int16 element-wise work on the block."""
        cfg = self.prep.config
        cs = slice(None) if cols is None else cols
        ec, mc = self.e_city[rows][:, None], self.m_city[cs][None, :]
        online = self.e_on[rows][:, None] & self.m_on[cs][None, :]
        both_ip = self.e_ip[rows][:, None] & self.m_ip[cs][None, :]
        if cfg.rule("same_city_in_person") or "city" in self.slow:
            same_city = ec == mc
        ip = both_ip & same_city if cfg.rule("same_city_in_person") else both_ip
        ok = online | ip
        graded = self.m_graded[cs][None, :]
        if cfg.rule("grade"):
            ok &= self.mg_rule[cs][None, :] >= self.eg_rule[rows][:, None]
        col_pos = None if cols is None else {int(c): p for p, c in enumerate(cols)}
        for r, i in enumerate(rows.tolist()):
            for j in self.bans.get(i, ()):
                if col_pos is None:
                    ok[r, j] = False
                elif j in col_pos:
                    ok[r, col_pos[j]] = False
        elig = ok & ((self.slot_a[rows] @ self.slot_b[:, cs]) > 0)
        if self.score_a.shape[1]:
            score = (self.score_a[rows] @ self.score_b[:, cs]).astype(np.int32)
        else:
            score = np.zeros(ok.shape, dtype=np.int32)
        score += np.int32(self.base_score)
        if "unit" in self.slow:
            eu, mu = self.e_unit[rows][:, None], self.m_unit[cs][None, :]
            score += (eu == mu) * np.int32(self.p_same_unit - self.p_other_unit)
        if "city" in self.slow:
            # the same-city bonus goes to in-person pairs; pair_mode picks in-person when allowed
            score += (both_ip & same_city) * np.int32(self.p_city)
        if "grade" in self.slow:
            eg, mg = self.eg[rows][:, None], self.mg[cs][None, :]
            score += (np.maximum(mg - eg - self.k, 0) * graded * self.p_grade).astype(np.int32)
        for r, i in enumerate(rows.tolist()):
            for j, p in self.prefs.get(i, ()):
                if col_pos is None:
                    score[r, j] += p
                elif j in col_pos:
                    score[r, col_pos[j]] += p
        return ok, elig, score

    def matrix(self, workers: int = 1, deadline: float | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """The whole pair table once: score where eligible, ``NEG`` elsewhere (int16 when the
        scores fit: 20,000 x 6,667 pairs are 270 MB), plus per mentee the number of mentors
        passing the pair rules ignoring time (n_ok) and with a common slot (n_el).

        ``deadline`` (the safety stop): row blocks not started by then stay ``NEG`` (no
        eligible mentor) and ``self.rows_done`` is False for them."""
        dtype = np.int16 if self.max_abs_score < 30_000 else np.int32
        neg = np.iinfo(dtype).min
        mat = np.full((self.n_e, self.n_m), neg, dtype=dtype)
        n_ok = np.zeros(self.n_e, dtype=np.int64)
        n_el = np.zeros(self.n_e, dtype=np.int64)
        self.rows_done = np.zeros(self.n_e, dtype=bool)

        def one(rows: Arr) -> None:
            if deadline is not None and time.perf_counter() >= deadline:
                return
            self.rows_done[rows] = True
            ok, elig, score = self.block(rows)
            dst = mat[int(rows[0]): int(rows[-1]) + 1]  # row blocks are contiguous
            np.copyto(dst, score, casting="unsafe")  # scores fit the table's type
            np.copyto(dst, neg, where=~elig)
            n_ok[rows] = ok.sum(1)
            n_el[rows] = elig.sum(1)

        blocks = list(_row_blocks(self.n_e, self.n_m))
        if workers > 1 and len(blocks) > 1:
            with ThreadPoolExecutor(max_workers=workers) as ex:
                list(ex.map(one, blocks))
        else:
            for b in blocks:
                one(b)
        return mat, n_ok, n_el, int(neg)


def _compact(masks: list[int], slot_bits: np.ndarray, n_words: int) -> np.ndarray:
    """Python-int slot masks -> uint64 words over the compact slot index."""
    out = np.zeros((len(masks), n_words), dtype=np.uint64)
    if not len(masks) or not len(slot_bits):
        return out
    nbytes = (int(slot_bits.max()) // 8) + 1
    raw = np.frombuffer(
        b"".join((m & ((1 << (8 * nbytes)) - 1)).to_bytes(nbytes, "little") for m in masks),
        dtype=np.uint8,
    ).reshape(len(masks), nbytes)
    allbits = np.unpackbits(raw, axis=1, bitorder="little")[:, slot_bits]
    pad = np.zeros((len(masks), n_words * 64), dtype=np.uint8)
    pad[:, : allbits.shape[1]] = allbits
    packed = np.packbits(pad, axis=1, bitorder="little")
    return packed.view(np.uint64).reshape(len(masks), n_words).copy()


def _unpack(words: Arr, n: int) -> Arr:
    """uint64 words per row -> (rows, n) 0/1 uint8 over the compact slot index."""
    as_bytes = np.ascontiguousarray(words).view(np.uint8).reshape(len(words),
                                                                  8 * words.shape[1])
    out: Arr = np.unpackbits(as_bytes, axis=1, bitorder="little")[:, :n]
    return out


def _bits_of_words(words: np.ndarray, n: int) -> np.ndarray:
    as_bytes = np.ascontiguousarray(words).view(np.uint8)
    return np.nonzero(np.unpackbits(as_bytes, bitorder="little")[:n])[0]


def _row_blocks(n_rows: int, n_cols: int) -> Iterator[Arr]:
    step = max(1, BLOCK_CELLS // max(1, n_cols))
    for s in range(0, n_rows, step):
        yield np.arange(s, min(n_rows, s + step))


def _dedup(e: Arr, m: Arr, s: Arr) -> Triple:
    order = np.lexsort((m, e))
    e, m, s = e[order], m[order], s[order]
    keep = np.ones(len(e), dtype=bool)
    keep[1:] = (e[1:] != e[:-1]) | (m[1:] != m[:-1])
    return e[keep], m[keep], s[keep]


def candidates(arr: Arrays, mat: np.ndarray, neg: int, rows: np.ndarray, k_mentee: int,
               f_mentor: int, f_regret: int = 24, deadline: float | None = None,
               workers: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Capacity-aware pruning: each (active) mentee keeps its top-K eligible mentors by score,
    each mentor about capacity*F eligible mentees spread over all mentees, and about
    capacity*f_regret mentees for whom it is worth the most above their outside option (their
    K-th best score: a cheap dual estimate; on the dense family at 5,000 the restricted optimum
    goes from 89 % to 99.5 % of the exact one with 60 % more arcs). Deterministic.

    Two row-major passes over the table (a mentor's column is never gathered): the first
    takes the top-K and the outside options; the mentor thresholds (sample rate, regret) come
    from every ``SAMPLE_EVERY``-th row; the second keeps the cells above them."""
    k = min(k_mentee, arr.n_m)
    n_act = len(rows)
    outside = np.zeros(arr.n_e, dtype=np.int64)
    blocks = list(_row_blocks(n_act, arr.n_m))

    def top(blk: Arr) -> tuple[Arr, Arr] | None:
        if deadline is not None and time.perf_counter() >= deadline:
            return None
        r = rows[blk]
        sub = mat[r]
        top_ = np.argpartition(-sub.astype(np.int32), k - 1, axis=1)[:, :k] \
            if k < arr.n_m else np.tile(np.arange(arr.n_m), (len(r), 1))
        sel = np.take_along_axis(sub, top_, 1)
        ok = sel > neg
        ii, kk = np.nonzero(ok)
        low = np.where(ok, sel.astype(np.int64), np.int64(1) << 40).min(axis=1)
        outside[r] = np.where(ok.any(axis=1), low, 0)
        return r[ii], top_[ii, kk]

    es: list[Arr] = [np.zeros(0, np.int64)]
    ms: list[Arr] = [np.zeros(0, np.int64)]

    def cut_short() -> FlowTimeout:
        e, m = _dedup2(np.concatenate(es), np.concatenate(ms))
        return FlowTimeout((e, m, mat[e, m].astype(np.int64)))

    if k and n_act:
        for part in _pmap(top, blocks, workers):
            if part is None:
                raise cut_short()
            es.append(part[0])
            ms.append(part[1])
    if n_act == 0 or f_mentor == 0:  # no mentor side at all (neither sample nor regret)
        e, m = _dedup2(np.concatenate(es), np.concatenate(ms))
        return e, m, mat[e, m].astype(np.int64)
    # mentor side: every mentor keeps about capacity*F eligible mentees in a pseudo-random
    # sample that differs per mentor (seeded, deterministic). Any score-based order ranks the
    # same few mentees first for every mentor; a spread-out choice instead gives the flow a
    # random bipartite graph of degree ~F over all capacity: nearly every mentee that can be
    # matched is matched in the first solve, and pricing then buys the score back.
    seed = np.uint64((arr.prep.config.seed * 2654435761 + 1) % (1 << 64))
    row_h = _mix(np.arange(arr.n_e, dtype=np.uint64) + seed)
    col_h = _mix(np.arange(arr.n_m, dtype=np.uint64) * np.uint64(0xBF58476D1CE4E5B9) + seed)
    samp = rows[::SAMPLE_EVERY] if n_act >= 4096 else rows  # small: every row, exact counts
    sub_s = np.ascontiguousarray(mat[samp].T)  # mentors x sampled mentees
    el_s = sub_s > neg
    n_el_c = -(-el_s.sum(axis=1).astype(np.int64) * n_act // len(samp))  # estimated
    lk_all = (arr.cap * f_mentor).astype(np.int64)
    thr = np.where(n_el_c <= lk_all, 1 << 21,
                   -(-(lk_all << 20) // np.maximum(n_el_c, 1))).astype(np.uint32)
    # regret: gain = score - outside option, as score + (c - outside) >= 0 for eligible cells
    off_all = int(outside[rows].max()) + 1 - outside
    wide = arr.max_abs_score + int(off_all[rows].max()) + 1 >= 30_000 or mat.dtype != np.int16
    gtype = np.int32 if wide else np.int16
    off = off_all.clip(-(1 << 30), 1 << 30).astype(gtype)
    low = np.iinfo(gtype).min
    gthr = np.full(arr.n_m, np.iinfo(gtype).max, dtype=gtype)
    if f_regret:
        g_s = np.where(el_s, sub_s.astype(gtype) + off[samp][None, :], low)
        want = -(-(arr.cap * f_regret) * len(samp) // n_act)  # per mentor, in the sample
        n_s_el = el_s.sum(axis=1)
        gthr[:] = low + 1  # fewer eligible sampled than wanted: every eligible mentee
        for w in np.unique(want[want <= len(samp)]).tolist():
            js = np.nonzero((want == w) & (n_s_el > w))[0]
            if len(js) and w > 0:
                ns = g_s.shape[1]  # the w-th largest (no negation: int16 min has no opposite)
                gthr[js] = np.partition(g_s[js], ns - w, axis=1)[:, ns - w]
        del g_s
    del sub_s, el_s

    def keep(blk: Arr) -> tuple[Arr, Arr] | None:
        if deadline is not None and time.perf_counter() >= deadline:
            return None
        r = rows[blk]
        sub = mat[r]
        sel = (row_h[r][:, None] ^ col_h[None, :]) < thr[None, :]
        if f_regret:
            sel |= (sub.astype(gtype, copy=False) + off[r][:, None]) >= gthr[None, :]
        sel &= sub > neg
        ii, jj = np.nonzero(sel)
        return r[ii], jj.astype(np.int64)

    for part in _pmap(keep, blocks, workers):
        if part is None:
            raise cut_short()
        es.append(part[0])
        ms.append(part[1])
    e, m = _dedup2(np.concatenate(es), np.concatenate(ms))
    return e, m, mat[e, m].astype(np.int64)


def _dedup2(e: Arr, m: Arr) -> tuple[Arr, Arr]:
    e, m, _ = _dedup(e.astype(np.int64), m.astype(np.int64), np.zeros(len(e), np.int64))
    return e, m


def _pmap(fn: Any, items: list[Any], workers: int) -> list[Any]:
    """``fn`` over ``items``, on threads when ``workers`` > 1 (numpy releases the GIL);
    results in input order: deterministic."""
    if workers > 1 and len(items) > 1:
        with ThreadPoolExecutor(max_workers=workers) as ex:
            return list(ex.map(fn, items))
    return [fn(x) for x in items]


def _mix(x: Arr) -> Arr:
    """splitmix64 finaliser, 20 bits: a seeded pseudo-random key per row or column."""
    x = x.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    x ^= x >> np.uint64(31)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(29)
    out: Arr = (x >> np.uint64(44)).astype(np.uint32)
    return out


def naive_top(mat: Arr, neg: int, k: int) -> Triple:
    """The naive baseline: each mentee keeps its own top-k mentors, nothing else."""
    n_e, n_m = mat.shape
    es, ms = [], []
    k = min(k, n_m)
    for blk in _row_blocks(n_e, n_m):
        sub = mat[blk]
        top = np.argpartition(-sub.astype(np.int32), k - 1, axis=1)[:, :k] if k < n_m else \
            np.tile(np.arange(n_m), (len(blk), 1))
        sel = np.take_along_axis(sub, top, 1)
        ii, kk = np.nonzero(sel > neg)
        es.append(blk[ii])
        ms.append(top[ii, kk])
    e, m = np.concatenate(es), np.concatenate(ms)
    e, m, _ = _dedup(e, m, np.zeros(len(e), np.int64))
    return e, m, mat[e, m].astype(np.int64)


@dataclass
class Locked:
    """Pre-assigned mentees (feasible locks and fixed pairs): mentor and, if fixed, slot."""

    mentor: dict[int, int] = field(default_factory=dict)
    slot: dict[int, int] = field(default_factory=dict)  # grid start (global bit)


@dataclass
class FlowResult:
    mentor: np.ndarray  # per mentee, -1 = unmatched
    node: np.ndarray  # slot-group node per mentee, -1
    counts: tuple[int, int, int]  # (locked, priority, total) matched
    score: int  # summed pair score
    objective_b: int  # -cost of phase B (scaled objective of the relaxation on these arcs)
    spread: int  # sum over mentors of load*(load-1)/2
    arcs: int
    nodes: int
    levels: dict[str, Any]
    net: dict[str, Any]  # arrays kept for residual analyses


class Network:
    """Static part of the expanded network for an instance (slot, day, mentor nodes)."""

    def __init__(self, arr: Arrays, spread: bool = True):
        prep = arr.prep
        cfg = prep.config
        self.arr = arr
        self.spread_on = spread
        self.deadline: float | None = None  # the safety stop for the flows (``run_flow``)
        self.spread_slack = SPREAD_SLACK
        self.bypass_days = True
        self.max_flow_counts = True  # phase A by maximum flows (``run_counts``)
        self.sink_side = True  # potentials: least (distances out of each node), see potentials
        # eligible pairs per mentor over the WHOLE problem (set by a pruned solve): a mentor's
        # unit arcs to the sink are min(capacity, this), as in the network of every eligible
        # arc. Trimming them to the arcs at hand instead would give a pruned network less
        # capacity than the full one, which pricing cannot see (a false OPTIMAL; found by a
        # property test with the mentor-side candidates off)
        self.reach: Arr | None = None
        n_e, n_m = arr.n_e, arr.n_m
        jj, cc = np.nonzero(arr.mkey >= 0)
        codes = jj * arr.n_keys + arr.mkey[jj, cc]
        self.slot_code = np.unique(codes)
        self.n_s = len(self.slot_code)
        self.slot_mentor = self.slot_code // arr.n_keys
        self.slot_key = self.slot_code % arr.n_keys
        dcode = self.slot_mentor * 7 + self.slot_key % 7
        self.day_code, self.slot_day = np.unique(dcode, return_inverse=True)
        self.n_d = len(self.day_code)
        self.day_mentor = self.day_code // 7
        self.s0 = n_e  # slot nodes
        self.d0 = self.s0 + self.n_s
        self.m0 = self.d0 + self.n_d
        self.T = self.m0 + n_m
        self.S0, self.SP, self.SN = self.T + 1, self.T + 2, self.T + 3
        self.n_nodes = self.T + 4
        spd = cfg.rule("sessions_per_day")
        self.day_limit = np.array(
            [m.max_sessions_per_day if spd and m.max_sessions_per_day else 1 << 30
             for m in prep.mentors], dtype=np.int64)
        self.per_slot = 1 if cfg.rule("one_mentee_per_slot") else None
        # bit position (compact slot) -> slot node, per mentor: for pricing and slot choice
        self.node_of = np.full((n_m, arr.n_slots), -1, dtype=np.int64)
        self.node_of[jj, cc] = self.s0 + np.searchsorted(self.slot_code, codes)

    def expand(self, pe: Arr, pm: Arr, free: Arr | None = None) -> tuple[Arr, Arr]:
        """Pair arrays -> (pair index, slot node) for every common slot group (``free``:
        pairs exempt from the common-slot rule, every slot of the mentor)."""
        arr = self.arr
        if len(pe) == 0:
            z = np.zeros(0, np.int64)
            return z, z
        common = arr.e_words[pe] & arr.m_words[pm]
        if free is not None and free.any():
            common[free] = arr.m_words[pm[free]]
        ps, ns = [], []
        one = np.uint64(1)
        for c in range(arr.n_slots):
            col = common[:, c // 64]
            hit = np.nonzero((col >> np.uint64(c % 64)) & one)[0]
            if len(hit):
                ps.append(hit)
                ns.append(self.node_of[pm[hit], c])
        if not ps:
            z = np.zeros(0, np.int64)
            return z, z
        p = np.concatenate(ps)
        n = np.concatenate(ns)
        key = np.unique(p * self.n_nodes + n)
        return key // self.n_nodes, key % self.n_nodes

    def solve(self, pe: Arr, pm: Arr, ps: Arr, locked: Locked, active: Arr,
              hint: dict[int, tuple[int, int | None]] | None = None,
              ban: set[tuple[int, int]] | None = None, phases: str = "AB",
              counts: tuple[int, int, frozenset[int]] | None = None) -> FlowResult:
        """Two-phase lexicographic flow over the pair arcs (pe, pm, ps); see the module doc."""
        arr = self.arr
        n_e, n_m = arr.n_e, arr.n_m
        hint = hint or {}
        # locked mentees only keep arcs to their mentor (and their fixed slot)
        is_locked = np.zeros(n_e, dtype=bool)
        if locked.mentor:
            li = np.array(sorted(locked.mentor), dtype=np.int64)
            is_locked[li] = True
            keep = ~is_locked[pe]
            lj = np.array([locked.mentor[i] for i in li.tolist()], dtype=np.int64)
            le = li
            ls = np.array([self._score(i, j) for i, j in zip(li.tolist(), lj.tolist(),
                                                              strict=True)], dtype=np.int64)
            n_keep = int(keep.sum())
            pe = np.concatenate([pe[keep], le])
            pm = np.concatenate([pm[keep], lj])
            ps = np.concatenate([ps[keep], ls])
            free = np.zeros(len(pe), dtype=bool)
            free[n_keep:] = [self.arr.prep.exempt_from(i, j, "common_slot")
                             for i, j in zip(li.tolist(), lj.tolist(), strict=True)]
        else:
            free = None
        if self.deadline is not None and time.perf_counter() >= self.deadline:
            raise FlowTimeout  # building the network takes seconds at 20,000 mentees
        ap, an = self.expand(pe, pm, free)
        if self.deadline is not None and time.perf_counter() >= self.deadline:
            raise FlowTimeout
        if locked.slot:
            ok = np.ones(len(ap), dtype=bool)
            for i, b in locked.slot.items():
                c = int(np.searchsorted(arr.slot_bits, b))
                want = self.node_of[locked.mentor[i], c] if c < arr.n_slots and \
                    arr.slot_bits[c] == b else -2
                sel = pe[ap] == i
                ok[sel] = an[sel] == want
            ap, an = ap[ok], an[ok]
        a_e = pe[ap]
        a_m = pm[ap]
        a_s = ps[ap]
        act = active | is_locked
        a_ok = act[a_e]
        if ban:
            codes = np.array([i * self.n_nodes + v for i, v in sorted(ban)], dtype=np.int64)
            a_ok &= ~np.isin(a_e * self.n_nodes + an, codes)
        ap, an, a_e, a_m, a_s = ap[a_ok], an[a_ok], a_e[a_ok], a_m[a_ok], a_s[a_ok]
        n_pair_arcs = len(a_e)
        # capacity: mentor -> sink unit arcs, no more than the arcs that can reach the mentor
        reach = np.bincount(a_m, minlength=n_m)
        if self.reach is not None:
            reach = np.maximum(reach, self.reach)
        cap = np.minimum(arr.cap, reach)
        day_cap = self.day_limit[self.day_mentor]
        if self.per_slot is None:
            slot_cap = arr.cap[self.slot_mentor]
        else:
            slot_cap = np.ones(self.n_s, dtype=np.int64)
        # levels and scaling (see module doc)
        hint_on = bool(hint)
        h = np.zeros(n_pair_arcs, dtype=np.int64)
        if hint_on:
            for idx in np.nonzero(np.isin(a_e, np.fromiter(hint, dtype=np.int64)))[0].tolist():
                j, hb = hint[int(a_e[idx])]
                if j == int(a_m[idx]):
                    h[idx] = 1
                    if hb is not None and self._node_has(int(an[idx]), j, hb):
                        h[idx] = 2
        spread_max = int((cap * (cap - 1) // 2).sum())
        spread_gap = self.spread_gap(cap, spread_max)
        levels = {"spread": self.spread_on, "hint": hint_on}
        hint_total = 2 * n_e + 1 if hint_on else 1
        unit_spread = hint_total
        unit_score = (spread_gap * unit_spread if self.spread_on else 0) + hint_total
        max_abs = int(np.abs(a_s).max()) if n_pair_arcs else 1
        if (max_abs + 1) * unit_score * (self.n_nodes + 1) * 4 >= INT64_SAFE:
            levels["hint"] = hint_on = False
            h[:] = 0
            unit_spread = 1
            unit_score = (spread_gap if self.spread_on else 0) + 1
        if (max_abs + 1) * unit_score * (self.n_nodes + 1) * 4 >= INT64_SAFE:
            levels["spread"] = False
            unit_score = 1
        # arcs: pair | source | slot->day | day->mentor | mentor->sink (unit arcs)
        mj = np.repeat(np.arange(n_m), cap)
        kth = np.arange(len(mj)) - np.repeat(np.cumsum(cap) - cap, cap)
        unlocked_act = np.nonzero(active & ~is_locked)[0]
        lock_idx = np.nonzero(is_locked)[0]
        src = np.where(arr.prio[unlocked_act], self.SP, self.SN)
        # a day whose limit is at least the mentor's capacity never binds: its slots go
        # straight to the mentor (fewer nodes and arcs for the flow; the day node stays unused)
        day_arc = np.minimum(day_cap, arr.cap[self.day_mentor])
        day_on = day_arc < cap[self.day_mentor] if self.bypass_days else \
            np.ones(self.n_d, dtype=bool)
        via_day = day_on[self.slot_day]
        days_kept = np.nonzero(day_on)[0]
        tails = np.concatenate([
            a_e, src, np.full(len(lock_idx), self.S0), [self.S0, self.S0],
            self.s0 + np.arange(self.n_s), self.d0 + days_kept, self.m0 + mj,
        ]).astype(np.int32)
        heads = np.concatenate([
            an, unlocked_act, lock_idx, [self.SP, self.SN],
            np.where(via_day, self.d0 + self.slot_day, self.m0 + self.slot_mentor),
            self.m0 + self.day_mentor[days_kept], np.full(len(mj), self.T),
        ]).astype(np.int32)
        n_prio = int(arr.prio[unlocked_act].sum())
        caps = np.concatenate([
            np.ones(n_pair_arcs + len(unlocked_act) + len(lock_idx), np.int64),
            [n_prio, len(unlocked_act) - n_prio], slot_cap,
            day_arc[days_kept], np.ones(len(mj), np.int64),
        ]).astype(np.int64)
        n_src = len(unlocked_act) + len(lock_idx) + 2
        o_src = n_pair_arcs
        o_tail = o_src + n_src + self.n_s + len(days_kept)
        cost_a = np.zeros(len(tails), dtype=np.int64)
        cost_a[o_src + len(unlocked_act): o_src + len(unlocked_act) + len(lock_idx)] = \
            -(n_prio + 1)
        cost_a[o_src + len(unlocked_act) + len(lock_idx)] = -1  # S0 -> SP
        cost_b = np.zeros(len(tails), dtype=np.int64)
        cost_b[:n_pair_arcs] = -(a_s * unit_score + h)
        if levels["spread"]:
            cost_b[o_tail:] = kth * unit_spread
        total = len(unlocked_act) + len(lock_idx)
        # phase A
        ta = time.perf_counter()
        if "A" in phases and "B" in phases and self.max_flow_counts:
            # the counts by maximum flows; phase B below finds the flow itself
            o_lk = o_src + len(unlocked_act)
            lk_flow, n_sp, n_free = run_counts(
                tails, heads, caps, self.S0, self.T, np.arange(o_lk, o_lk + len(lock_idx)),
                o_lk + len(lock_idx), o_lk + len(lock_idx) + 1, self.deadline)
            n_sn = n_free - n_sp
            lk_set = frozenset(lock_idx[lk_flow > 0].tolist())
        elif "A" in phases:
            sup = np.zeros(self.n_nodes, dtype=np.int64)
            sup[self.S0] = total
            sup[self.T] = -total
            flows_a, _ = run_flow(tails, heads, caps, cost_a, sup, True, self.deadline)
            n_sp = int(flows_a[o_src + len(unlocked_act) + len(lock_idx)])
            n_sn = int(flows_a[o_src + len(unlocked_act) + len(lock_idx) + 1])
            lk_flow = flows_a[o_src + len(unlocked_act):
                              o_src + len(unlocked_act) + len(lock_idx)]
            lk_set = frozenset(lock_idx[lk_flow > 0].tolist())
        else:
            assert counts is not None, "phase B alone needs the counts of phase A"
            n_sp, n_sn, lk_set = counts
            lk_flow = np.array([i in lk_set for i in lock_idx.tolist()], dtype=np.int64)
        ta = time.perf_counter() - ta
        raw = (n_sp, n_sn, lk_set)
        if "B" not in phases:  # counts only: the flow of phase A is what the cut needs
            flows_a[o_src: o_src + n_src] = 0  # residual analyses never traverse sources
            used = np.nonzero(flows_a[:n_pair_arcs] > 0)[0]
            mentor = np.full(n_e, -1, dtype=np.int64)
            node = np.full(n_e, -1, dtype=np.int64)
            mentor[a_e[used]] = a_m[used]
            node[a_e[used]] = an[used]
            return FlowResult(
                mentor=mentor, node=node,
                counts=(len(lk_set), int((arr.prio & (mentor >= 0) & ~is_locked).sum()),
                        int((mentor >= 0).sum())),
                score=int(a_s[used].sum()), objective_b=0, spread=0, arcs=len(tails),
                nodes=self.n_nodes, levels={**levels, "seconds_a": round(ta, 3)},
                net={"tails": tails, "heads": heads, "caps": caps, "cost_b": cost_b,
                     "flows": flows_a, "n_pair": n_pair_arcs, "a_e": a_e, "a_m": a_m,
                     "is_locked": is_locked, "unit_score": unit_score, "active": act,
                     "raw": raw})
        # phase B
        tb = time.perf_counter()
        sup = np.zeros(self.n_nodes, dtype=np.int64)
        sup[self.SP] = n_sp
        sup[self.SN] = n_sn
        sup[lock_idx[lk_flow > 0]] = 1
        n_flow = n_sp + n_sn + int((lk_flow > 0).sum())
        sup[self.T] = -n_flow
        flows_b, cost_opt = run_flow(tails, heads, caps, cost_b, sup, False, self.deadline)
        tb = time.perf_counter() - tb
        return self._result_b(arr, flows_b, cost_opt, a_e, a_m, a_s, an, n_pair_arcs, is_locked,
                              lk_flow, levels, unit_score, unit_spread, spread_max, ta, tb,
                              tails, heads, caps, cost_b, act, raw)

    def _result_b(self, arr: Arrays, flows_b: Arr, cost_opt: int, a_e: Arr, a_m: Arr, a_s: Arr,
                  an: Arr, n_pair_arcs: int, is_locked: Arr, lk_flow: Arr,
                  levels: dict[str, Any], unit_score: int, unit_spread: int, spread_max: int,
                  ta: float, tb: float, tails: Arr, heads: Arr, caps: Arr, cost_b: Arr,
                  act: Arr, raw: tuple[int, int, frozenset[int]]) -> FlowResult:
        n_e, n_m = arr.n_e, arr.n_m
        obj_b = -cost_opt
        used = np.nonzero(flows_b[:n_pair_arcs] > 0)[0]
        mentor = np.full(n_e, -1, dtype=np.int64)
        node = np.full(n_e, -1, dtype=np.int64)
        mentor[a_e[used]] = a_m[used]
        node[a_e[used]] = an[used]
        load = np.bincount(a_m[used], minlength=n_m)
        prio_matched = int((arr.prio & (mentor >= 0) & ~is_locked).sum())
        return FlowResult(
            mentor=mentor, node=node,
            counts=(int((lk_flow > 0).sum()), prio_matched, int((mentor >= 0).sum())),
            score=int(a_s[used].sum()), objective_b=obj_b,
            spread=int((load * (load - 1) // 2).sum()), arcs=len(tails), nodes=self.n_nodes,
            levels={**levels, "unit_score": unit_score, "unit_spread": unit_spread,
                    "spread_max": spread_max, "seconds_a": round(ta, 3),
                    "seconds_b": round(tb, 3)},
            net={"tails": tails, "heads": heads, "caps": caps, "cost_b": cost_b,
                 "flows": flows_b, "n_pair": n_pair_arcs, "a_e": a_e, "a_m": a_m,
                 "is_locked": is_locked, "unit_score": unit_score, "active": act,
                 "raw": raw},
        )

    def spread_gap(self, cap: Arr, spread_max: int) -> int:
        """Spread units one score point must outweigh. A simple cycle of the residual network
        passes the sink at most once, so it moves one unit of load between two mentors and
        changes the spread by at most max(cap) - 1; every flow differs from an optimal one by
        simple cycles, so a score unit above that (and the hint total) keeps the order exact.
        The costs stay small: cost scaling runs about log(nodes * largest cost) refine phases.
        The score bound of pricing adds spread_max / spread_gap points (``SPREAD_SLACK`` at
        most), so large networks keep a finer unit."""
        top = int(cap.max()) - 1 if len(cap) else 0
        return max(0, top, -(-spread_max // self.spread_slack))

    def _score(self, i: int, j: int) -> int:
        _, _, s = self.arr.block(np.array([i]), np.array([j]))
        return int(s[0, 0])

    def _node_has(self, node: int, j: int, b: int) -> bool:
        c = int(np.searchsorted(self.arr.slot_bits, b))
        return c < self.arr.n_slots and int(self.arr.slot_bits[c]) == b and \
            int(self.node_of[j, c]) == node

    # --- residual analyses -------------------------------------------------------------
    def _residual(self, res: FlowResult, with_cost: bool) -> tuple[Arr, Arr, Arr | None]:
        n = res.net
        t, hd, cap, fl = n["tails"], n["heads"], n["caps"], n["flows"]
        fwd = fl < cap
        bwd = fl > 0
        u = np.concatenate([t[fwd], hd[bwd]]).astype(np.int64)
        v = np.concatenate([hd[fwd], t[bwd]]).astype(np.int64)
        if not with_cost:
            return u, v, None
        c = np.concatenate([n["cost_b"][fwd], -n["cost_b"][bwd]])
        return u, v, c

    def reachable(self, res: FlowResult, start: np.ndarray,
                  extra: tuple[Arr, Arr] | None = None) -> np.ndarray:
        """Nodes reachable from ``start`` in the residual network (sources not traversed);
        ``extra``: more residual arcs (tails, heads), e.g. eligible pairs outside the network,
        which carry no flow."""
        u, v, _ = self._residual(res, False)
        if extra is not None:
            u, v = np.concatenate([u, extra[0]]), np.concatenate([v, extra[1]])
        keep = (u < self.S0) & (v < self.S0)
        u, v = u[keep], v[keep]
        seen = np.zeros(self.n_nodes, dtype=bool)
        seen[start] = True
        while True:
            nxt = v[seen[u] & ~seen[v]]
            if len(nxt) == 0:
                return seen
            seen[nxt] = True

    def potentials(self, res: FlowResult) -> tuple[np.ndarray, bool]:
        """Feasible potentials of the residual network of phase B (every residual arc has
        reduced cost >= 0): with ``sink_side`` (default) the shortest distances out of every
        node to a virtual sink (0-cost arc from every node), negated: the least such potentials;
        otherwise the distances from a virtual root (the greatest ones, d <= 0).

        A label-correcting Bellman-Ford, vectorised by frontier: each round relaxes only the
        out-arcs of the nodes whose distance dropped in the previous round (dense 20,000: about
        150 rounds, 0.5 s, where one more min-cost flow took 25 s). The residual network of an
        optimal flow has no negative cycle, so it ends within ``n_nodes`` rounds; a deadline
        (the safety stop) raises ``FlowTimeout``. Deterministic. Returns (d, converged)."""
        u, v, c_ = self._residual(res, True)
        assert c_ is not None
        c = c_
        n = self.n_nodes
        if self.sink_side:
            # distances OUT of every node (to a virtual sink), negated: the least feasible
            # potentials. A full mentor's free slots then carry the cost of displacing one of
            # its mentees, where distances from a virtual root leave them at price 0: on dense
            # 20,000 the priced loss drops from more than the score itself to 15 % of it
            u, v = v, u
        order = np.argsort(u, kind="stable")
        u, v, c = u[order], v[order], c[order]
        start = np.searchsorted(u, np.arange(n + 1))
        d = np.zeros(n, dtype=np.int64)
        frontier = np.nonzero(start[1:] > start[:-1])[0]
        self.bf_iterations = 0
        while len(frontier):
            self.bf_iterations += 1
            if self.bf_iterations > n:  # a negative cycle: the flow was not optimal
                return np.zeros(n, dtype=np.int64), False
            if self.deadline is not None and time.perf_counter() >= self.deadline:
                raise FlowTimeout
            lo, hi = start[frontier], start[frontier + 1]
            cnt = hi - lo
            tot = int(cnt.sum())
            if tot == 0:
                break
            idx = np.repeat(lo - np.cumsum(cnt) + cnt, cnt) + np.arange(tot)
            nd = d[u[idx]] + c[idx]
            hv = v[idx]
            better = nd < d[hv]
            if not better.any():
                break
            hv, nd = hv[better], nd[better]
            np.minimum.at(d, hv, nd)
            frontier = np.unique(hv)
        return (-d if self.sink_side else d), True


SETTLED_SHARE = 0.5  # re-solves drop pairs priced above this x the mean (settled_codes)


def settled_codes(res: FlowResult, d: Arr, n_m: int) -> Arr:
    """Codes (mentee * n_m + mentor, ascending) of the network's pairs a re-solve keeps: all
    but those whose every arc has a reduced cost above ``SETTLED_SHARE`` x the mean positive
    one under the potentials ``d``. Pairs carrying flow always stay (the counts stay
    feasible)."""
    n = res.net
    k = n["n_pair"]
    r = n["cost_b"][:k] + d[n["tails"][:k]] - d[n["heads"][:k]]
    pos = r[r > 0]
    theta = int(pos.mean() * SETTLED_SHARE) if len(pos) else 0
    keep = (r <= theta) | (n["flows"][:k] > 0)
    out: Arr = np.unique(n["a_e"][keep] * n_m + n["a_m"][keep])
    return out


def cut_violations(net: Network, res: FlowResult, mat: np.ndarray, neg: int,
                   rows_active: np.ndarray, per_mentee: int,
                   outside: tuple[Arr, Arr] | None = None) -> tuple[Triple, int]:
    """Pruned eligible arcs that leave the residual cut of unmatched (priority) mentees.

    None found = the matched and priority-matched counts are maximal for the full network.
    ``outside``: eligible pairs (mentee, mentor) not in the flow's network, e.g. those the
    re-solve left out. The flow is also one of the network with them (they carry none), so
    their arcs join the residual network: the cut is the same proof, with fewer violations."""
    arr = net.arr
    locked = res.net["is_locked"]
    un = rows_active[(res.mentor[rows_active] < 0) & ~locked[rows_active]]
    extra = None
    if outside is not None and len(outside[0]):
        ip, node = net.expand(outside[0], outside[1])
        extra = (outside[0][ip], node)
    z = net.reachable(res, un, extra)
    un_p = un[arr.prio[un]]
    zp = net.reachable(res, un_p, extra) if len(un_p) else np.zeros(net.n_nodes, dtype=bool)
    rows = rows_active[z[rows_active] & ~locked[rows_active]]
    if len(rows) == 0:
        return _empty3(), 0
    bad_z = bad_words(net, ~z)
    bad_p = bad_words(net, ~zp)
    es: list[Arr] = []
    ms: list[Arr] = []
    ss: list[Arr] = []
    n_viol = 0
    for blk in _row_blocks(len(rows), arr.n_m):
        r = rows[blk]
        sub = mat[r]
        ew = arr.e_words[r]
        hit = np.zeros(sub.shape, dtype=bool)
        for w in range(arr.n_words):
            hit |= (ew[:, w][:, None] & bad_z[:, w][None, :]) != 0
        zr = zp[r]
        if zr.any():  # rows reached from unmatched priority mentees (often none)
            hitp = np.zeros(sub.shape, dtype=bool)
            for w in range(arr.n_words):
                hitp |= (ew[:, w][:, None] & bad_p[:, w][None, :]) != 0
            hit |= hitp & zr[:, None]
        viol = (sub > neg) & hit
        n_viol += int(viol.sum())
        _take_top(sub, viol, r, per_mentee, es, ms, ss, neg)
    if not es:
        return _empty3(), n_viol
    return (np.concatenate(es), np.concatenate(ms), np.concatenate(ss)), n_viol


def bad_words(net: Network, bad_node: np.ndarray) -> np.ndarray:
    """Per mentor, compact-slot words of the slots whose node is flagged."""
    arr = net.arr
    flag = np.zeros(net.node_of.shape, dtype=bool)
    have = net.node_of >= 0
    flag[have] = bad_node[net.node_of[have]]
    pad = np.zeros((arr.n_m, arr.n_words * 64), dtype=np.uint8)
    pad[:, : arr.n_slots] = flag
    return np.packbits(pad, axis=1, bitorder="little").view(np.uint64).reshape(
        arr.n_m, arr.n_words).copy()


def _take_top(sub: Arr, viol: Arr, r: Arr, k: int, es: list[Arr], ms: list[Arr], ss: list[Arr],
              neg: int) -> None:
    val = np.where(viol, sub.astype(np.int64), np.int64(neg) - 1)
    kk = min(k, sub.shape[1])
    top = np.argpartition(-val, kk - 1, axis=1)[:, :kk] if kk < sub.shape[1] else \
        np.tile(np.arange(sub.shape[1]), (len(r), 1))
    sel = np.take_along_axis(val, top, 1)
    ii, cc = np.nonzero(sel >= neg)
    if len(ii):
        es.append(r[ii])
        ms.append(top[ii, cc])
        ss.append(sel[ii, cc])


def _member(codes: np.ndarray, have: np.ndarray) -> np.ndarray:
    if len(have) == 0:
        return np.zeros(len(codes), dtype=bool)
    pos = np.minimum(np.searchsorted(have, codes), len(have) - 1)
    out: Arr = have[pos] == codes
    return out


def _empty3() -> Triple:
    z = np.zeros(0, np.int64)
    return z, z, z


def mentee_slack(res: FlowResult, d: Arr, n_e: int) -> Arr:
    """Per mentee, how far its potential can rise while the potentials stay feasible: the
    least reduced cost of its one residual in-arc (its matched pair arc, backwards, or its unit
    source arc when unmatched). The pricing bound raises a mentee's potential by its largest
    violation and pays only what exceeds this (Lagrangian of that arc, capacity 1). Under the
    least potentials this is mostly the unmatched mentees' source arcs: on dense 20,000 the
    priced loss after one round falls by 15 %."""
    n = res.net
    t, hd, cap, fl, c = n["tails"], n["heads"], n["caps"], n["flows"], n["cost_b"]
    big = np.iinfo(np.int64).max // 4
    free = np.full(n_e, big, dtype=np.int64)
    fwd = (fl < cap) & (hd < n_e)
    h = hd[fwd].astype(np.int64)
    np.minimum.at(free, h, c[fwd] + d[t[fwd]] - d[h])
    bwd = (fl > 0) & (t < n_e)
    tt = t[bwd].astype(np.int64)
    np.minimum.at(free, tt, -c[bwd] + d[hd[bwd]] - d[tt])
    out: Arr = free.clip(min=0)
    return out


def price(net: Network, res: FlowResult, d: np.ndarray, mat: np.ndarray, neg: int,
          rows_active: np.ndarray, per_mentee: int, have: np.ndarray, workers: int = 1
          ) -> tuple[Triple, int]:
    """Reduced-cost pricing of every eligible arc against the potentials ``d``.

    ``have``: sorted codes mentee * n_mentors + mentor of the pairs already in the network.
    Returns (violating arcs to add, sum over mentees of the largest violation in flow units).
    The sum is a valid bound: the full relaxation's optimum <= phase-B optimum + that sum
    (less what each mentee's potential can rise for free, ``mentee_slack``)."""
    arr = net.arr
    unit = res.net["unit_score"]
    locked = res.net["is_locked"]
    rows = rows_active[~locked[rows_active]]
    free = mentee_slack(res, d, arr.n_e)
    node_d = np.where(net.node_of >= 0, d[np.maximum(net.node_of, 0)], np.iinfo(np.int64).min)
    dmax = node_d.max(axis=1) if arr.n_slots else np.zeros(arr.n_m, np.int64)
    es, ms, ss = [], [], []
    total = 0
    # prefilter in the table's own integer type: s * unit + best - d_i > 0 with best <= dmax_j
    # needs s > floor(d_i / unit) - ceil(dmax_j / unit). Thresholds are clipped to half the
    # type's range (one subtraction and one comparison per cell); rows and columns whose
    # clipping would make the test stricter keep every eligible pair. Exact in int64 after.
    lim = int(np.iinfo(mat.dtype).max) // 2 - 1
    fe = d // unit
    cm = -((-np.maximum(dmax, -(np.int64(1) << 60))) // unit)
    te = np.clip(fe, -lim, lim).astype(mat.dtype)
    tm = np.clip(cm, -lim, lim).astype(mat.dtype)
    low_e = fe < -lim
    high_m = cm > lim
    any_high = bool(high_m.any())

    def one(blk: Arr) -> tuple[int, Arr, Arr, Arr] | None:
        r = rows[blk]
        sub = mat[r]
        thr = te[r][:, None] - tm[None, :]
        cand = sub > thr
        del thr
        if any_high:
            cand[:, high_m] |= sub[:, high_m] > neg
        low = low_e[r]
        if low.any():
            cand[low] |= sub[low] > neg
        if not cand.any():
            return None
        # exact check on the few candidates: largest node potential over common slots
        ii, jj = np.nonzero(cand)
        new = ~_member(r[ii] * arr.n_m + jj, have)
        ii, jj = ii[new], jj[new]
        common = arr.e_words[r[ii]] & arr.m_words[jj]
        best = np.full(len(ii), np.iinfo(np.int64).min, dtype=np.int64)
        one_ = np.uint64(1)
        for c in range(arr.n_slots):
            has = ((common[:, c // 64] >> np.uint64(c % 64)) & one_).astype(bool)
            if has.any():
                best = np.where(has, np.maximum(best, node_d[jj, c]), best)
        exact = sub[ii, jj].astype(np.int64) * unit + best - d[r[ii]]
        pos = exact > 0
        if not pos.any():
            return None
        ii, jj, ex = ii[pos], jj[pos], exact[pos]
        per_row = np.zeros(len(r), dtype=np.int64)
        np.maximum.at(per_row, ii, ex)
        # per mentee, the arcs with the largest violation (most negative reduced cost)
        order = np.lexsort((-ex, ii))
        ii, jj = ii[order], jj[order]
        first = np.searchsorted(ii, ii, side="left")
        keep = (np.arange(len(ii)) - first) < per_mentee
        return (int((per_row - free[r]).clip(min=0).sum()), r[ii[keep]], jj[keep],
                sub[ii[keep], jj[keep]].astype(np.int64))

    blocks = list(_row_blocks(len(rows), arr.n_m))
    if workers > 1 and len(blocks) > 1:
        with ThreadPoolExecutor(max_workers=workers) as ex:
            results = list(ex.map(one, blocks))
    else:
        results = [one(b) for b in blocks]
    for res_ in results:  # block order: deterministic
        if res_ is None:
            continue
        total += res_[0]
        es.append(res_[1])
        ms.append(res_[2])
        ss.append(res_[3])
    if not es:
        return _empty3(), total
    return (np.concatenate(es), np.concatenate(ms), np.concatenate(ss)), total


def exact_reference(prep: Prepared, arr: Arrays | None = None, locked: Locked | None = None,
                    workers: int = 1) -> dict[str, Any]:
    """The network above over EVERY eligible pair (no pruning).

    Exact for every rule and the whole lexicographic objective (matched, priority, score, spread)
    when the slot step is >= the session length (``exact`` = True). With overlapping starts
    (finer grid) it is the flow relaxation and its values are upper bounds (``exact`` = False).
    ``locked``: pre-assigned mentees (the same as ``model.check_locks`` accepts)."""
    arr = arr or Arrays(prep)
    mat, _n_ok, _n_el, neg = arr.matrix(workers)
    e, m = np.nonzero(mat > neg)
    s = mat[e, m].astype(np.int64)
    del mat
    net = Network(arr)
    res = net.solve(e.astype(np.int64), m.astype(np.int64), s, locked or Locked(),
                    np.ones(arr.n_e, dtype=bool))
    return {
        "mentor": res.mentor,
        "node": res.node,
        "arcs": res.arcs,
        "score": res.score,
        "matched": res.counts[2],
        "matched_priority": int((arr.prio & (res.mentor >= 0)).sum()),
        "spread": res.spread,
        "exact": arr.g == 1,
    }


__all__ = ["Arrays", "Network", "Locked", "candidates", "naive_top", "cut_violations", "price",
           "exact_reference", "group_size"]
