"""The public fit check: can one mentor take these mentees next to sessions already booked?

The same slot model (grid, working hours, mentor blocks, busy time, holidays) and the same
search (``model.Scheduler``) as ``solve``, so the app asks the solver instead of re-implementing
it. Rule eligibility is not checked here: that is ``Prepared.violations`` (``check_pair``).

``keep_booked`` decides which of a mentor's booked sessions a solve can keep as fixed pairs at
their time; ``fit_check`` applies the same decision, so a fit check and the solve built from
the same booked sessions never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from .eligibility import Prepared
from .model import Scheduler
from .schema import Instance, Mentee, Mentor, SolverConfig, Window
from .slots import WEEK, bits, local_day, local_time


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


@dataclass(frozen=True)
class Booked:
    """What a solve keeps of a mentor's booked sessions. ``mentor``: the mentor as the solve
    sees them (each kept session's own time open, every other booked time busy);
    ``kept``: indices into ``booked`` the solve can take as fixed pairs at their time (or,
    for None, at one of the mentor's starts); ``blocked``: the others, which only take a
    place (capacity)."""

    mentor: Mentor
    kept: tuple[int, ...]
    blocked: tuple[int, ...]


def weekly_busy(minute: int, length: int) -> tuple[tuple[int, int], ...]:
    """A weekly UTC time [minute, minute + length) as busy intervals (split where it runs past
    the end of the week)."""
    a = minute % WEEK
    b = a + min(length, WEEK)
    return ((a, b),) if b <= WEEK else ((a, WEEK), (0, b - WEEK))


def _own_window(tz: str, minute: int, cfg: SolverConfig) -> Window | None:
    """The mentor's local window of exactly one session at ``minute`` (None: it runs past
    local midnight, which no window can express)."""
    lt = local_time(tz, minute, cfg.reference_week)
    start = int(lt.time[:2]) * 60 + int(lt.time[3:])
    if start + cfg.session_minutes > 1440:
        return None
    return Window(local_day(tz, minute, cfg.reference_week), start,
                  start + cfg.session_minutes)


def keep_booked(mentor: Mentor, booked: Sequence[int | None],
                config: SolverConfig | None = None) -> Booked:
    """Which booked sessions (UTC minutes of the week; None: time not known yet) a solve keeps.

    A booked session's own time stays open for it, also where the mentor's windows changed
    since. It is kept where the solve can place it: on the grid, on one of the mentor's starts
    (blocks), and without a clash with the sessions kept before it (booked order). Otherwise
    its time becomes busy time and it only takes a place: bad or outdated data must not fail a
    solve."""
    cfg = config or SolverConfig()
    step = cfg.slot_step_minutes
    own = [w for b in booked if b is not None and b % step == 0
           if (w := _own_window(mentor.tz, b, cfg)) is not None]
    extra = tuple(w for w in dict.fromkeys(own) if w not in mentor.availability)
    m = replace(mentor, availability=tuple(mentor.availability) + extra)
    blocked: set[int] = set()
    while True:  # a booked time made busy can split a block: recompute the starts
        starts = Prepared(Instance(mentors=(m,), mentees=()), cfg).mentor_mask[0]
        off = next((k for k, b in enumerate(booked) if k not in blocked and b is not None
                    and (b % step or not (starts >> (b // step)) & 1)), None)
        if off is None:
            break
        slot = booked[off]
        assert slot is not None
        blocked.add(off)
        m = replace(m, busy=tuple(sorted({*m.busy, *weekly_busy(slot, cfg.session_minutes)})))
    kept: list[int] = []
    for k in range(len(booked)):
        if k in blocked:
            continue
        if _place(m, [], [booked[j] for j in (*kept, k)], cfg, ()) is not None:
            kept.append(k)
        else:  # clashes with a session kept before it
            blocked.add(k)
    return Booked(m, tuple(kept), tuple(sorted(blocked)))


def _place(mentor: Mentor, mentees: Sequence[Mentee], booked: Sequence[int | None],
           cfg: SolverConfig, holidays: tuple[str, ...]) -> dict[str, int] | None:
    """Distinct starts for booked sessions that are the mentor's starts (or None: any) and
    for the mentees (common starts), or None. Capacity is not checked here."""
    prep = Prepared(Instance(mentors=(mentor,), mentees=tuple(mentees), holidays=holidays),
                    cfg)
    step = cfg.slot_step_minutes
    items: list[tuple[int, list[int]]] = []
    for k, b in enumerate(booked):
        items.append((-1 - k, bits(prep.mentor_mask[0]) if b is None else [b // step]))
    for i in range(len(prep.mentees)):
        items.append((i, bits(prep.common(i, 0))))
    if any(not opts for _i, opts in items):
        return None
    got = Scheduler(prep).fits(0, items)
    if got is None:
        return None
    return {prep.mentees[i].id: got[i] * step for i in range(len(prep.mentees))}


def fit_check(mentor: Mentor, mentees: Sequence[Mentee], config: SolverConfig | None = None,
              booked: Sequence[int | None] = (), holidays: tuple[str, ...] = ()) -> Fit:
    """``booked``: the mentor's sessions that already exist, as UTC minutes of the week of
    their start (None: a pair whose time is not known yet; it needs one of the mentor's
    starts). They count toward the capacity; those ``keep_booked`` keeps take their start
    (and its day's quota), the others are busy time."""
    cfg = config or SolverConfig()
    if cfg.rule("capacity") and len(booked) + len(mentees) > mentor.capacity:
        return Fit("capacity")
    kb = keep_booked(mentor, booked, cfg)
    got = _place(kb.mentor, mentees, [booked[k] for k in kb.kept], cfg, tuple(holidays))
    return Fit("no_slot") if got is None else Fit(None, got)
