"""Check a Solution against an Instance without any solver: returns a list of violations.

Checked: every pair (rules, common slot on the grid, mode, score), every mentor (capacity,
overlapping sessions, sessions per day), locks and fixed pairs (kept, or reported infeasible with
a claim that is true), and every unmatched mentee (listed once, with a reason that is true of the
returned solution: no eligible mentor / no common free time / every eligible mentor at capacity).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .eligibility import IN_PERSON, ONLINE, Prepared, allowed_modes
from .schema import LOCK_CODES, UNMATCHED_REASONS, Instance, Link, Pair, Solution, SolverConfig
from .scoring import reason_codes, score_pair
from .slots import bits, local_day, local_time, overlaps


def validate(instance: Instance, solution: Solution, config: SolverConfig | None = None
             ) -> list[str]:
    cfg = config or SolverConfig()
    prep = Prepared(instance, cfg)
    out: list[str] = []
    step, length = cfg.slot_step_minutes, cfg.session_minutes
    exclusive = cfg.rule("one_mentee_per_slot")
    seen: dict[str, str] = {}
    sessions: dict[str, list[int]] = {}
    for p in solution.pairs:
        tag = f"pair {p.mentee}->{p.mentor}"
        i, j = prep.mentee_idx.get(p.mentee), prep.mentor_idx.get(p.mentor)
        if i is None or j is None:
            out.append(f"{tag}: unknown {'mentee' if i is None else 'mentor'}")
            continue
        if p.mentee in seen:
            out.append(f"{tag}: mentee already paired with {seen[p.mentee]}")
        seen[p.mentee] = p.mentor
        for rule in prep.violations(i, j):
            out.append(f"{tag}: violates rule {rule}")
        minute = p.slot.minute_of_week
        if minute % step or not (prep.common(i, j) >> (minute // step)) & 1:
            out.append(f"{tag}: slot {minute} is not a common working-hours slot")
        online, in_person = allowed_modes(prep.mentees[i], prep.mentors[j], cfg)
        if prep.exempt_from(i, j, "mode") or prep.exempt_from(i, j, "same_city_in_person"):
            online = in_person = True
        if (p.mode == "online" and not online) or (p.mode == "in_person" and not in_person):
            out.append(f"{tag}: mode {p.mode} not allowed")
        score, breakdown = score_pair(prep.mentees[i], prep.mentors[j], cfg, p.mode)
        if score != p.score or breakdown != p.breakdown:
            out.append(f"{tag}: score {p.score} differs from recomputed {score}")
        lt = local_time(prep.mentees[i].tz, minute, cfg.reference_week)
        why = reason_codes(prep.mentees[i], prep.mentors[j], breakdown,
                           (lt.weekday, lt.time, lt.tz), p.mode)
        if p.reasons != why:
            out.append(f"{tag}: reasons {p.reasons} differ from recomputed {why}")
        sessions.setdefault(p.mentor, []).append(minute)
    for mid, minutes in sessions.items():
        m = prep.mentors[prep.mentor_idx[mid]]
        if cfg.rule("capacity") and len(minutes) > m.capacity:
            out.append(f"mentor {mid}: {len(minutes)} mentees above capacity {m.capacity}")
        ms = sorted(minutes)
        if exclusive:
            for a in range(len(ms)):
                for b in range(a + 1, len(ms)):
                    if overlaps(ms[a], ms[b], length):
                        out.append(f"mentor {mid}: sessions at {ms[a]} and {ms[b]} overlap")
        limit = m.max_sessions_per_day if cfg.rule("sessions_per_day") else None
        if limit:
            days: dict[int, int] = {}
            for x in ms:
                d = local_day(m.tz, x, cfg.reference_week)
                days[d] = days.get(d, 0) + 1
            for d, n in sorted(days.items()):
                if n > limit:
                    out.append(f"mentor {mid}: {n} sessions on weekday {d} above {limit}")
    out += _check_links(prep, solution, seen)
    out += _check_unmatched(prep, solution, seen, sessions)
    if not out and solution.status == "OPTIMAL":
        out += _check_optimal(prep, solution)
    return out


OPTIMALITY_CHECK_CELLS = 4_000_000  # mentees x mentors up to which OPTIMAL is re-proven


def _check_optimal(prep: Prepared, solution: Solution) -> list[str]:
    """An OPTIMAL claim against the exact min-cost flow over every eligible arc (small
    instances, exact slot model only): the score the solver optimised must be the score it
    reports, so matched, priority matched and summed score equal the exact optimum."""
    from .flow import Arrays, exact_reference
    from .model import Scheduler, check_locks

    if not prep.mentees or not prep.mentors or \
            len(prep.mentees) * len(prep.mentors) > OPTIMALITY_CHECK_CELLS:
        return []
    arr = Arrays(prep)
    if arr.g != 1:  # overlapping starts: the flow is a relaxation, not the optimum
        return []
    locked, _ = check_locks(prep, Scheduler(prep))
    ref = exact_reference(prep, arr, locked)
    got = (len(solution.pairs), sum(1 for p in solution.pairs
                                    if prep.mentees[prep.mentee_idx[p.mentee]].priority),
           sum(p.score for p in solution.pairs))
    want = (int(ref["matched"]), int(ref["matched_priority"]), int(ref["score"]))
    if got == want:
        return []
    return [f"status OPTIMAL but (matched, priority matched, score) = {got}; the exact "
            f"optimum is {want}"]


def _check_links(prep: Prepared, solution: Solution, seen: dict[str, str]) -> list[str]:
    inst, cfg = prep.instance, prep.config
    out: list[str] = []
    step = cfg.slot_step_minutes
    # the same (mentee, mentor) link may be given twice (one kept, one reported): its
    # reports, in order, are matched to the links they are true of
    reported: dict[tuple[Any, Any, Any], list[dict[str, Any]]] = {}
    for x in solution.infeasible_locks:
        reported.setdefault((x.get("kind"), x.get("mentee"), x.get("mentor")), []).append(x)
    kept = [q for q in solution.pairs if q.locked or q.fixed]
    kept_by_mentor: dict[str, list[Pair]] = {}
    for q in kept:
        kept_by_mentor.setdefault(q.mentor, []).append(q)
    slot_of = {(q.mentee, q.mentor): q.slot.minute_of_week for q in solution.pairs}
    links = [("fixed", x) for x in inst.fixed]
    if cfg.rule("locks"):
        links += [("lock", x) for x in inst.locks]
    for kind, p in links:
        tag = f"{kind} {p.mentee}->{p.mentor}"
        pending = reported.get((kind, p.mentee, p.mentor), [])
        claim = next((c for c in pending if _false_claim(
            prep, kind, p, c, kept, kept_by_mentor, step) is None), None)
        if claim is None and pending and seen.get(p.mentee) != p.mentor:
            claim = pending[0]  # a false report: said below
        if claim is not None:
            pending.remove(claim)
        if claim is None:
            if seen.get(p.mentee) != p.mentor:
                out.append(f"{tag}: neither kept nor reported infeasible")
            elif kind == "fixed" and p.slot is not None and \
                    slot_of[(p.mentee, p.mentor)] != p.slot:
                out.append(f"{tag}: slot changed")
            continue
        problem = _false_claim(prep, kind, p, claim, kept, kept_by_mentor, step)
        if problem:
            out.append(f"{tag}: reported infeasible ({claim.get('code')}) but {problem}")
    return out


def _false_claim(prep: Prepared, kind: str, p: Link, claim: dict[str, Any], kept: list[Pair],
                 kept_by_mentor: dict[str, list[Pair]], step: int) -> str | None:
    code = claim.get("code")
    i, j = prep.mentee_idx.get(p.mentee), prep.mentor_idx.get(p.mentor)
    if code not in LOCK_CODES:
        return f"unknown code {code!r}"
    if code == "unknown_mentee":
        return None if i is None else "the mentee exists"
    if code == "unknown_mentor":
        return None if j is None else "the mentor exists"
    if i is None or j is None:
        return "the pair is unknown but the code says otherwise"
    if code == "duplicate":
        return None if any(k.mentee == p.mentee for k in kept) else \
            "the mentee has no other kept lock or fixed pair"
    if code == "rule":
        broken = prep.violations(i, j)
        if not broken:
            return "the pair breaks no rule"
        return None if claim.get("rules") == broken else f"it breaks {broken}, not the ones named"
    if code == "fixed_slot":
        ok = p.slot is not None and (
            p.slot % step or not (prep.common(i, j) >> (p.slot // step)) & 1)
        return None if ok else "the fixed slot is a common slot"
    others = [k for k in kept_by_mentor.get(p.mentor, []) if k.mentee != p.mentee]
    m = prep.mentors[j]
    if code == "capacity":
        ok = prep.config.rule("capacity") and len(others) >= m.capacity
        return None if ok else "the mentor has room for it"
    # no_slot: the kept locks/fixed pairs of the mentor and this one cannot all be placed
    opts = []
    for k in others:
        ki = prep.mentee_idx[k.mentee]
        fixed = any(f.mentee == k.mentee and f.mentor == k.mentor and f.slot is not None
                    for f in prep.instance.fixed)
        opts.append([k.slot.minute_of_week // step] if fixed else bits(prep.common(ki, j)))
    mine = [p.slot // step] if kind == "fixed" and p.slot is not None else bits(prep.common(i, j))
    opts.append(mine)
    if _placeable(prep, j, opts):
        return "the mentor has a free common slot for it"
    return None


def _placeable(prep: Prepared, j: int, opts: list[list[int]]) -> bool:
    cfg = prep.config
    m = prep.mentors[j]
    step, length = cfg.slot_step_minutes, cfg.session_minutes
    limit = m.max_sessions_per_day if cfg.rule("sessions_per_day") else None
    exclusive = cfg.rule("one_mentee_per_slot")
    order = sorted(range(len(opts)), key=lambda k: len(opts[k]))
    chosen: list[int] = []
    budget = [50_000]

    def rec(k: int) -> bool:
        if k == len(order):
            return True
        for b in opts[order[k]]:
            budget[0] -= 1
            if budget[0] < 0:
                return True  # undecided: do not call the claim false
            if exclusive and any(overlaps(b * step, c * step, length) for c in chosen):
                continue
            if limit:
                d = local_day(m.tz, b * step, cfg.reference_week)
                if sum(1 for c in chosen
                       if local_day(m.tz, c * step, cfg.reference_week) == d) >= limit:
                    continue
            chosen.append(b)
            if rec(k + 1):
                return True
            chosen.pop()
        return False

    return rec(0)


def _check_unmatched(prep: Prepared, solution: Solution, seen: dict[str, str],
                     sessions: dict[str, list[int]]) -> list[str]:
    from .flow import Arrays  # vectorised eligibility (cross-checked in the tests)

    cfg = prep.config
    out: list[str] = []
    un: dict[str, str] = {}
    for u in solution.unmatched:
        if u.reason not in UNMATCHED_REASONS:
            out.append(f"unmatched {u.mentee}: unknown reason {u.reason!r}")
        if u.mentee in seen:
            out.append(f"unmatched {u.mentee}: but also paired")
        if u.mentee in un:
            out.append(f"unmatched {u.mentee}: listed twice")
        un[u.mentee] = u.reason
        if u.reason == "time_limit" and not solution.stats.safety_stop:
            out.append(f"unmatched {u.mentee}: time_limit but the safety stop did not fire")
    for e in prep.mentees:
        if e.id not in seen and e.id not in un:
            out.append(f"mentee {e.id}: neither paired nor listed as unmatched")
    rows = [prep.mentee_idx[k] for k in un if k in prep.mentee_idx]
    if not rows or not prep.mentors:
        return out
    arr = Arrays(prep)
    load = np.zeros(len(prep.mentors), dtype=np.int64)
    for mid, ms in sessions.items():
        load[prep.mentor_idx[mid]] = len(ms)
    cap = np.array([m.capacity for m in prep.mentors], dtype=np.int64)
    if not cfg.rule("capacity"):
        cap[:] = 1 << 40
    step, length = cfg.slot_step_minutes, cfg.session_minutes
    for blk, cols in _candidate_blocks(prep, sorted(rows)):
        ok, elig, _ = arr.block(blk, cols)
        for r, i in enumerate(blk.tolist()):
            e = prep.mentees[i]
            reason = un[e.id]
            js = cols[np.nonzero(elig[r])[0]].tolist()
            room = [j for j in js if load[j] < cap[j]]
            if reason == "no_eligible_mentor":
                if ok[r].any():
                    out.append(f"unmatched {e.id}: no_eligible_mentor but "
                               f"{prep.mentors[int(cols[np.nonzero(ok[r])[0][0]])].id} passes "
                               "the rules")
            elif reason == "capacity_taken":
                if not js:
                    out.append(f"unmatched {e.id}: capacity_taken but no eligible mentor "
                               "shares a slot")
                elif room:
                    out.append(f"unmatched {e.id}: capacity_taken but "
                               f"{prep.mentors[room[0]].id} has room")
            elif reason == "no_common_time":
                for j in room:
                    m = prep.mentors[j]
                    b = _free_start(prep, i, j, sessions.get(m.id, []), step, length)
                    if b is not None:
                        out.append(f"unmatched {e.id}: no_common_time but {m.id} has room and "
                                   f"a free common start at minute {b * step}")
                        break
    return out


def _candidate_blocks(prep: Prepared, rows: list[int]) -> list[tuple[Any, Any]]:
    """(mentee rows, mentor columns) to check the unmatched reasons on: with the mode and
    in-person city rules on, a mentee can only have a mentor who meets online (if the mentee
    does) or one of their own city who meets in person (if the mentee does), so a national
    cohort's 85,000 unmatched mentees are not compared with all 80,000 mentors; a mentee with
    an exempt pair, or with those rules off, is compared with every mentor."""
    cfg = prep.config
    every = np.arange(len(prep.mentors), dtype=np.int64)
    groups: dict[tuple[str, bool, bool], list[int]] = {}
    wide: list[int] = []
    with_exempt = {i for i, _j in prep.exempt}
    for i in rows:
        e = prep.mentees[i]
        if not (cfg.rule("mode") and cfg.rule("same_city_in_person")) or i in with_exempt:
            wide.append(i)
        else:
            groups.setdefault((e.city, e.mode in ONLINE, e.mode in IN_PERSON), []).append(i)
    online = np.array([m.mode in ONLINE for m in prep.mentors], dtype=bool)
    in_person = np.array([m.mode in IN_PERSON for m in prep.mentors], dtype=bool)
    city = np.array([m.city for m in prep.mentors], dtype=object)
    jobs: list[tuple[Any, Any]] = []
    if wide:
        jobs.append((np.array(wide, dtype=np.int64), every))
    for (c, on, ip), members in sorted(groups.items()):
        keep = (online if on else np.zeros(len(every), dtype=bool)) | \
            ((in_person & (city == c)) if ip and c != "" else np.zeros(len(every), dtype=bool))
        jobs.append((np.array(members, dtype=np.int64), every[keep]))
    step = 256
    return [(blk[s:s + step], cols) for blk, cols in jobs for s in range(0, len(blk), step)]


def _free_start(prep: Prepared, i: int, j: int, minutes: list[int], step: int, length: int
                ) -> int | None:
    cfg = prep.config
    m = prep.mentors[j]
    limit = m.max_sessions_per_day if cfg.rule("sessions_per_day") else None
    exclusive = cfg.rule("one_mentee_per_slot")
    for b in bits(prep.common(i, j)):
        if exclusive and any(overlaps(b * step, x, length) for x in minutes):
            continue
        if limit:
            d = local_day(m.tz, b * step, cfg.reference_week)
            if sum(1 for x in minutes if local_day(m.tz, x, cfg.reference_week) == d) >= limit:
                continue
        return b
    return None
