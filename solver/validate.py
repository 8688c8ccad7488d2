"""Check a Solution against an Instance without any solver: returns a list of violations."""

from __future__ import annotations

from .eligibility import Prepared, allowed_modes
from .schema import UNMATCHED_REASONS, Instance, Solution, SolverConfig
from .scoring import score_pair
from .slots import local_day, overlaps


def validate(instance: Instance, solution: Solution, config: SolverConfig | None = None
             ) -> list[str]:
    cfg = config or SolverConfig()
    prep = Prepared(instance, cfg)
    out: list[str] = []
    step, length = cfg.slot_step_minutes, cfg.session_minutes
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
        if (p.mode == "online" and not online) or (p.mode == "in_person" and not in_person):
            out.append(f"{tag}: mode {p.mode} not allowed")
        score, breakdown = score_pair(prep.mentees[i], prep.mentors[j], cfg, p.mode)
        if score != p.score or breakdown != p.breakdown:
            out.append(f"{tag}: score {p.score} differs from recomputed {score}")
        sessions.setdefault(p.mentor, []).append(minute)
    for mid, minutes in sessions.items():
        m = prep.mentors[prep.mentor_idx[mid]]
        if len(minutes) > m.capacity:
            out.append(f"mentor {mid}: {len(minutes)} mentees above capacity {m.capacity}")
        ms = sorted(minutes)
        for a in range(len(ms)):
            for b in range(a + 1, len(ms)):
                if overlaps(ms[a], ms[b], length):
                    out.append(f"mentor {mid}: sessions at {ms[a]} and {ms[b]} overlap")
        if cfg.rule("sessions_per_day") and m.max_sessions_per_day:
            days: dict[int, int] = {}
            for x in ms:
                d = local_day(m.tz, x, cfg.reference_week)
                days[d] = days.get(d, 0) + 1
            for d, n in sorted(days.items()):
                if n > m.max_sessions_per_day:
                    out.append(f"mentor {mid}: {n} sessions on weekday {d} above "
                               f"{m.max_sessions_per_day}")
    reported = {(x.get("mentee"), x.get("mentor")) for x in solution.infeasible_locks}
    for p in instance.locks:
        if seen.get(p.mentee) != p.mentor and (p.mentee, p.mentor) not in reported:
            out.append(f"lock {p.mentee}->{p.mentor}: neither kept nor reported infeasible")
    kept = {(p.mentee, p.mentor, p.slot.minute_of_week) for p in solution.pairs}
    for p in instance.fixed:
        if (p.mentee, p.mentor) in reported:
            continue
        if seen.get(p.mentee) != p.mentor:
            out.append(f"fixed {p.mentee}->{p.mentor}: not kept")
        elif p.slot is not None and (p.mentee, p.mentor, p.slot) not in kept:
            out.append(f"fixed {p.mentee}->{p.mentor}: slot changed")
    un = {}
    for u in solution.unmatched:
        if u.reason not in UNMATCHED_REASONS:
            out.append(f"unmatched {u.mentee}: unknown reason {u.reason!r}")
        if u.mentee in seen:
            out.append(f"unmatched {u.mentee}: but also paired")
        un[u.mentee] = u.reason
    for e in prep.mentees:
        if e.id not in seen and e.id not in un:
            out.append(f"mentee {e.id}: neither paired nor listed as unmatched")
    return out
