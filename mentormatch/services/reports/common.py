"""Shared pieces of the reports: settings, definitions (planned, missed, grade bands) and the
SQL expressions every report uses, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select

from ...extensions import db
from ...models import (
    Pair,
    PairStatus,
    Programme,
    Session,
    SessionSeries,
    utcnow,
)
from ...settings import ReportSettings, settings
from .. import jp

LIVE_PAIR = Pair.LIVE_STATES
MATCHED_PAIR = (*Pair.LIVE_STATES, PairStatus.COMPLETED)
PLANNED_STATES = ("scheduled", "held", "missed", "not_held")  # i.e. every state but cancelled
MISSED_STATES = ("missed", "not_held")
BANDS = ("I", "II", "III", "IV")
DIMENSIONS = ("unit", "city", "band")
NONE_LABEL = "—"
ALERT_KINDS = ("no_session", "behind_jp", "unanswered", "over_capacity")
SUMMARY_KEYS = ("no_session_30", "no_session_45", "behind_jp", "unanswered", "over_capacity")



# ---------------------------------------------------------------- settings and helpers

def clock(now: datetime | None = None) -> datetime:
    """The reports' "now": ``now`` when given, else the current time (tests set this module's
    ``utcnow`` to their fixture's now)."""
    return now or utcnow()


def report_settings() -> ReportSettings:
    """`[reports]`: pace tolerance, alert page size, nudge batch bound."""
    return settings().reports


def chase_after_days() -> int:
    """An invitation counts as unanswered once the scheduler would chase it."""
    return settings().scheduler.chase_after_days


def jp_rule(programme: Programme) -> jp.JpRule:
    """The programme's JP rule: configuration `[jp]` overlaid with `programme.jp_rule`."""
    return jp.rule_for(programme)


def yearly_target_jp(programme: Programme) -> int:
    return jp_rule(programme).yearly_target_jp


def credited_jp(minutes: float, rule: jp.JpRule) -> float:
    """JP of one person's total credited minutes in the programme, by the programme's rule
    (the same conversion as `jp.people_jp`, which the homes and the certificate use)."""
    return float(jp.minutes_to_jp(int(minutes or 0), rule))


def dialect() -> str:
    return db.session.get_bind().dialect.name


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings().app.default_timezone)


def month_expr(column: Any) -> Any:
    """'YYYY-MM' of a UTC timestamp in the deployment's zone (Indonesian zones have no DST, so
    SQLite can shift by a fixed offset)."""
    zone = local_zone()
    if dialect() == "postgresql":
        return func.to_char(func.timezone(zone.key, column), "YYYY-MM")
    offset = datetime.now(zone).utcoffset() or timedelta(0)
    return func.substr(func.datetime(column, f"{int(offset.total_seconds() // 60):+d} minutes"),
                       1, 7)


def date_month_expr(column: Any) -> Any:
    """'YYYY-MM' of a DATE column (already a local date)."""
    if dialect() == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.substr(column, 1, 7)


def seconds_between(later: Any, earlier: Any) -> Any:
    if dialect() == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def band_key(grade_rank: Any) -> Any:
    """Grade band as a small integer in SQL (grouping by it, not by the 17 grades, keeps the
    grouped rows few): golongan I = ranks 1-4, II = 5-8, III = 9-12, IV = 13-17 (PPPK map one
    to one); 0 = no or unknown grade."""
    return case((grade_rank < 1, 0), (grade_rank <= 4, 1), (grade_rank <= 8, 2),
                (grade_rank <= 12, 3), (grade_rank <= 17, 4), else_=0)


def band_label(key: int | None) -> str:
    return BANDS[key - 1] if key in (1, 2, 3, 4) else NONE_LABEL


def session_counts(status: Any, start_at: Any = None, now: datetime | None = None
                   ) -> tuple[Any, ...]:
    """(planned, held, missed, cancelled, upcoming, awaiting) sums: the one definition of
    'planned'. Upcoming = still scheduled and starting after ``now``; awaiting = still
    scheduled but already started (past and not logged yet: awaiting its log, later missed)."""
    def n(cond: Any) -> Any:
        return func.sum(case((cond, 1), else_=0))

    start_at = Session.start_at if start_at is None else start_at
    now = clock(now)
    scheduled = status == "scheduled"
    return (n(status.in_(PLANNED_STATES)), n(status == "held"), n(status.in_(MISSED_STATES)),
            n(status == "cancelled"), n(scheduled & (start_at > now)),
            n(scheduled & (start_at <= now)))


def series_of(pid: int) -> Any:
    return select(SessionSeries.id).join(Pair, Pair.id == SessionSeries.pair_id).where(
        Pair.programme_id == pid)


def pairs_of(pid: int) -> Any:
    return select(Pair.id).where(Pair.programme_id == pid)
