"""JP (jam pelajaran): the arithmetic, and the one tally every page, certificate and report uses.

Minutes are what we store; JP are derived. A programme's `jp_rule` overrides the configured
defaults (`[jp]`): `minutes_per_jp` (45), `rounding` (floor | nearest | half),
`max_minutes_per_session` (a per-session cap; 0 or missing means no cap) and `yearly_target_jp`.

The one rule: rounding applies to a person's credited minutes *per programme per calendar year*
(the year a session was held, local date as logged), so short sessions add up rather than each
losing its remainder: floor → whole JP rounded down; nearest → whole JP, halves round up;
half → rounded down to the nearest half JP. A programme's JP (certificate, exports) is the sum
of its yearly figures, so the years shown on a home page always add up to the certificate;
a person's JP is the sum of their per-programme JP (each programme rounds by its own rule).
A single session is never converted to JP: its mails and pages say minutes.

The top half is pure; `rule_for`, `people_jp` and `person_jp` read the configuration and the
database. Call those (never divide minutes yourself) so homes, certificates and reports agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any, TypeVarTuple

from babel.numbers import format_decimal
from sqlalchemy import Select, extract, func, select

from ..config import standalone
from ..extensions import db
from ..models import Pair, Programme, SessionLog
from ..settings import settings

ROUNDINGS = ("floor", "nearest", "half")


@dataclass(frozen=True)
class JpRule:
    """One programme's arithmetic; its default values live only in `[jp]` (defaults.toml)."""

    minutes_per_jp: int
    rounding: str
    max_minutes_per_session: int  # 0 = no cap
    yearly_target_jp: int

    def __post_init__(self) -> None:
        if self.minutes_per_jp < 1:
            raise ValueError("minutes_per_jp must be at least 1")
        if self.rounding not in ROUNDINGS:
            raise ValueError(f"rounding must be one of {ROUNDINGS}")
        if self.max_minutes_per_session < 0:
            raise ValueError("max_minutes_per_session must not be negative")
        if self.yearly_target_jp < 0:
            raise ValueError("yearly_target_jp must not be negative")


def rule_from(config: dict[str, Any] | None,
              programme_rule: dict[str, Any] | None = None) -> JpRule:
    """The `[jp]` settings overlaid with a programme's own rule; what ``config`` leaves out (a
    script, a unit test) comes from the shipped `[jp]` defaults."""
    merged = {**standalone().jp.model_dump(), **(config or {}), **(programme_rule or {})}
    return JpRule(minutes_per_jp=int(merged["minutes_per_jp"]), rounding=str(merged["rounding"]),
                  max_minutes_per_session=int(merged.get("max_minutes_per_session") or 0),
                  yearly_target_jp=int(merged.get("yearly_target_jp") or 0))


def credited_minutes(duration_minutes: int, rule: JpRule) -> int:
    """Minutes of one confirmed session that count: never negative, capped by the rule."""
    minutes = max(0, int(duration_minutes))
    if rule.max_minutes_per_session:
        minutes = min(minutes, rule.max_minutes_per_session)
    return minutes


def minutes_to_jp(minutes: int, rule: JpRule) -> Decimal:
    """Total credited minutes → JP under the rule's rounding."""
    raw = Decimal(max(0, int(minutes))) / Decimal(rule.minutes_per_jp)
    if rule.rounding == "floor":
        return raw.to_integral_value(rounding=ROUND_FLOOR)
    if rule.rounding == "nearest":
        return raw.to_integral_value(rounding=ROUND_HALF_UP)
    return (raw * 2).to_integral_value(rounding=ROUND_FLOOR) / 2


def _locale() -> str:
    try:
        from flask_babel import get_locale

        return str(get_locale() or "id")
    except RuntimeError:  # no request (a job, a mail rendered outside force_locale)
        return "id"


def fmt_jp(value: Decimal, locale: str | None = None) -> str:
    """JP for people in their language: '3', '2,5' (Indonesian), '2.5' (English); no
    trailing zeros, never '3.0'."""
    return format_decimal(Decimal(value).normalize(), locale=locale or _locale())


def progress_percent(earned: Decimal, target: int | float) -> int:
    if not target:
        return 100
    return min(100, int(Decimal(earned) * 100 / Decimal(str(target))))


# -- the tally: per person, per programme (and optionally per calendar year) --------------------

@dataclass(frozen=True)
class ProgrammeJp:
    """One person's confirmed mentoring in one programme, converted by that programme's rule."""

    programme_id: int
    rule: JpRule
    minutes: int = 0
    sessions: int = 0
    years: tuple[tuple[int, int], ...] = ()  # (calendar year, credited minutes) that make it up

    @property
    def jp(self) -> Decimal:
        """Rounded per calendar year, then summed (the rule of this module)."""
        if not self.years:
            return minutes_to_jp(self.minutes, self.rule)
        return sum((minutes_to_jp(m, self.rule) for _y, m in self.years), Decimal(0))


@dataclass(frozen=True)
class PersonJp:
    """JP of one person (as mentor and as mentee) for a year and/or a programme."""

    person_id: int
    year: int | None
    programme_id: int | None
    programmes: tuple[ProgrammeJp, ...]
    target: int

    @property
    def minutes(self) -> int:
        return sum(p.minutes for p in self.programmes)

    @property
    def sessions(self) -> int:
        return sum(p.sessions for p in self.programmes)

    @property
    def jp(self) -> Decimal:
        return sum((p.jp for p in self.programmes), Decimal(0))

    @property
    def jp_text(self) -> str:
        return fmt_jp(self.jp)

    @property
    def percent(self) -> int:
        return progress_percent(self.jp, self.target)


def rule_for(programme: Programme | None) -> JpRule:
    """The configured `[jp]` defaults overlaid with the programme's own rule."""
    return rule_from(settings().jp.model_dump(), programme.jp_rule if programme else None)


Row = TypeVarTuple("Row")


def _filters(stmt: Select[*Row], *, year: int | None, programme_id: int | None
             ) -> Select[*Row]:
    if year is not None:
        stmt = stmt.where(SessionLog.held_on >= date(year, 1, 1),
                          SessionLog.held_on <= date(year, 12, 31))
    if programme_id is not None:
        stmt = stmt.where(Pair.programme_id == programme_id)
    return stmt


def people_jp(person_ids: Iterable[int] | None = None, *, year: int | None = None,
              programme_id: int | None = None) -> dict[int, PersonJp]:
    """JP per person from confirmed logs: minutes summed per (person, programme), then rounded.

    `person_ids=None` means everyone with a pair (reports); `year` limits to logs held in that
    calendar year (the local date as logged); `programme_id` to one programme (certificate).
    Both sides of a pair earn the confirmed minutes. The target is the programme's
    `yearly_target_jp` (the highest of the person's programmes in the period), else `[jp]`.
    """
    ids = None if person_ids is None else list(dict.fromkeys(person_ids))
    minutes: dict[tuple[int, int], list[int]] = {}
    yearly: dict[tuple[int, int], dict[int, int]] = {}
    held_year = extract("year", SessionLog.held_on)
    for side in (Pair.mentor_id, Pair.mentee_id):
        stmt = (select(side, Pair.programme_id, held_year,
                       func.coalesce(func.sum(SessionLog.credited_minutes), 0),
                       func.count(SessionLog.id))
                .join(Pair, Pair.id == SessionLog.pair_id)
                .where(SessionLog.status == "confirmed")
                .group_by(side, Pair.programme_id, held_year))
        stmt = _filters(stmt, year=year, programme_id=programme_id)
        if ids is not None:
            stmt = stmt.where(side.in_(ids))
        for person, prog, in_year_, mins, count in db.session.execute(stmt):
            slot = minutes.setdefault((person, prog), [0, 0])
            slot[0] += int(mins or 0)
            slot[1] += int(count or 0)
            years = yearly.setdefault((person, prog), {})
            years[int(in_year_)] = years.get(int(in_year_), 0) + int(mins or 0)

    # Programmes each person takes part in (for the target), even without confirmed time yet.
    member: dict[int, set[int]] = {}
    for side in (Pair.mentor_id, Pair.mentee_id):
        programmes = (select(side, Pair.programme_id)
                      .join(Programme, Programme.id == Pair.programme_id)
                      .where(Pair.status != "declined").distinct())
        if year is not None:
            programmes = programmes.where(Programme.start_date <= date(year, 12, 31),
                                          Programme.end_date >= date(year, 1, 1))
        if programme_id is not None:
            programmes = programmes.where(Pair.programme_id == programme_id)
        if ids is not None:
            programmes = programmes.where(side.in_(ids))
        for person, prog in db.session.execute(programmes):
            member.setdefault(person, set()).add(prog)
    for person, prog in minutes:
        member.setdefault(person, set()).add(prog)

    wanted = {p for progs in member.values() for p in progs}
    if programme_id is not None:
        wanted.add(programme_id)
    rules = {p.id: rule_for(p) for p in db.session.scalars(
        select(Programme).where(Programme.id.in_(wanted)))} if wanted else {}
    default = rule_for(None)

    out: dict[int, PersonJp] = {}
    for person in (ids if ids is not None else sorted(member)):
        progs = sorted(member.get(person, set()))
        lines = tuple(ProgrammeJp(p, rules.get(p, default),
                                  minutes.get((person, p), (0, 0))[0],
                                  minutes.get((person, p), (0, 0))[1],
                                  years=tuple(sorted(yearly.get((person, p), {}).items())))
                      for p in progs)
        if programme_id is not None:
            target = rules.get(programme_id, default).yearly_target_jp
        else:
            target = max((ln.rule.yearly_target_jp for ln in lines),
                         default=default.yearly_target_jp)
        out[person] = PersonJp(person, year, programme_id, lines, target)
    return out


def person_jp(person_id: int, *, year: int | None = None,
              programme_id: int | None = None) -> PersonJp:
    """One person's JP: the home pages use `year`, the certificate `programme_id`."""
    return people_jp([person_id], year=year, programme_id=programme_id)[person_id]
