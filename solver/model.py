"""Public ``solve``: flow first, slot assignment and repair, then CP-SAT polish.

Phases
1. locks and fixed pairs are checked (infeasible ones are reported by name) and pre-assigned;
2. candidate arcs (capacity-aware pruning, ``flow.candidates``) and the collapsed min-cost flow;
   unmatched mentees get arcs to mentors with room left and the flow is re-solved;
3. per mentor, slots are assigned (distinct, non-overlapping, sessions-per-day limit); a pair that
   cannot be scheduled loses its arc and the flow is re-solved (a few rounds);
4. CP-SAT, hinted with that solution, over the whole candidate model when it is small, otherwise
   over the mentors where repair happened: sessions-per-day, slot choice and load spreading.
"""

from __future__ import annotations

import time
from functools import lru_cache

import numpy as np
from ortools.sat.python import cp_model

from .eligibility import Prepared, pair_mode
from .flow import Arrays, augment_candidates, candidates, solve_expanded
from .schema import Instance, Pair, Slot, Solution, SolverConfig, Stats, Unmatched
from .scoring import reasons, score_pair
from .slots import bits, local_day, local_time, utc_label

BACKTRACK_LIMIT = 20_000


@lru_cache(maxsize=4096)
def _day_of(tz: str, minute: int, reference_week: str) -> int:
    return local_day(tz, minute, reference_week)


class _Scheduler:
    def __init__(self, prep: Prepared, hint_slot: dict[tuple[int, int], int]):
        self.prep = prep
        cfg = prep.config
        self.step = cfg.slot_step_minutes
        self.length = cfg.session_minutes
        self.week = 7 * 1440 // self.step
        self.hint_slot = hint_slot
        self.prefer: dict[tuple[int, int], int] = {}

    def conflict(self, a: int, b: int) -> bool:
        if self.step >= self.length:
            return a == b
        d = abs(a - b) % self.week
        return min(d, self.week - d) * self.step < self.length

    def day(self, j: int, b: int) -> int:
        m = self.prep.mentors[j]
        return _day_of(m.tz, b * self.step, self.prep.config.reference_week)

    def options(self, i: int, j: int, fixed: int | None) -> list[int]:
        if fixed is not None:
            return [fixed]
        opts = bits(self.prep.common(i, j))
        h = self.prefer.get((i, j), self.hint_slot.get((i, j)))
        if h in opts:
            opts.remove(h)
            opts.insert(0, h)
        return opts

    def fits(self, j: int, items: list[tuple[int, int | None]]) -> dict[int, int] | None:
        """Find distinct slots for the mentees of mentor j, or None."""
        cfg = self.prep.config
        limit = self.prep.mentors[j].max_sessions_per_day
        if not cfg.rule("sessions_per_day"):
            limit = None
        opts = [(i, self.options(i, j, f)) for i, f in items]
        opts.sort(key=lambda x: (len(x[1]), x[0]))
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


def solve(
    instance: Instance, config: SolverConfig | None = None, hint: list | None = None
) -> Solution:
    """Match mentees to mentors with a weekly slot. Never raises on infeasible locks."""
    t0 = time.perf_counter()
    cfg = config or SolverConfig()
    prep = Prepared(instance, cfg)
    arr = Arrays(prep)
    n_e, n_m = arr.n_e, arr.n_m
    phases: list[dict] = []
    step = cfg.slot_step_minutes

    hints = list(instance.hint) + list(hint or [])
    hint_slot: dict[tuple[int, int], int] = {}
    for h in hints:
        i, j = prep.mentee_idx.get(h.mentee), prep.mentor_idx.get(h.mentor)
        if i is not None and j is not None and h.slot is not None and h.slot % step == 0:
            hint_slot[(i, j)] = h.slot // step
    sched = _Scheduler(prep, hint_slot)

    # 1. fixed pairs and locks
    pre: dict[int, tuple[int, int | None, str]] = {}
    used = np.zeros(n_m, dtype=np.int64)
    infeasible: list[dict[str, str]] = []
    links = [("fixed", p) for p in instance.fixed] + [("lock", p) for p in instance.locks]
    for kind, p in links:
        i, j = prep.mentee_idx.get(p.mentee), prep.mentor_idx.get(p.mentor)
        reason = None
        if i is None or j is None:
            reason = "unknown mentee" if i is None else "unknown mentor"
        elif i in pre:
            reason = f"mentee already {pre[i][2]} to {prep.mentors[pre[i][0]].id}"
        else:
            v = prep.violations(i, j)
            slot_bit = None
            if kind == "fixed" and p.slot is not None:
                if p.slot % step or not (prep.common(i, j) >> (p.slot // step)) & 1:
                    reason = "fixed slot is not a common slot"
                slot_bit = p.slot // step
            if v:
                reason = "violates rule(s): " + ", ".join(v)
            elif used[j] >= prep.mentors[j].capacity:
                reason = "mentor capacity already taken by other locks"
            elif reason is None:
                items = [(a, s) for a, (jj, s, _k) in pre.items() if jj == j] + [(i, slot_bit)]
                if sched.fits(j, items) is None:
                    reason = "no free common slot left for the mentor"
        if reason:
            infeasible.append({"kind": kind, "mentee": p.mentee, "mentor": p.mentor,
                               "reason": reason})
            continue
        pre[i] = (j, slot_bit, kind)
        used[j] += 1
    phases.append({"phase": "locks", "seconds": round(time.perf_counter() - t0, 3),
                   "locked": len(pre), "infeasible": len(infeasible)})

    # 2. candidates and collapsed flow
    t1 = time.perf_counter()
    active = np.ones(n_e, dtype=bool)
    active[list(pre)] = False
    rows = np.nonzero(active)[0]
    k_mentee = cfg.top_k_mentee or 32
    (ce, cm, cs), n_ok, n_el, total_arcs = candidates(
        arr, rows, cfg.prune, k_mentee, cfg.top_k_mentor_factor, max(1, cfg.num_workers)
    )
    if len(cs):  # tighter lexicographic constants from the scores actually present
        neg = abs(arr.p_grade) * 20 + max(abs(arr.p_same_unit), abs(arr.p_other_unit))
        arr.max_abs_score = min(arr.max_abs_score, int(np.abs(cs).max()) + neg + 1)
    res_cap = arr.cap - used
    phases.append({"phase": "candidates", "seconds": round(time.perf_counter() - t1, 3),
                   "arcs": int(len(ce)), "eligible_arcs": total_arcs})
    spd = cfg.rule("sessions_per_day")
    day_limit = np.array(
        [m.max_sessions_per_day if spd and m.max_sessions_per_day else m.capacity
         for m in prep.mentors], dtype=np.int64)
    banned: set[tuple[int, int]] = set()
    augment_rounds = 0
    assign = np.full(n_e, -1, dtype=np.int64)
    slots: dict[int, int] = {}
    flow_solves = 0
    flow_arcs = 0
    for _round in range(3):
        t2 = time.perf_counter()
        while True:
            assign, flow_slot, flow_arcs = solve_expanded(
                arr, ce, cm, arr.weight(ce, cs), res_cap, active, sched.day, day_limit
            )
            flow_solves += 1
            if not cfg.prune or augment_rounds >= cfg.augment_rounds:
                break
            load = np.bincount(assign[assign >= 0], minlength=n_m)
            open_m = np.nonzero(res_cap - load > 0)[0]
            um = rows[(assign[rows] < 0) & (n_el[rows] > 0)]
            ae, am, as_ = augment_candidates(arr, um, open_m, 8)
            if len(ae):
                have = set(zip(ce.tolist(), cm.tolist(), strict=True))
                new = [k for k, x in enumerate(zip(ae.tolist(), am.tolist(), strict=True))
                       if x not in have and x not in banned]
            else:
                new = []
            if not new:
                break
            augment_rounds += 1
            ce = np.concatenate([ce, ae[new]])
            cm = np.concatenate([cm, am[new]])
            cs = np.concatenate([cs, as_[new]])
        phases.append({"phase": "flow", "seconds": round(time.perf_counter() - t2, 3),
                       "augment_rounds": augment_rounds})
        # 3. slots per mentor
        t3 = time.perf_counter()
        by_mentor: dict[int, list[tuple[int, int | None]]] = {}
        for i, (j, s, _k) in sorted(pre.items()):
            by_mentor.setdefault(j, []).append((i, s))
        flow_items: dict[int, list[int]] = {}
        for i in np.nonzero(assign >= 0)[0].tolist():
            flow_items.setdefault(int(assign[i]), []).append(i)
        dropped: list[tuple[int, int]] = []
        slots = {}
        wt = dict(zip(zip(ce.tolist(), cm.tolist(), strict=True),
                      arr.weight(ce, cs).tolist(), strict=True))
        for j in sorted(set(by_mentor) | set(flow_items)):
            hard = by_mentor.get(j, [])
            soft = sorted(flow_items.get(j, []), key=lambda i, j=j: (-wt[(i, j)], i))
            sched.prefer = {(i, j): int(flow_slot[i]) for i in soft}
            got = sched.fits(j, hard + [(i, None) for i in soft])
            if got is None:
                accepted = list(hard)
                got = sched.fits(j, accepted) or {}
                for i in soft:
                    trial = sched.fits(j, accepted + [(i, None)])
                    if trial is None:
                        dropped.append((i, j))
                    else:
                        accepted.append((i, None))
                        got = trial
            slots.update(got)
        phases.append({"phase": "slots", "seconds": round(time.perf_counter() - t3, 3),
                       "dropped": len(dropped)})
        if not dropped:
            break
        for i, j in dropped:
            banned.add((i, j))
            assign[i] = -1
        keep = np.array([(a, b) not in banned for a, b in zip(ce.tolist(), cm.tolist(),
                                                                strict=True)], dtype=bool)
        ce, cm, cs = ce[keep], cm[keep], cs[keep]
    # mentees whose pair could not be scheduled in the last round stay unmatched
    for i in np.nonzero(assign >= 0)[0].tolist():
        if i not in slots:
            assign[i] = -1
    for i, (j, _s, _k) in pre.items():
        assign[i] = j

    # 4. CP-SAT polish
    t4 = time.perf_counter()
    status = "OPTIMAL" if not cfg.prune else "FEASIBLE"
    cp_info = _cpsat_polish(prep, arr, sched, ce, cm, cs, assign, slots, pre, banned,
                            cfg, t0)
    if cp_info:
        phases.append({"phase": "cpsat", "seconds": round(time.perf_counter() - t4, 3),
                       **{k: v for k, v in cp_info.items() if k != "solution"}})
        if cp_info.get("solution") is not None:
            assign, slots = cp_info["solution"]
        if cp_info.get("scope") == "full" and cp_info.get("status") == "OPTIMAL":
            status = "OPTIMAL"
        if cfg.prune and cp_info.get("scope") == "full":
            status = cp_info.get("status", status) if status != "OPTIMAL" else status

    sol = _build_solution(prep, assign, slots, pre, n_ok, n_el, infeasible)
    st = sol.stats
    st.status = status
    st.wall_time = round(time.perf_counter() - t0, 3)
    st.model = {"mentees": n_e, "mentors": n_m, "arcs": int(len(ce)),
                "eligible_arcs": int(total_arcs), "flow_solves": flow_solves,
                "flow_arcs": flow_arcs}
    st.phases = phases
    st.pruning = {
        "enabled": cfg.prune,
        "arcs_kept": int(len(ce)),
        "arcs_pruned": int(total_arcs - len(ce)),
        "top_k_mentee": k_mentee,
        "top_k_mentor_factor": cfg.top_k_mentor_factor,
        "augment_rounds": augment_rounds,
        "repair_banned_arcs": len(banned),
    }
    if not cfg.prune and not banned:
        st.bound = st.objective
        st.gap = 0.0
    return sol


def _cpsat_polish(prep, arr, sched, ce, cm, cs, assign, slots, pre, banned, cfg, t0):
    remaining = min(cfg.cpsat_time, cfg.time_limit - (time.perf_counter() - t0))
    if remaining <= 0.2:
        return None
    if not banned and len(ce) + len(pre) > cfg.cpsat_max_vars:
        return {"skipped": "model too large and no slot conflicts to repair",
                "pairs": int(len(ce))}
    n_opts = 0
    common_cache: dict[tuple[int, int], list[int]] = {}
    pairs = list(zip(ce.tolist(), cm.tolist(), cs.tolist(), strict=True))
    for i, (j, _s, _k) in pre.items():
        pairs.append((i, j, score_pair(prep.mentees[i], prep.mentors[j], cfg)[0]))
    for i, j, _s in pairs:
        common_cache[(i, j)] = bits(prep.common(i, j))
        n_opts += len(common_cache[(i, j)])
    scope = "full"
    if n_opts > cfg.cpsat_max_vars:
        if not banned:
            return {"skipped": "model too large and no slot conflicts to repair",
                    "vars": n_opts}
        mentors = {j for _i, j in banned}
        mentees = {i for i in range(len(assign)) if assign[i] in mentors}
        mentees |= {i for i, _j in banned if assign[i] < 0}
        pairs = [(i, j, s) for i, j, s in pairs if j in mentors and i in mentees]
        n_opts = sum(len(common_cache[(i, j)]) for i, j, _s in pairs)
        scope = "local"
        if n_opts > cfg.cpsat_local_max_vars or not pairs:
            return {"skipped": "local model too large", "vars": n_opts}
    sub_e = sorted({i for i, _j, _s in pairs})
    sub_m = sorted({j for _i, j, _s in pairs})
    if scope == "local":
        caps = {j: prep.mentors[j].capacity for j in sub_m}
        for i in range(len(assign)):
            if assign[i] in caps and i not in set(sub_e):
                caps[int(assign[i])] -= 1
    else:
        caps = {j: prep.mentors[j].capacity for j in sub_m}
    maxabs = arr.max_abs_score
    spread_max = sum(c * (c + 1) // 2 for c in caps.values()) + 1
    big = 2 * (len(sub_e) + 1) * maxabs * spread_max + 1
    bigp = (len(sub_e) + 1) * big
    m = cp_model.CpModel()
    x: dict[tuple[int, int, int], cp_model.IntVar] = {}
    by_e: dict[int, list] = {}
    by_m: dict[int, list] = {}
    by_ms: dict[tuple[int, int], list] = {}
    by_md: dict[tuple[int, int], list] = {}
    obj = []
    for i, j, s in sorted(pairs):
        fixed_slot = pre[i][1] if i in pre else None
        opts = [fixed_slot] if fixed_slot is not None else common_cache[(i, j)]
        if (i, j) in banned and i not in pre:
            continue
        for b in opts:
            v = m.new_bool_var(f"x_{i}_{j}_{b}")
            x[(i, j, b)] = v
            by_e.setdefault(i, []).append(v)
            by_m.setdefault(j, []).append(v)
            by_ms.setdefault((j, b), []).append(v)
            if cfg.rule("sessions_per_day") and prep.mentors[j].max_sessions_per_day:
                by_md.setdefault((j, sched.day(j, b)), []).append(v)
            w = s * spread_max + big + (bigp if prep.mentees[i].priority else 0)
            obj.append(w * v)
    for i, vs in by_e.items():
        if i in pre:
            lock_vars = [x[k] for k in x if k[0] == i and k[1] == pre[i][0]]
            m.add(sum(lock_vars) == 1)
        m.add(sum(vs) <= 1)
    for j, vs in by_m.items():
        m.add(sum(vs) <= max(caps[j], 0))
        c = prep.mentors[j].capacity
        ys = [m.new_bool_var(f"y_{j}_{k}") for k in range(c)]
        for a, b in zip(ys, ys[1:], strict=False):
            m.add(a >= b)
        m.add(sum(ys) == sum(vs))
        obj.extend(-(k + 1) * y for k, y in enumerate(ys))
    for (j, b), vs in by_ms.items():
        group = list(vs)
        if sched.step < sched.length:
            for (j2, b2), vs2 in by_ms.items():
                if j2 == j and b2 != b and sched.conflict(b, b2) and b2 > b:
                    m.add(sum(vs) + sum(vs2) <= 1)
        m.add(sum(group) <= 1)
    for (j, _d), vs in by_md.items():
        m.add(sum(vs) <= prep.mentors[j].max_sessions_per_day)
    m.maximize(sum(obj))
    for (i, j, b), v in x.items():
        m.add_hint(v, 1 if assign[i] == j and slots.get(i) == b else 0)
    solver = cp_model.CpSolver()
    p = solver.parameters
    p.random_seed = cfg.seed
    p.num_workers = cfg.num_workers
    p.interleave_search = cfg.num_workers > 1
    p.max_deterministic_time = max(0.1, remaining * 0.8)
    p.max_time_in_seconds = max(0.2, remaining * 0.9)
    code = solver.solve(m)
    info = {"scope": scope, "vars": len(x), "status": solver.status_name(code)}
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        info["solution"] = None
        return info
    new_assign = assign.copy()
    new_slots = dict(slots)
    for i in sub_e:
        if i not in pre:
            new_assign[i] = -1
            new_slots.pop(i, None)
    for (i, j, b), v in x.items():
        if solver.boolean_value(v):
            new_assign[i] = j
            new_slots[i] = b
    info["objective"] = int(solver.objective_value)
    info["bound"] = int(solver.best_objective_bound)
    # keep the CP-SAT answer only if it is no worse lexicographically
    if _lex_key(prep, arr, new_assign) >= _lex_key(prep, arr, assign):
        info["solution"] = (new_assign, new_slots)
    else:
        info["solution"] = None
    return info


def _lex_key(prep, arr, assign) -> tuple[int, int, int]:
    idx = np.nonzero(assign >= 0)[0].tolist()
    score = sum(
        score_pair(prep.mentees[i], prep.mentors[int(assign[i])], prep.config)[0] for i in idx
    )
    prio = sum(1 for i in idx if prep.mentees[i].priority)
    return prio, len(idx), score


def _build_solution(prep, assign, slots, pre, n_ok, n_el, infeasible) -> Solution:
    cfg = prep.config
    step = cfg.slot_step_minutes
    pairs: list[Pair] = []
    unmatched: list[Unmatched] = []
    total = 0
    prio = 0
    for i, e in enumerate(prep.mentees):
        j = int(assign[i])
        if j < 0:
            if n_ok[i] == 0:
                unmatched.append(Unmatched(e.id, "no_eligible_mentor",
                                           "no mentor passes the pair rules"))
            elif n_el[i] == 0:
                unmatched.append(Unmatched(e.id, "no_common_time",
                                           "eligible mentors share no working-hours slot"))
            else:
                unmatched.append(Unmatched(e.id, "capacity_taken",
                                           f"{int(n_el[i])} eligible mentor(s), all taken"))
            continue
        mt = prep.mentors[j]
        minute = slots[i] * step
        mode = pair_mode(e, mt, cfg) or "online"
        score, breakdown = score_pair(e, mt, cfg, mode)
        el = local_time(e.tz, minute, cfg.reference_week)
        ml = local_time(mt.tz, minute, cfg.reference_week)
        rid, ren = reasons(e, mt, breakdown, (el.weekday, el.time, el.tz), mode)
        wd, hhmm = utc_label(minute)
        kind = pre.get(i, (None, None, ""))[2]
        pairs.append(Pair(e.id, mt.id, Slot(minute, wd, hhmm, ml, el), mode, score, breakdown,
                          rid, ren, locked=kind == "lock", fixed=kind == "fixed"))
        total += score
        prio += e.priority
    st = Stats(objective=total, matched=len(pairs), matched_priority=prio)
    return Solution(pairs, unmatched, infeasible, st)
