"""Data classes of the solver and their JSON round trip.

Everything is plain data: ``from_dict`` validates and raises ``ValueError`` with a message that
names the offending field; ``to_dict`` returns JSON-ready dicts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field, fields
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MODES = ("online", "in_person", "either")
# time_limit: the wall-clock safety stop ended the search before this mentee was placed
# (only with ``stats.safety_stop`` set)
UNMATCHED_REASONS = ("no_eligible_mentor", "no_common_time", "capacity_taken", "time_limit")
# why a lock or fixed pair could not be kept; entries of Solution.infeasible_locks carry
# ``code`` and, for "rule", ``rules`` (the broken rules), for "duplicate", ``other`` (the
# mentor the mentee is already kept with)
LOCK_CODES = ("unknown_mentee", "unknown_mentor", "duplicate", "rule", "fixed_slot", "capacity",
              "no_slot")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _hhmm(value: Any, where: str) -> int:
    """'HH:MM' (or minutes as int) -> minutes after midnight; 24:00 allowed as an end."""
    if isinstance(value, bool):
        raise ValueError(f"{where}: expected 'HH:MM', got {value!r}")
    if isinstance(value, int):
        minutes = value
    elif isinstance(value, str) and len(value.split(":")) == 2:
        hh, mm = value.split(":")
        if not (hh.isdigit() and mm.isdigit()):
            raise ValueError(f"{where}: expected 'HH:MM', got {value!r}")
        minutes = int(hh) * 60 + int(mm)
        if int(mm) >= 60:
            raise ValueError(f"{where}: minutes must be < 60 in {value!r}")
    else:
        raise ValueError(f"{where}: expected 'HH:MM', got {value!r}")
    if not 0 <= minutes <= 24 * 60:
        raise ValueError(f"{where}: time {value!r} outside 00:00-24:00")
    return minutes


def fmt_hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _weekday(value: Any, where: str) -> int:
    if isinstance(value, str) and value[:3].title() in WEEKDAYS:
        return WEEKDAYS.index(value[:3].title())
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 6:
        return value
    raise ValueError(f"{where}: weekday must be 0-6 (Mon=0) or Mon..Sun, got {value!r}")


def _req(d: dict[str, Any], key: str, where: str) -> Any:
    if not isinstance(d, dict):
        raise ValueError(f"{where}: expected an object, got {type(d).__name__}")
    if key not in d:
        raise ValueError(f"{where}: missing field {key!r}")
    return d[key]


def _int(value: Any, where: str, lo: int | None = None, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{where}: expected an integer, got {value!r}")
    if lo is not None and value < lo:
        raise ValueError(f"{where}: must be >= {lo}, got {value}")
    if hi is not None and value > hi:
        raise ValueError(f"{where}: must be <= {hi}, got {value}")
    return value


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{where}: expected a non-empty string, got {value!r}")
    return value


def _tz(value: Any, where: str) -> str:
    name = _str(value, where)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{where}: unknown IANA time zone {name!r}") from exc
    return name


def _levels(value: Any, where: str) -> dict[str, int]:
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected an object competency -> level 1-5")
    return {str(k): _int(v, f"{where}.{k}", 0, 5) for k, v in value.items()}


@dataclass(frozen=True)
class Window:
    """A weekly availability window in the person's local time (end exclusive)."""

    weekday: int
    start: int  # minutes after local midnight
    end: int

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "window") -> Window:
        wd = _weekday(_req(d, "weekday", where), f"{where}.weekday")
        start = _hhmm(_req(d, "start", where), f"{where}.start")
        end = _hhmm(_req(d, "end", where), f"{where}.end")
        if end <= start:
            raise ValueError(f"{where}: end {fmt_hhmm(end)} must be after start {fmt_hhmm(start)}")
        return cls(wd, start, end)

    def to_dict(self) -> dict[str, Any]:
        return {"weekday": self.weekday, "start": fmt_hhmm(self.start), "end": fmt_hhmm(self.end)}


def _windows(value: Any, where: str) -> tuple[Window, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ValueError(f"{where}: expected a list of windows")
    return tuple(Window.from_dict(w, f"{where}[{i}]") for i, w in enumerate(value))


def _busy(value: Any, where: str) -> tuple[tuple[int, int], ...]:
    """Weekly busy time: [[start, end], ...] in UTC minutes of the week (Mon 00:00 UTC = 0),
    end exclusive, 0 <= start < end <= 10080."""
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise ValueError(f"{where}: expected a list of [start, end] UTC minutes of the week")
    out = []
    for k, iv in enumerate(value):
        if not isinstance(iv, list | tuple) or len(iv) != 2:
            raise ValueError(f"{where}[{k}]: expected [start, end], got {iv!r}")
        a = _int(iv[0], f"{where}[{k}].start", 0, 7 * 1440 - 1)
        b = _int(iv[1], f"{where}[{k}].end", 1, 7 * 1440)
        if b <= a:
            raise ValueError(f"{where}[{k}]: end {b} must be after start {a}")
        out.append((a, b))
    return tuple(sorted(out))


def _person_common(d: dict[str, Any], where: str) -> dict[str, Any]:
    mode = d.get("mode", "either")
    if mode not in MODES:
        raise ValueError(f"{where}.mode: must be one of {MODES}, got {mode!r}")
    return {
        "id": _str(_req(d, "id", where), f"{where}.id"),
        "grade": _int(_req(d, "grade", where), f"{where}.grade", 0),
        "unit": str(d.get("unit", "")),
        "city": str(d.get("city", "")),
        "tz": _tz(d.get("tz", "Asia/Jakarta"), f"{where}.tz"),
        "mode": mode,
        "levels": _levels(d.get("levels", {}), f"{where}.levels"),
        "availability": _windows(d.get("availability"), f"{where}.availability"),
        "busy": _busy(d.get("busy"), f"{where}.busy"),
    }


@dataclass(frozen=True)
class Mentor:
    """``grade`` None: a mentor outside the civil-service grades (a university, NGO or company
    partner): the seniority rule and the grade-distance term do not apply to them."""

    id: str
    grade: int | None
    unit: str = ""
    city: str = ""
    tz: str = "Asia/Jakarta"
    mode: str = "either"
    levels: dict[str, int] = field(default_factory=dict[str, Any])
    availability: tuple[Window, ...] = ()
    capacity: int = 1
    max_sessions_per_day: int | None = None
    busy: tuple[tuple[int, int], ...] = ()  # weekly UTC [start, end) minutes: taken elsewhere

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "mentor") -> Mentor:
        ungraded = isinstance(d, dict) and "grade" in d and d["grade"] is None
        base = _person_common({**d, "grade": 0} if ungraded else d, where)
        if ungraded:
            base["grade"] = None
        cap = _int(d.get("capacity", 1), f"{where}.capacity", 1)
        mspd = d.get("max_sessions_per_day")
        if mspd is not None:
            mspd = _int(mspd, f"{where}.max_sessions_per_day", 1)
        return cls(**base, capacity=cap, max_sessions_per_day=mspd)

    def to_dict(self) -> dict[str, Any]:
        d = _plain(self)
        d["availability"] = [w.to_dict() for w in self.availability]
        d["busy"] = [list(b) for b in self.busy]
        return d


@dataclass(frozen=True)
class Mentee:
    id: str
    grade: int
    unit: str = ""
    city: str = ""
    tz: str = "Asia/Jakarta"
    mode: str = "either"
    levels: dict[str, int] = field(default_factory=dict[str, Any])
    availability: tuple[Window, ...] = ()
    required: dict[str, int] = field(default_factory=dict[str, Any])
    supervisor_id: str | None = None
    preferences: tuple[str, ...] = ()
    priority: bool = False
    busy: tuple[tuple[int, int], ...] = ()  # weekly UTC [start, end) minutes: taken elsewhere

    def __post_init__(self) -> None:
        # A mentor listed twice keeps its first (best) rank: the ranks, and so the score the
        # solver optimises and the score it reports, are those of the normalised list.
        prefs = tuple(dict.fromkeys(self.preferences))
        if prefs != self.preferences:
            object.__setattr__(self, "preferences", prefs)

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "mentee") -> Mentee:
        base = _person_common(d, where)
        prefs = d.get("preferences", [])
        if not isinstance(prefs, list) or not all(isinstance(p, str) for p in prefs):
            raise ValueError(f"{where}.preferences: expected a list of mentor ids")
        sup = d.get("supervisor_id")
        if sup is not None:
            sup = _str(sup, f"{where}.supervisor_id")
        prio = d.get("priority", False)
        if not isinstance(prio, bool):
            raise ValueError(f"{where}.priority: expected true/false, got {prio!r}")
        return cls(
            **base,
            required=_levels(d.get("required", {}), f"{where}.required"),
            supervisor_id=sup,
            preferences=tuple(prefs),
            priority=prio,
        )

    def to_dict(self) -> dict[str, Any]:
        d = _plain(self)
        d["availability"] = [w.to_dict() for w in self.availability]
        d["preferences"] = list(self.preferences)
        d["busy"] = [list(b) for b in self.busy]
        return d


@dataclass(frozen=True)
class Link:
    """A (mentee, mentor) pair used for locks, forbids, fixed pairs, history and hints.

    ``slot`` is the UTC minute of the week (Mon 00:00 UTC = 0) of the session start, if known.
    """

    mentee: str
    mentor: str
    slot: int | None = None
    # fixed pairs and locks only: the named pair rules (EXEMPTABLE) that do not apply to this
    # pair, e.g. a pair a coordinator set by hand, or one that already exists
    exempt: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        bad = sorted(set(self.exempt) - set(EXEMPTABLE))
        if bad:
            raise ValueError(f"pair {self.mentee}->{self.mentor}: cannot exempt {bad}; "
                             f"exemptable rules: {EXEMPTABLE}")
        object.__setattr__(self, "exempt", tuple(sorted(set(self.exempt))))

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "pair") -> Link:
        slot = d.get("slot")
        if isinstance(slot, dict):
            slot = slot.get("minute_of_week")
        if slot is not None:
            slot = _int(slot, f"{where}.slot", 0, 7 * 1440 - 1)
        exempt = d.get("exempt", [])
        if not isinstance(exempt, list) or not all(isinstance(x, str) for x in exempt):
            raise ValueError(f"{where}.exempt: expected a list of rule names")
        return cls(
            _str(_req(d, "mentee", where), f"{where}.mentee"),
            _str(_req(d, "mentor", where), f"{where}.mentor"),
            slot,
            tuple(exempt),
        )

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"mentee": self.mentee, "mentor": self.mentor}
        if self.slot is not None:
            d["slot"] = self.slot
        if self.exempt:
            d["exempt"] = list(self.exempt)
        return d


def _links(value: Any, where: str) -> tuple[Link, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ValueError(f"{where}: expected a list of {{mentee, mentor}} objects")
    return tuple(Link.from_dict(p, f"{where}[{i}]") for i, p in enumerate(value))


@dataclass(frozen=True)
class Instance:
    mentors: tuple[Mentor, ...]
    mentees: tuple[Mentee, ...]
    locks: tuple[Link, ...] = ()
    forbids: tuple[Link, ...] = ()
    previous_pairs: tuple[Link, ...] = ()
    fixed: tuple[Link, ...] = ()
    hint: tuple[Link, ...] = ()
    holidays: tuple[str, ...] = ()  # ISO dates (local) of the reference week with no sessions

    def __post_init__(self) -> None:
        for kind, people in (("mentor", self.mentors), ("mentee", self.mentees)):
            seen: set[str] = set()
            for p in people:
                if p.id in seen:
                    raise ValueError(f"duplicate {kind} id {p.id!r}")
                seen.add(p.id)

    def input_errors(self) -> list[str]:
        """What makes the instance unusable as a matching problem (the command line refuses
        it with exit 2; ``solve`` itself accepts it and leaves every mentee unmatched):
        no mentors, no mentees, or a required competency that no mentor holds (usually a
        misspelt code)."""
        out: list[str] = []
        if not self.mentors:
            out.append("instance.mentors: no mentors: nobody can be matched")
        if not self.mentees:
            out.append("instance.mentees: no mentees: nothing to match")
        held = {c for m in self.mentors for c, v in m.levels.items() if v > 0}
        missing: dict[str, list[int]] = {}
        for i, e in enumerate(self.mentees if self.mentors else ()):
            for c in sorted(e.required):
                if e.required[c] > e.levels.get(c, 0) and c not in held:
                    missing.setdefault(c, []).append(i)
        for c, rows in sorted(missing.items()):
            out.append(f"mentees[{rows[0]}].required: competency {c!r} (required by "
                       f"{len(rows)} mentee(s)) is held by no mentor")
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Instance:
        if not isinstance(d, dict):
            raise ValueError("instance: expected a JSON object")
        mentors = _req(d, "mentors", "instance")
        mentees = _req(d, "mentees", "instance")
        if not isinstance(mentors, list) or not isinstance(mentees, list):
            raise ValueError("instance: 'mentors' and 'mentees' must be lists")
        hol = d.get("holidays", [])
        for i, h in enumerate(hol):
            try:
                dt.date.fromisoformat(h)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"instance.holidays[{i}]: not an ISO date: {h!r}") from exc
        return cls(
            mentors=tuple(Mentor.from_dict(m, f"mentors[{i}]") for i, m in enumerate(mentors)),
            mentees=tuple(Mentee.from_dict(m, f"mentees[{i}]") for i, m in enumerate(mentees)),
            locks=_links(d.get("locks"), "locks"),
            forbids=_links(d.get("forbids"), "forbids"),
            previous_pairs=_links(d.get("previous_pairs"), "previous_pairs"),
            fixed=_links(d.get("fixed"), "fixed"),
            hint=_links(d.get("hint"), "hint"),
            holidays=tuple(hol),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "mentors": [m.to_dict() for m in self.mentors],
            "mentees": [m.to_dict() for m in self.mentees],
            "locks": [p.to_dict() for p in self.locks],
            "forbids": [p.to_dict() for p in self.forbids],
            "previous_pairs": [p.to_dict() for p in self.previous_pairs],
            "fixed": [p.to_dict() for p in self.fixed],
            "hint": [p.to_dict() for p in self.hint],
            "holidays": list(self.holidays),
        }


@dataclass(frozen=True)
class Weights:
    """Soft terms. Points are multiplied by ``SCALE`` and rounded to integers."""

    gap: float = 10.0  # per level of gap closed (times the competency weight)
    competency: dict[str, float] = field(default_factory=dict[str, Any])  # default 1.0
    preference: float = 15.0  # first-ranked preference; linearly less for later ranks
    same_city: float = 5.0  # in-person pair in one city
    same_unit: float = 0.0
    other_unit: float = 2.0
    grade_distance: float = -1.0  # per grade step beyond the minimum gap

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> Weights:
        d = d or {}
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"weights: unknown field(s) {sorted(unknown)}")
        out: dict[str, Any] = {}
        for k, v in d.items():
            if k == "competency":
                if not isinstance(v, dict):
                    raise ValueError("weights.competency: expected an object")
                out[k] = {str(c): float(w) for c, w in v.items()}
            elif isinstance(v, bool) or not isinstance(v, int | float):
                raise ValueError(f"weights.{k}: expected a number, got {v!r}")
            else:
                out[k] = float(v)
        return cls(**out)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def default_working_hours() -> dict[int, tuple[tuple[int, int], ...]]:
    """Perpres 21/2023: Mon-Thu 07:30-16:00, Fri 07:30-16:30; breaks 12:00-13:00 and, on
    Friday, 11:30-13:00 for Friday prayer."""
    mon_thu = ((7 * 60 + 30, 12 * 60), (13 * 60, 16 * 60))
    fri = ((7 * 60 + 30, 11 * 60 + 30), (13 * 60, 16 * 60 + 30))
    return {0: mon_thu, 1: mon_thu, 2: mon_thu, 3: mon_thu, 4: fri}


RULES = (
    "grade",  # mentor outranks mentee by >= min_grade_gap steps
    "supervisor",  # not the mentee's direct supervisor
    "no_repeat",  # no pair of previous_pairs again
    "same_city_in_person",  # in-person pairs only within one city
    "mode",  # online / in-person / either must be compatible
    "locks",  # coordinator locks must be kept (off: locks are ignored)
    "forbids",  # coordinator forbids are respected (off: ignored)
    "common_slot",  # a common slot inside both availabilities (off: any working-hours slot)
    "one_mentee_per_slot",  # a mentor never has two sessions at once (off: group sessions)
    "capacity",  # mentor capacity (off: unlimited mentees per mentor)
    "sessions_per_day",  # mentor max_sessions_per_day
)


# pair rules a fixed pair or lock can be exempt from (Link.exempt)
EXEMPTABLE = ("grade", "supervisor", "no_repeat", "same_city_in_person", "mode", "forbids",
              "common_slot")


@dataclass(frozen=True)
class SolverConfig:
    """Solver settings. Every hard rule of ``RULES`` can be switched off in ``rules``; what stays
    structural is only that a pair gets one weekly slot inside working hours and a mentee at
    most one mentor (that is what a pair is).

    ``slot_step_minutes`` (default 30) is the grid of session starts; with 60-minute sessions a
    30-minute grid keeps the 07:30 starts of Perpres 21/2023 working hours (WIB 07:30 = WITA 08:30
    = 00:30 UTC). Mentors offer back-to-back blocks of their free time (``mentor_blocks``), so a
    mentor's sessions never overlap and the flow is exact; with ``mentor_blocks`` off every grid
    start is offered and overlapping starts are repaired (``one_mentee_per_slot``).
    Solving is deterministic for the same input and seed: the flow phases are exact and
    deterministic, CP-SAT runs single-threaded with a deterministic-time limit; only when the
    wall-clock ``time_limit`` cuts a phase short can two runs differ."""

    min_grade_gap: int = 1
    rules: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(RULES, True))
    session_minutes: int = 60
    slot_step_minutes: int = 30
    mentor_blocks: bool = True  # mentors offer back-to-back blocks (exact flow); False: any start
    reference_week: str = "2026-01-05"  # any date of the week; its Monday is used
    working_hours: dict[int, tuple[tuple[int, int], ...]] = field(
        default_factory=default_working_hours
    )
    weights: Weights = field(default_factory=Weights)
    time_limit: float = 30.0
    seed: int = 0
    num_workers: int = 2
    spread_load: bool = True  # objective level 3: spread mentees across mentors
    # fast path
    prune: bool = True  # False: flow over every eligible arc (no pruning loss at all)
    # With prune on, instances with at most this many eligible (mentee, mentor) pairs still
    # take every arc: exact and as fast (5,000 mentees: ~1.3 M pairs, 5 s, ~550 MB).
    exact_up_to_pairs: int = 1_500_000
    top_k_mentee: int | None = None  # None: 16
    top_k_mentor_factor: int = 10  # mentor keeps capacity * factor best mentees
    pricing_rounds: int = 8  # re-solves adding pruned arcs that could improve the result
    pricing_per_mentee: int = 24  # pruned arcs added per mentee and round
    pricing_tolerance: float = 1e-4  # stop pricing once pruning can cost at most this share
    prove_up_to: int = 2000  # up to this many mentees pricing ignores the tolerance (proof)
    cpsat_time: float = 2.0  # deterministic-time budget of the CP-SAT slot repair

    def rule(self, name: str) -> bool:
        return self.rules.get(name, True)

    def __post_init__(self) -> None:
        if self.session_minutes <= 0 or self.slot_step_minutes <= 0:
            raise ValueError("config: session_minutes and slot_step_minutes must be > 0")
        if (7 * 1440) % self.slot_step_minutes:
            raise ValueError("config.slot_step_minutes must divide a week (10080 minutes)")
        object.__setattr__(self, "rules", {**dict.fromkeys(RULES, True), **self.rules})
        unknown = set(self.rules) - set(RULES)
        if unknown:
            raise ValueError(f"config.rules: unknown rule(s) {sorted(unknown)}; known: {RULES}")
        bad = {k: v for k, v in self.rules.items() if not isinstance(v, bool)}
        if bad:
            raise ValueError(f"config.rules: expected true/false, got {bad}")

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> SolverConfig:
        d = dict(d or {})
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"config: unknown field(s) {sorted(unknown)}")
        if "weights" in d:
            d["weights"] = Weights.from_dict(d["weights"])
        if "rules" in d:
            if not isinstance(d["rules"], dict):
                raise ValueError("config.rules: expected an object rule -> true/false")
            rules = dict.fromkeys(RULES, True)
            for k, v in d["rules"].items():
                if not isinstance(v, bool):
                    raise ValueError(f"config.rules.{k}: expected true/false, got {v!r}")
                rules[str(k)] = v
            d["rules"] = rules
        if "working_hours" in d:
            wh: dict[int, tuple[tuple[int, int], ...]] = {}
            for day, spans in d["working_hours"].items():
                wd = _weekday(int(day) if str(day).isdigit() else day, "config.working_hours")
                wh[wd] = tuple(
                    (_hhmm(a, "config.working_hours"), _hhmm(b, "config.working_hours"))
                    for a, b in spans
                )
            d["working_hours"] = wh
        if "reference_week" in d:
            try:
                dt.date.fromisoformat(d["reference_week"])
            except (TypeError, ValueError) as exc:
                raise ValueError("config.reference_week: expected an ISO date") from exc
        for k in ("min_grade_gap", "session_minutes", "slot_step_minutes", "seed", "num_workers",
                  "top_k_mentor_factor", "pricing_rounds", "pricing_per_mentee", "prove_up_to",
                  "exact_up_to_pairs"):
            if k in d:
                _int(d[k], f"config.{k}", 0)
        if d.get("top_k_mentee") is not None:
            _int(d["top_k_mentee"], "config.top_k_mentee", 1)
        for k in ("prune", "spread_load", "mentor_blocks"):
            if k in d and not isinstance(d[k], bool):
                raise ValueError(f"config.{k}: expected true/false, got {d[k]!r}")
        for k in ("time_limit", "cpsat_time", "pricing_tolerance"):
            if k in d and (isinstance(d[k], bool) or not isinstance(d[k], int | float)):
                raise ValueError(f"config.{k}: expected a number of seconds, got {d[k]!r}")
        return cls(**d)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["working_hours"] = {
            str(k): [[fmt_hhmm(a), fmt_hhmm(b)] for a, b in v]
            for k, v in sorted(self.working_hours.items())
        }
        return d


@dataclass(frozen=True)
class LocalTime:
    weekday: str
    time: str
    tz: str  # abbreviation, e.g. WIB
    zone: str  # IANA name

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Slot:
    minute_of_week: int  # UTC, Mon 00:00 = 0
    weekday_utc: str
    start_utc: str
    mentor_local: LocalTime
    mentee_local: LocalTime

    def to_dict(self) -> dict[str, Any]:
        return {
            "minute_of_week": self.minute_of_week,
            "weekday_utc": self.weekday_utc,
            "start_utc": self.start_utc,
            "mentor_local": self.mentor_local.to_dict(),
            "mentee_local": self.mentee_local.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Slot:
        return cls(
            d["minute_of_week"],
            d["weekday_utc"],
            d["start_utc"],
            LocalTime(**d["mentor_local"]),
            LocalTime(**d["mentee_local"]),
        )


@dataclass(frozen=True)
class Pair:
    mentee: str
    mentor: str
    slot: Slot
    mode: str
    score: int
    breakdown: dict[str, int]
    reasons: list[dict[str, Any]]  # codes with parameters (scoring.reason_codes), no prose
    locked: bool = False
    fixed: bool = False

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["slot"] = self.slot.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Pair:
        d = dict(d)
        d["slot"] = Slot.from_dict(d["slot"])
        return cls(**d)


@dataclass(frozen=True)
class Unmatched:
    """``reason`` one of UNMATCHED_REASONS; ``params`` its figures: ``eligible`` (mentors
    passing every pair rule with a common slot), ``with_room`` (those below capacity) and
    ``day_limit`` (of those, how many have a free common start but reached their
    sessions-per-day limit)."""

    mentee: str
    reason: str
    params: dict[str, int] = field(default_factory=dict[str, Any])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Stats:
    status: str = "UNKNOWN"  # OPTIMAL / FEASIBLE / ...
    objective: int = 0  # summed pair score of the returned pairs
    matched: int = 0
    matched_priority: int = 0
    bound: int | None = None  # proven upper bound on the summed score (same matched counts)
    gap: float | None = None  # (bound - objective) / bound
    matched_bound: int | None = None  # proven upper bound on the matched count
    load_spread: int = 0  # sum over mentors of load*(load-1)/2 (level 3, lower is better)
    # the phase in which the wall-clock safety stop ended the work early (None: the work
    # budgets decided everything, and the same input and seed give the same solution)
    safety_stop: str | None = None
    wall_time: float = 0.0
    model: dict[str, int] = field(default_factory=dict[str, Any])
    phases: list[dict[str, Any]] = field(default_factory=list)
    pruning: dict[str, Any] = field(default_factory=dict[str, Any])
    timing: dict[str, Any] = field(default_factory=dict[str, Any])  # seconds per phase and round

    def to_dict(self, timing: bool = True) -> dict[str, Any]:
        d = asdict(self)
        if not timing:
            del d["wall_time"], d["timing"]
        return d


@dataclass
class Solution:
    pairs: list[Pair]
    unmatched: list[Unmatched]
    infeasible_locks: list[dict[str, Any]]
    stats: Stats

    @property
    def status(self) -> str:
        return self.stats.status

    def to_dict(self, timing: bool = False) -> dict[str, Any]:
        """JSON-ready. Without ``timing`` (the default) it holds no wall-clock figure, so the
        same input and seed give byte-identical JSON."""
        return {
            "status": self.stats.status,
            "pairs": [p.to_dict() for p in self.pairs],
            "unmatched": [u.to_dict() for u in self.unmatched],
            "infeasible_locks": [dict(x) for x in self.infeasible_locks],
            "stats": self.stats.to_dict(timing),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Solution:
        if not isinstance(d, dict) or "pairs" not in d:
            raise ValueError("solution: expected an object with 'pairs'")
        return cls(
            pairs=[Pair.from_dict(p) for p in d["pairs"]],
            unmatched=[Unmatched(**u) for u in d.get("unmatched", [])],
            infeasible_locks=list(d.get("infeasible_locks", [])),
            stats=Stats(**d.get("stats", {})),
        )


def _plain(obj: Any) -> dict[str, Any]:
    d = asdict(obj)
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items()}
