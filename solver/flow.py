"""Min-cost-flow core: exact reference and the fast (collapsed, capacity-aware pruned) variant.

Exact reference (``exact_reference``): source -> mentee -> (mentor, slot) -> mentor -> sink, one
arc per allowed (mentee, mentor, slot). Exact for the flow core (every rule except
sessions-per-day and load spreading) when slots do not overlap (slot step >= session length).

Fast path: the pair score does not depend on the slot, so slots are collapsed: an arc
mentee -> mentor exists when the pair is eligible and shares >= 1 slot. That flow is a relaxation
(an upper bound); slots are assigned per mentor afterwards (``model.py``). Arcs are pruned
capacity-aware: each mentee keeps its top-K mentors, each mentor its top capacity*F mentees, and
unmatched mentees get arcs to mentors with capacity left, re-solving until no unmatched mentee
has an eligible mentor with room (see ``candidates`` / ``augment_candidates``).

numpy is used for the vectorised pair evaluation: OR-Tools itself imports numpy (and the flow
API takes numpy arrays), so it adds no dependency and makes 20,000 x 6,667 pairs feasible.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from ortools.graph.python import min_cost_flow

from .eligibility import IN_PERSON, ONLINE, Prepared
from .scoring import competency_points, points, preference_points
from .slots import local_day

NEG = np.int32(-(2**30))
BLOCK_CELLS = 1_500_000


class Arrays:
    """Column arrays of a ``Prepared`` instance for vectorised evaluation."""

    def __init__(self, prep: Prepared):
        cfg = prep.config
        w = cfg.weights
        self.prep = prep
        E, M = prep.mentees, prep.mentors
        self.n_e, self.n_m = len(E), len(M)
        self.eg = np.array([e.grade for e in E], dtype=np.int64)
        self.mg = np.array([m.grade for m in M], dtype=np.int64)
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
        self.W = np.array([competency_points(w, c) for c in comps], dtype=np.int32)
        self.cur = np.array([[e.levels.get(c, 0) for c in comps] for e in E], dtype=np.int32)
        self.req = np.array([[e.required.get(c, 0) for c in comps] for e in E], dtype=np.int32)
        self.req = np.maximum(self.req, self.cur)
        self.lev = np.array([[m.levels.get(c, 0) for c in comps] for m in M], dtype=np.int32)
        self.cur = self.cur.reshape(self.n_e, len(comps))
        self.req = self.req.reshape(self.n_e, len(comps))
        self.lev = self.lev.reshape(self.n_m, len(comps))
        self.lev16 = self.lev.astype(np.int16)
        self.req16 = self.req.astype(np.int16)
        self.cur16 = self.cur.astype(np.int16)
        nslots = 7 * 1440 // cfg.slot_step_minutes
        self.nslots = nslots
        self.n_words = (nslots + 63) // 64
        self.e_words = _words(prep.mentee_mask, self.n_words)
        self.m_words = _words(prep.mentor_mask, self.n_words)
        self.cap = np.array([m.capacity for m in M], dtype=np.int64)
        self.prio = np.array([e.priority for e in E], dtype=bool)
        self.p_same_unit = points(w.same_unit)
        self.p_other_unit = points(w.other_unit)
        self.p_city = points(w.same_city)
        self.p_grade = points(w.grade_distance)
        self.k = cfg.min_grade_gap
        # sparse bans and preference bonuses, per mentee row
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

    def _max_abs_score(self) -> int:
        gap = int((self.W.astype(np.int64) * 5).sum()) if len(self.W) else 0
        return (
            gap
            + points(self.prep.config.weights.preference)
            + abs(self.p_city)
            + max(abs(self.p_same_unit), abs(self.p_other_unit))
            + abs(self.p_grade) * 20
            + 1
        )

    def block(self, rows: np.ndarray, cols: np.ndarray | None = None):
        """(eligible ignoring time, eligible, score) for mentee rows x mentor cols."""
        cfg = self.prep.config
        cs = slice(None) if cols is None else cols
        eg = self.eg[rows][:, None]
        mg = self.mg[cs][None, :]
        ec, mc = self.e_city[rows][:, None], self.m_city[cs][None, :]
        same_city = ec == mc
        online = self.e_on[rows][:, None] & self.m_on[cs][None, :]
        both_ip = self.e_ip[rows][:, None] & self.m_ip[cs][None, :]
        ip = both_ip & same_city if cfg.rule("same_city_in_person") else both_ip
        ok = online | ip
        if cfg.rule("grade"):
            ok &= (mg - eg) >= self.k
        col_pos = None if cols is None else {int(c): p for p, c in enumerate(cols)}
        for r, i in enumerate(rows.tolist()):
            for j in self.bans.get(i, ()):
                if col_pos is None:
                    ok[r, j] = False
                elif j in col_pos:
                    ok[r, col_pos[j]] = False
        slot_ok = np.zeros_like(ok)
        ew, mw = self.e_words[rows], self.m_words[cs]
        for w in range(self.n_words):
            slot_ok |= (ew[:, w][:, None] & mw[:, w][None, :]) != 0
        elig = ok & slot_ok
        score = np.zeros(ok.shape, dtype=np.int32)
        lift = np.empty(ok.shape, dtype=np.int16)
        for c in range(len(self.W)):
            np.minimum(self.lev16[cs, c][None, :], self.req16[rows, c][:, None], out=lift)
            lift -= self.cur16[rows, c][:, None]
            np.maximum(lift, 0, out=lift)
            score += lift * np.int32(self.W[c])
        eu, mu = self.e_unit[rows][:, None], self.m_unit[cs][None, :]
        score += np.where(eu == mu, self.p_same_unit, self.p_other_unit)
        if self.p_city:
            score += (both_ip & same_city) * self.p_city
        if self.p_grade:
            score += np.maximum(mg - eg - self.k, 0) * self.p_grade
        for r, i in enumerate(rows.tolist()):
            for j, p in self.prefs.get(i, ()):
                if col_pos is None:
                    score[r, j] += p
                elif j in col_pos:
                    score[r, col_pos[j]] += p
        return ok, elig, score

    def weight(self, rows: np.ndarray, score: np.ndarray) -> np.ndarray:
        """Lexicographic flow weight: priority matched >> matched >> score."""
        big, bigp = self.big()
        pr = self.prio[rows].astype(np.int64) * bigp
        if score.ndim == 2:
            pr = pr[:, None]
        return score.astype(np.int64) + big + pr

    def big(self) -> tuple[int, int]:
        big = 2 * (self.n_e + 1) * self.max_abs_score + 1
        return big, (self.n_e + 1) * big


def _words(masks: list[int], n_words: int) -> np.ndarray:
    out = np.zeros((len(masks), n_words), dtype=np.uint64)
    lim = (1 << 64) - 1
    for r, m in enumerate(masks):
        for w in range(n_words):
            out[r, w] = (m >> (64 * w)) & lim
    return out


def _row_blocks(n_rows: int, n_cols: int):
    step = max(1, BLOCK_CELLS // max(1, n_cols))
    for s in range(0, n_rows, step):
        yield np.arange(s, min(n_rows, s + step))


def _top(a: np.ndarray, k: int, axis: int) -> np.ndarray:
    """Indices of the k largest entries along axis (deterministic; order not sorted)."""
    n = a.shape[axis]
    if k >= n:
        return np.argsort(-a, axis=axis, kind="stable")
    return np.argpartition(-a, k - 1, axis=axis).take(np.arange(k), axis=axis)


class Candidates:
    def __init__(self):
        self.e: list[np.ndarray] = []
        self.m: list[np.ndarray] = []
        self.s: list[np.ndarray] = []

    def add(self, e, m, s):
        self.e.append(np.asarray(e, dtype=np.int64))
        self.m.append(np.asarray(m, dtype=np.int64))
        self.s.append(np.asarray(s, dtype=np.int64))

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not self.e:
            z = np.zeros(0, dtype=np.int64)
            return z, z, z
        e, m, s = np.concatenate(self.e), np.concatenate(self.m), np.concatenate(self.s)
        order = np.lexsort((m, e))
        e, m, s = e[order], m[order], s[order]
        keep = np.ones(len(e), dtype=bool)
        keep[1:] = (e[1:] != e[:-1]) | (m[1:] != m[:-1])
        return e[keep], m[keep], s[keep]


def candidates(
    arr: Arrays, rows: np.ndarray, prune: bool, k_mentee: int, f_mentor: int, workers: int = 1
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], np.ndarray, np.ndarray, int]:
    """Candidate arcs for the given mentee rows.

    Returns ((e, m, score) arrays, eligible-ignoring-time counts, eligible counts, total
    eligible arcs). With ``prune`` each mentee keeps its top-K mentors by score and each mentor
    its top capacity*F mentees (priority mentees first). Blocks run on ``workers`` threads
    (numpy releases the GIL); results are combined in block order, so output is deterministic."""
    cand = Candidates()
    n_ok = np.zeros(arr.n_e, dtype=np.int64)
    n_el = np.zeros(arr.n_e, dtype=np.int64)
    lmax = int(arr.cap.max()) * f_mentor if arr.n_m else 0
    mentor_pool = Candidates()
    big, _ = arr.big()

    def one(blk):
        r = rows[blk]
        ok, elig, score = arr.block(r)
        out = {"r": r, "ok": ok.sum(1), "el": elig.sum(1), "c": [], "p": []}
        if not prune:
            ii, jj = np.nonzero(elig)
            out["c"].append((r[ii], jj, score[ii, jj]))
            return out
        wm = np.where(elig, score, NEG)
        k = min(k_mentee, arr.n_m)
        if k:
            top = _top(wm, k, 1)
            sel = np.take_along_axis(wm, top, 1)
            ii, kk = np.nonzero(sel > NEG)
            out["c"].append((r[ii], top[ii, kk], sel[ii, kk]))
        lk = min(lmax, len(r))
        if lk:
            key = np.where(elig, score.astype(np.int64) + arr.prio[r][:, None] * big, NEG)
            top = _top(key, lk, 0)
            sel = np.take_along_axis(key, top, 0)
            kk, jj = np.nonzero(sel > NEG)
            out["p"].append((r[top[kk, jj]], jj, np.take_along_axis(wm, top, 0)[kk, jj]))
        return out

    blocks = list(_row_blocks(len(rows), arr.n_m))
    if workers > 1 and len(blocks) > 1:
        with ThreadPoolExecutor(max_workers=workers) as ex:
            results = list(ex.map(one, blocks))
    else:
        results = [one(b) for b in blocks]
    for res in results:
        n_ok[res["r"]] = res["ok"]
        n_el[res["r"]] = res["el"]
        for c in res["c"]:
            cand.add(*c)
        for c in res["p"]:
            mentor_pool.add(*c)
    total = int(n_el[rows].sum())
    if prune and mentor_pool.e:
        e, m, s = (np.concatenate(x) for x in (mentor_pool.e, mentor_pool.m, mentor_pool.s))
        key = s + arr.prio[e] * big
        order = np.lexsort((e, -key, m))
        e, m, s = e[order], m[order], s[order]
        start = np.searchsorted(m, m, side="left")
        rank = np.arange(len(m)) - start
        keep = rank < arr.cap[m] * f_mentor
        cand.add(e[keep], m[keep], s[keep])
    return cand.arrays(), n_ok, n_el, total


def augment_candidates(
    arr: Arrays, rows: np.ndarray, open_mentors: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Arcs from (unmatched) mentee rows to their top-k eligible mentors with room left."""
    cand = Candidates()
    if len(rows) == 0 or len(open_mentors) == 0:
        return cand.arrays()
    for blk in _row_blocks(len(rows), len(open_mentors)):
        r = rows[blk]
        _, elig, score = arr.block(r, open_mentors)
        wm = np.where(elig, score, NEG)
        kk = min(k, len(open_mentors))
        top = _top(wm, kk, 1)
        sel = np.take_along_axis(wm, top, 1)
        ii, cc = np.nonzero(sel > NEG)
        cand.add(r[ii], open_mentors[top[ii, cc]], sel[ii, cc])
    return cand.arrays()


def solve_collapsed(
    n_e: int,
    n_m: int,
    e: np.ndarray,
    m: np.ndarray,
    w: np.ndarray,
    cap: np.ndarray,
    active: np.ndarray | None = None,
) -> np.ndarray:
    """Max-weight b-matching by min-cost flow. Returns mentor index per mentee (-1 = none).

    ``active`` marks mentees taking part (others get no supply)."""
    smcf = min_cost_flow.SimpleMinCostFlow()
    sink = n_e + n_m
    if active is None:
        active = np.ones(n_e, dtype=bool)
    n_act = int(active.sum())
    out = np.full(n_e, -1, dtype=np.int64)
    if n_act == 0 or len(e) == 0:
        return out
    act_e = np.nonzero(active)[0]
    tails = np.concatenate([e, act_e, n_e + np.arange(n_m)]).astype(np.int32)
    heads = np.concatenate(
        [n_e + m, np.full(len(act_e), sink), np.full(n_m, sink)]
    ).astype(np.int32)
    caps = np.concatenate([np.ones(len(e) + len(act_e)), cap]).astype(np.int64)
    costs = np.concatenate([-w, np.zeros(len(act_e) + n_m)]).astype(np.int64)
    smcf.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    supplies = np.zeros(n_e + n_m + 1, dtype=np.int64)
    supplies[act_e] = 1
    supplies[sink] = -n_act
    smcf.set_nodes_supplies(np.arange(n_e + n_m + 1, dtype=np.int32), supplies)
    status = smcf.solve()
    if status != smcf.OPTIMAL:
        raise RuntimeError(f"min cost flow failed with status {status}")
    flows = smcf.flows(np.arange(len(e), dtype=np.int32))
    used = flows > 0
    out[e[used]] = m[used]
    return out


def exact_reference(prep: Prepared, arr: Arrays | None = None) -> dict:
    """Exact min-cost flow over every (mentee, mentor, slot) arc, with the sessions-per-day
    limit as a (mentor, local day) layer when that rule is on. Exact for every rule when the
    slot step is >= the session length (no overlapping starts).

    Returns {"mentor": mentor index per mentee, "slot": slot bit per mentee, "arcs": n,
    "score": summed score, "matched": n, "matched_priority": n}."""
    arr = arr or Arrays(prep)
    n_e, n_m, nslots = arr.n_e, arr.n_m, arr.nslots
    mentor_bits = [
        np.array([(prep.mentor_mask[j] >> b) & 1 for j in range(n_m)], dtype=bool)
        for b in range(nslots)
    ]
    active_bits = [b for b in range(nslots) if mentor_bits[b].any()]
    bpos = {b: p for p, b in enumerate(active_bits)}
    nb = len(active_bits)
    base = n_e
    day0 = base + n_m * nb
    mentor_node0 = day0 + n_m * 7
    sink = mentor_node0 + n_m
    tails, heads, costs, scores = [], [], [], []
    e_bits = [
        np.array([(prep.mentee_mask[i] >> b) & 1 for i in range(n_e)], dtype=bool)
        for b in active_bits
    ]
    for blk in _row_blocks(n_e, n_m):
        _, elig, score = arr.block(blk)
        w = arr.weight(blk, score)
        for p, b in enumerate(active_bits):
            both = elig & e_bits[p][blk][:, None] & mentor_bits[b][None, :]
            ii, jj = np.nonzero(both)
            if len(ii) == 0:
                continue
            tails.append(blk[ii].astype(np.int32))
            heads.append((base + jj * nb + p).astype(np.int32))
            costs.append(-w[ii, jj])
            scores.append(score[ii, jj])
    n_arcs = int(sum(len(t) for t in tails))
    smcf = min_cost_flow.SimpleMinCostFlow()
    if n_arcs:
        t = np.concatenate(tails)
        h = np.concatenate(heads)
        smcf.add_arcs_with_capacity_and_unit_cost(
            t, h, np.ones(n_arcs, dtype=np.int64), np.concatenate(costs).astype(np.int64)
        )
        del tails, heads, costs
    else:
        t = h = np.zeros(0, dtype=np.int32)
    js, bs = [], []
    for j in range(n_m):
        for b in active_bits:
            if mentor_bits[b][j]:
                js.append(j)
                bs.append(b)
    js_a = np.array(js, dtype=np.int64)
    bs_a = np.array([bpos[b] for b in bs], dtype=np.int64)
    cfg = prep.config
    days = np.array([local_day(prep.mentors[j].tz, b * cfg.slot_step_minutes,
                               cfg.reference_week) for j, b in zip(js, bs, strict=True)],
                    dtype=np.int64)
    spd = cfg.rule("sessions_per_day")
    limit = np.array([m.max_sessions_per_day if spd and m.max_sessions_per_day else m.capacity
                      for m in prep.mentors], dtype=np.int64)
    smcf.add_arcs_with_capacity_and_unit_cost(
        (base + js_a * nb + bs_a).astype(np.int32),
        (day0 + js_a * 7 + days).astype(np.int32),
        np.ones(len(js_a), dtype=np.int64),
        np.zeros(len(js_a), dtype=np.int64),
    )
    jd = np.repeat(np.arange(n_m), 7)
    smcf.add_arcs_with_capacity_and_unit_cost(
        (day0 + np.arange(n_m * 7)).astype(np.int32),
        (mentor_node0 + jd).astype(np.int32),
        np.minimum(limit, arr.cap)[jd].astype(np.int64),
        np.zeros(n_m * 7, dtype=np.int64),
    )
    smcf.add_arcs_with_capacity_and_unit_cost(
        (mentor_node0 + np.arange(n_m)).astype(np.int32),
        np.full(n_m, sink, dtype=np.int32),
        arr.cap.astype(np.int64),
        np.zeros(n_m, dtype=np.int64),
    )
    smcf.add_arcs_with_capacity_and_unit_cost(
        np.arange(n_e, dtype=np.int32),
        np.full(n_e, sink, dtype=np.int32),
        np.ones(n_e, dtype=np.int64),
        np.zeros(n_e, dtype=np.int64),
    )
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[:n_e] = 1
    supplies[sink] = -n_e
    smcf.set_nodes_supplies(np.arange(sink + 1, dtype=np.int32), supplies)
    status = smcf.solve()
    if status != smcf.OPTIMAL:
        raise RuntimeError(f"exact min cost flow failed with status {status}")
    mentor = np.full(n_e, -1, dtype=np.int64)
    slot = np.full(n_e, -1, dtype=np.int64)
    total = 0
    if n_arcs:
        flows = smcf.flows(np.arange(n_arcs, dtype=np.int32))
        used = np.nonzero(flows > 0)[0]
        sc = np.concatenate(scores)
        for a in used.tolist():
            i = int(t[a])
            node = int(h[a]) - base
            mentor[i] = node // nb
            slot[i] = active_bits[node % nb]
            total += int(sc[a])
    matched = int((mentor >= 0).sum())
    return {
        "mentor": mentor,
        "slot": slot,
        "arcs": n_arcs,
        "score": total,
        "matched": matched,
        "matched_priority": int(((mentor >= 0) & arr.prio).sum()),
    }


__all__ = ["Arrays", "candidates", "augment_candidates", "solve_collapsed", "exact_reference"]


def solve_expanded(
    arr: Arrays,
    e: np.ndarray,
    m: np.ndarray,
    w: np.ndarray,
    cap: np.ndarray,
    active: np.ndarray,
    day_of,
    day_limit: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Min-cost flow over the candidate pairs expanded by their common slots:
    mentee -> (mentor, slot) -> (mentor, local day) -> mentor -> sink. Exact on the candidate set
    including sessions-per-day limits (no overlap when slot step >= session length).
    Returns (mentor per mentee, slot bit per mentee, arcs)."""
    n_e, n_m = arr.n_e, arr.n_m
    mentor = np.full(n_e, -1, dtype=np.int64)
    slot = np.full(n_e, -1, dtype=np.int64)
    if len(e) == 0 or not active.any():
        return mentor, slot, 0
    common = arr.e_words[e] & arr.m_words[m]
    te, tk = [], []
    one = np.uint64(1)
    for b in range(arr.nslots):
        col = common[:, b // 64]
        hit = np.nonzero((col >> np.uint64(b % 64)) & one)[0]
        if len(hit):
            te.append(hit)
            tk.append(np.full(len(hit), b, dtype=np.int64))
    arc_pair = np.concatenate(te)
    arc_bit = np.concatenate(tk)
    key = m[arc_pair] * arr.nslots + arc_bit
    uniq, node_of = np.unique(key, return_inverse=True)
    n_ms = len(uniq)
    ms0 = n_e
    act_e = np.nonzero(active)[0]
    # sessions-per-day as a flow layer: (mentor, slot) -> (mentor, local day) -> mentor
    uj, ub = uniq // arr.nslots, uniq % arr.nslots
    day = np.array([day_of(int(j), int(b)) for j, b in zip(uj, ub, strict=True)], dtype=np.int64)
    dkey = uj * 7 + day
    duniq, dnode_of = np.unique(dkey, return_inverse=True)
    n_d = len(duniq)
    day0 = n_e + n_ms
    mentor0 = day0 + n_d
    sink = mentor0 + n_m
    dj = duniq // 7
    dcap = np.minimum(day_limit[dj], cap[dj])
    smcf = min_cost_flow.SimpleMinCostFlow()
    tails = np.concatenate([e[arc_pair], ms0 + np.arange(n_ms), day0 + np.arange(n_d),
                            mentor0 + np.arange(n_m), act_e])
    heads = np.concatenate([
        ms0 + node_of, day0 + dnode_of, mentor0 + dj, np.full(n_m, sink),
        np.full(len(act_e), sink),
    ])
    caps = np.concatenate([np.ones(len(arc_pair) + n_ms), dcap, cap, np.ones(len(act_e))])
    costs = np.concatenate([-w[arc_pair], np.zeros(n_ms + n_d + n_m + len(act_e))])
    smcf.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), caps.astype(np.int64),
        costs.astype(np.int64),
    )
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[act_e] = 1
    supplies[sink] = -len(act_e)
    smcf.set_nodes_supplies(np.arange(sink + 1, dtype=np.int32), supplies)
    status = smcf.solve()
    if status != smcf.OPTIMAL:
        raise RuntimeError(f"min cost flow failed with status {status}")
    flows = smcf.flows(np.arange(len(arc_pair), dtype=np.int32))
    used = np.nonzero(flows > 0)[0]
    mentor[e[arc_pair[used]]] = m[arc_pair[used]]
    slot[e[arc_pair[used]]] = arc_bit[used]
    return mentor, slot, int(len(tails))
