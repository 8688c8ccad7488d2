"""Hard rules, scalar (for explanation and validation) and prepared index data.

``Prepared`` sorts people by id (determinism), computes every person's slot mask once and keeps
the sparse rule sets (forbids, history, supervisors). The vectorised block evaluation used by the
fast path lives in ``flow.py``; both call the same definitions of mode and score.
"""

from __future__ import annotations

from .schema import Instance, Mentee, Mentor, SolverConfig
from .slots import slot_mask

ONLINE = ("online", "either")
IN_PERSON = ("in_person", "either")


def allowed_modes(mentee: Mentee, mentor: Mentor, config: SolverConfig) -> tuple[bool, bool]:
    """(online possible, in-person possible) for the pair under the mode and city rules."""
    if not config.rule("mode"):
        online, both_ip = True, True
    else:
        online = mentee.mode in ONLINE and mentor.mode in ONLINE
        both_ip = mentee.mode in IN_PERSON and mentor.mode in IN_PERSON
    same_city = mentee.city == mentor.city and mentee.city != ""
    in_person = both_ip and (same_city or not config.rule("same_city_in_person"))
    return online, in_person


def pair_mode(mentee: Mentee, mentor: Mentor, config: SolverConfig) -> str | None:
    online, in_person = allowed_modes(mentee, mentor, config)
    same_city = mentee.city == mentor.city and mentee.city != ""
    if in_person and (same_city or not online):
        return "in_person"
    if online:
        return "online"
    return None


class Prepared:
    """Instance data indexed for the solver (people sorted by id)."""

    def __init__(self, instance: Instance, config: SolverConfig):
        self.instance = instance
        self.config = config
        self.mentors = sorted(instance.mentors, key=lambda m: m.id)
        self.mentees = sorted(instance.mentees, key=lambda m: m.id)
        self.mentor_idx = {m.id: j for j, m in enumerate(self.mentors)}
        self.mentee_idx = {m.id: i for i, m in enumerate(self.mentees)}
        hol = instance.holidays
        blocks = config.mentor_blocks
        self.mentor_mask = [slot_mask(m.tz, m.availability, config, hol, blocks, m.busy)
                            for m in self.mentors]
        self.mentee_mask = [slot_mask(m.tz, m.availability, config, hol, busy=m.busy)
                            for m in self.mentees]
        # exemptions of fixed pairs and locks, by (mentee, mentor) index
        self.exempt: dict[tuple[int, int], frozenset[str]] = {}
        for link in (*instance.fixed, *instance.locks):
            i, j = self.mentee_idx.get(link.mentee), self.mentor_idx.get(link.mentor)
            if link.exempt and i is not None and j is not None:
                self.exempt[(i, j)] = self.exempt.get((i, j), frozenset()) | set(link.exempt)
        self.forbidden = {(p.mentee, p.mentor) for p in instance.forbids}
        self.previous = {(p.mentee, p.mentor) for p in instance.previous_pairs}
        comps: set[str] = set()
        for e in self.mentees:
            comps.update(c for c, r in e.required.items() if r > e.levels.get(c, 0))
        self.competencies = sorted(comps)

    def violations(self, i: int, j: int) -> list[str]:
        """Names of the hard pair rules that forbid mentee i with mentor j (empty = eligible)."""
        e, m, cfg = self.mentees[i], self.mentors[j], self.config
        out = []
        if cfg.rule("grade") and m.grade is not None and m.grade - e.grade < cfg.min_grade_gap:
            out.append("grade")
        if cfg.rule("supervisor") and e.supervisor_id == m.id:
            out.append("supervisor")
        if cfg.rule("no_repeat") and (e.id, m.id) in self.previous:
            out.append("no_repeat")
        if cfg.rule("forbids") and (e.id, m.id) in self.forbidden:
            out.append("forbids")
        online, in_person = allowed_modes(e, m, cfg)
        if not (online or in_person):
            both_ip = e.mode in IN_PERSON and m.mode in IN_PERSON
            out.append("same_city_in_person" if both_ip else "mode")
        if not self.mentor_mask[j] & self.mentee_mask[i]:
            out.append("common_slot")
        ex = self.exempt.get((i, j))
        return [r for r in out if r not in ex] if ex else out

    def exempt_from(self, i: int, j: int, rule: str) -> bool:
        ex = self.exempt.get((i, j))
        return ex is not None and rule in ex

    def common(self, i: int, j: int) -> int:
        """Grid starts the pair can use: both free (any start of the mentor for a fixed pair
        or lock exempt from ``common_slot``)."""
        if self.exempt and self.exempt_from(i, j, "common_slot"):
            return self.mentor_mask[j]
        return self.mentor_mask[j] & self.mentee_mask[i]
