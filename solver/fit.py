"""The public fit check: can one mentor take these mentees next to sessions already booked?

The same slot model (grid, working hours, mentor blocks, busy time, holidays) and the same
search (``model.Scheduler``) as ``solve``, so the app asks the solver instead of re-implementing
it. Rule eligibility is not checked here: that is ``Prepared.violations`` (``check_pair``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from .eligibility import Prepared
from .model import Scheduler
from .schema import Instance, Mentee, Mentor, SolverConfig
from .slots import WEEK, bits


@dataclass(frozen=True)
class Fit:
    """``code`` None: everything fits, ``slots`` gives each mentee's UTC minute of the week;
    "capacity": more pairs than the mentor's capacity; "no_slot": no placement of distinct,
    non-overlapping common starts (within the sessions-per-day limit) exists."""

    code: str | None
    slots: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.code is None


def fit_check(mentor: Mentor, mentees: Sequence[Mentee], config: SolverConfig | None = None,
              booked: Sequence[int | None] = (), holidays: tuple[str, ...] = ()) -> Fit:
    """``booked``: the mentor's sessions that already exist, as UTC minutes of the week of
    their start (None: a pair whose time is not known yet; it needs one of the mentor's
    starts). They count toward the capacity; a booked time on the grid takes its start (and
    its day's quota), one off the grid is busy time."""
    cfg = config or SolverConfig()
    n = len(booked) + len(mentees)
    if cfg.rule("capacity") and n > mentor.capacity:
        return Fit("capacity")
    step, length = cfg.slot_step_minutes, cfg.session_minutes
    off_grid = tuple((b, min(WEEK, b + length)) for b in booked
                     if b is not None and b % step)
    m = replace(mentor, busy=tuple(mentor.busy) + off_grid)
    prep = Prepared(Instance(mentors=(m,), mentees=tuple(mentees), holidays=tuple(holidays)),
                    cfg)
    sched = Scheduler(prep)
    items: list[tuple[int, list[int]]] = []
    for k, b in enumerate(booked):
        if b is None:
            items.append((-1 - k, bits(prep.mentor_mask[0])))
        elif b % step == 0:
            items.append((-1 - k, [b // step]))
    for i in range(len(prep.mentees)):
        items.append((i, bits(prep.common(i, 0))))
    if any(not opts for _i, opts in items):
        return Fit("no_slot")
    got = sched.fits(0, items)
    if got is None:
        return Fit("no_slot")
    return Fit(None, {prep.mentees[i].id: got[i] * step for i in range(len(prep.mentees))})
