"""Programme reports for coordinators: dashboard numbers, participation alerts, competency progress.

Every dashboard figure comes from a handful of aggregate queries grouped by the raw
(unit_id, location_id, grade band) of the person the figure is about; the few hundred groups are
rolled up in Python into overall / by unit / by city / by grade band, so a figure of the whole
programme is by construction the sum of its groups. No query returns one row per session or log.
Works on SQLite and PostgreSQL.

Attribution: participants and invitations count in the group of the person themselves; pairs,
sessions, logs, JP and feedback in the group of the pair's mentee.

Definitions used everywhere (dashboard, breakdowns, trend, print):
- participant: an active participant of the programme, counted once even with both roles;
- matched mentee: an active mentee participant with a pair that is invited, active or completed;
- planned session: a session of the programme that is not cancelled (held + missed + awaiting
  + upcoming); cancelled sessions are shown on their own;
- upcoming session: still scheduled and starting in the future; a scheduled session that has
  started is *awaiting its log* (the missed-marking job makes it missed after
  `[scheduler] missed_after_days`), whatever became of its series;
- JP credited: per mentee, the confirmed credited minutes of the programme converted by the
  programme's JP rule (`services.jp`), as on the mentee's home page; groups add these up.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Float, Select, and_, case, cast, extract, func, or_, select, true
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import (
    Attendee,
    Competency,
    Evaluation,
    Feedback,
    Location,
    Pair,
    PairStatus,
    Participant,
    Person,
    PersonCompetency,
    Programme,
    Session,
    SessionLog,
    SessionSeries,
    Unit,
    utcnow,
)
from ..settings import settings
from . import jp
from .feedback import STAGES, questions

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

def report_settings() -> dict[str, Any]:
    """`[reports]` with defaults: pace tolerance, alert page size, nudge batch bound."""
    return settings().reports.model_dump()


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


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings().app.default_timezone)


def month_expr(column: Any) -> Any:
    """'YYYY-MM' of a UTC timestamp in the deployment's zone (Indonesian zones have no DST, so
    SQLite can shift by a fixed offset)."""
    zone = local_zone()
    if _dialect() == "postgresql":
        return func.to_char(func.timezone(zone.key, column), "YYYY-MM")
    offset = datetime.now(zone).utcoffset() or timedelta(0)
    return func.substr(func.datetime(column, f"{int(offset.total_seconds() // 60):+d} minutes"),
                       1, 7)


def date_month_expr(column: Any) -> Any:
    """'YYYY-MM' of a DATE column (already a local date)."""
    if _dialect() == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.substr(column, 1, 7)


def seconds_between(later: Any, earlier: Any) -> Any:
    if _dialect() == "postgresql":
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
    now = now or utcnow()
    scheduled = status == "scheduled"
    return (n(status.in_(PLANNED_STATES)), n(status == "held"), n(status.in_(MISSED_STATES)),
            n(status == "cancelled"), n(scheduled & (start_at > now)),
            n(scheduled & (start_at <= now)))


def _series_of(pid: int) -> Any:
    return select(SessionSeries.id).join(Pair, Pair.id == SessionSeries.pair_id).where(
        Pair.programme_id == pid)


def _pairs_of(pid: int) -> Any:
    return select(Pair.id).where(Pair.programme_id == pid)


class _Rollup:
    """Sums counters per group key into overall and per-dimension buckets."""

    def __init__(self) -> None:
        self.units = dict(db.session.execute(select(Unit.id, Unit.name)).all())
        self.cities = dict(db.session.execute(select(Location.id, Location.city)).all())
        self.overall: dict[str, float] = defaultdict(float)
        self._buckets: dict[tuple[Any, Any, Any], tuple[dict[str, float], ...]] = {}
        self._labels: dict[tuple[Any, Any, Any], tuple[str, str, str]] = {}
        self.by: dict[str, dict[str, dict[str, float]]] = {
            d: defaultdict(lambda: defaultdict(float)) for d in DIMENSIONS
        }

    def labels(self, unit_id: int | None, location_id: int | None,
               band: int | None) -> tuple[str, str, str]:
        key = (unit_id, location_id, band)
        found = self._labels.get(key)
        if found is None:
            found = self._labels[key] = (self.units.get(unit_id, NONE_LABEL),
                                         self.cities.get(location_id, NONE_LABEL),
                                         band_label(band))
        return found

    def add(self, unit_id: int | None, location_id: int | None, band: int | None,
            **values: float) -> None:
        key = (unit_id, location_id, band)
        buckets = self._buckets.get(key)
        if buckets is None:
            unit, city, band = self.labels(*key)
            buckets = self._buckets[key] = (self.overall, self.by["unit"][unit],
                                            self.by["city"][city], self.by["band"][band])
        for name, value in values.items():
            if value:
                value = float(value)
                for bucket in buckets:
                    bucket[name] += value


def _pct(part: float, whole: float) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _avg(total: float, count: float) -> float | None:
    return round(total / count, 2) if count else None


COUNTERS = ("participants", "mentors", "mentees", "matched", "pairs", "pairs_active",
            "invites_accepted", "invites_declined", "invites_tentative", "invites_unanswered",
            "sessions_planned", "sessions_held", "sessions_missed", "sessions_cancelled",
            "sessions_upcoming", "sessions_awaiting", "logs_confirmed", "logs_submitted",
            "logs_disputed", "credited_minutes")


def _finish(v: dict[str, float]) -> dict[str, Any]:
    """Derived figures of one bucket (overall, or one unit / city / band)."""
    out: dict[str, Any] = {k: int(v.get(k, 0)) for k in COUNTERS}
    out["unmatched"] = out["mentees"] - out["matched"]
    out["matched_pct"] = _pct(out["matched"], out["mentees"])
    answered = out["invites_accepted"] + out["invites_declined"]
    out["acceptance_pct"] = _pct(out["invites_accepted"], answered)
    out["held_pct"] = _pct(out["sessions_held"], out["sessions_held"] + out["sessions_missed"])
    out["jp_credited"] = round(v.get("jp_credited", 0), 2)
    out["rating_mentee"] = _avg(v.get("rating_mentee_sum", 0), v.get("rating_mentee_n", 0))
    out["rating_mentor"] = _avg(v.get("rating_mentor_sum", 0), v.get("rating_mentor_n", 0))
    out["rating_all"] = _avg(v.get("rating_mentee_sum", 0) + v.get("rating_mentor_sum", 0),
                             v.get("rating_mentee_n", 0) + v.get("rating_mentor_n", 0))
    return out


# ---------------------------------------------------------------- dashboard

def dashboard(programme: Programme) -> dict[str, Any]:
    """All dashboard figures of a programme: overall, by unit / city / band, and by month."""
    pid = programme.id
    rule = jp_rule(programme)
    roll = _Rollup()
    person = aliased(Person)
    u, c, b = person.unit_id, person.location_id, band_key(person.grade_rank)

    # 1. participants: distinct people, by role, and matched mentees (active participants only)
    is_mentor, is_mentee = Participant.role == "mentor", Participant.role == "mentee"
    matched_ids = select(Pair.mentee_id).where(Pair.programme_id == pid,
                                               Pair.status.in_(MATCHED_PAIR))
    pid_col = Participant.person_id
    # (programme, person, role) is unique: only "anyone" needs a distinct count
    stmt = (
        select(u, c, b, func.count(func.distinct(pid_col)),
               func.sum(case((is_mentor, 1), else_=0)), func.sum(case((is_mentee, 1), else_=0)),
               func.sum(case((and_(is_mentee, pid_col.in_(matched_ids)), 1), else_=0)))
        .join(person, person.id == pid_col)
        .where(Participant.programme_id == pid, Participant.active.is_(True))
        .group_by(u, c, b)
    )
    for unit, city, band, everyone, mentors, mentees, matched in db.session.execute(stmt):
        roll.add(unit, city, band, participants=everyone, mentors=mentors, mentees=mentees,
                 matched=matched)

    # 2. pairs (attributed to the mentee)
    stmt = (
        select(u, c, b, func.count(Pair.id), func.sum(case((Pair.status == "active", 1), else_=0)))
        .join(person, person.id == Pair.mentee_id).where(Pair.programme_id == pid)
        .group_by(u, c, b)
    )
    for unit, city, band, pairs, active in db.session.execute(stmt):
        roll.add(unit, city, band, pairs=pairs, pairs_active=active)

    # 3. invitations: each attendee's answer (attributed to the attendee) and answer delays
    medians = _invitations(pid, roll)

    # 4. sessions: counted per series (index on session.series_id), then by mentee
    per_series = (
        select(Session.series_id.label("series_id"),
               *(col.label(n) for col, n in zip(session_counts(Session.status),
                                                ("planned", "held", "missed", "cancelled",
                                                 "upcoming", "awaiting"), strict=True)))
        .where(Session.series_id.in_(_series_of(pid))).group_by(Session.series_id).subquery()
    )
    stmt = (
        select(u, c, b, *(func.sum(per_series.c[n]) for n in
                          ("planned", "held", "missed", "cancelled", "upcoming", "awaiting")))
        .select_from(per_series)
        .join(SessionSeries, SessionSeries.id == per_series.c.series_id)
        .join(Pair, Pair.id == SessionSeries.pair_id)
        .join(person, person.id == Pair.mentee_id).group_by(u, c, b)
    )
    for unit, city, band, planned, held, missed, cancelled, upcoming, awaiting in \
            db.session.execute(stmt):
        roll.add(unit, city, band, sessions_planned=planned, sessions_held=held,
                 sessions_missed=missed, sessions_cancelled=cancelled,
                 sessions_upcoming=upcoming, sessions_awaiting=awaiting)

    # 5. logs and JP: per mentee and calendar year (index on session_log.pair_id), then the
    #    mentees of each group grouped by their credited yearly total, so the JP rule rounds each
    #    person's own yearly total and sums the years (as `jp.people_jp`: home page, certificate)
    #    while no row per person leaves the database
    st = SessionLog.status
    confirmed = st == "confirmed"
    held_year = extract("year", SessionLog.held_on)
    per_mentee = (
        select(Pair.mentee_id.label("mentee_id"), held_year.label("year"),
               func.sum(case((confirmed, 1), else_=0)).label("conf"),
               func.sum(case((st == "submitted", 1), else_=0)).label("sub"),
               func.sum(case((st == "disputed", 1), else_=0)).label("disp"),
               func.sum(case((confirmed, SessionLog.credited_minutes), else_=0)).label("mins"))
        .select_from(SessionLog).join(Pair, Pair.id == SessionLog.pair_id)
        .where(Pair.programme_id == pid).group_by(Pair.mentee_id, held_year).subquery()
    )
    stmt = (
        select(u, c, b, per_mentee.c.mins, func.count(), func.sum(per_mentee.c.conf),
               func.sum(per_mentee.c.sub), func.sum(per_mentee.c.disp))
        .select_from(per_mentee).join(person, person.id == per_mentee.c.mentee_id)
        .group_by(u, c, b, per_mentee.c.mins)
    )
    jp_of: dict[int, float] = {}  # the rule's JP of a total, computed once per distinct total
    for unit, city, band, minutes, people, conf, sub, disp in db.session.execute(stmt):
        minutes = int(minutes or 0)
        if minutes not in jp_of:
            jp_of[minutes] = credited_jp(minutes, rule)
        roll.add(unit, city, band, logs_confirmed=conf, logs_submitted=sub, logs_disputed=disp,
                 credited_minutes=minutes * people, jp_credited=jp_of[minutes] * people)

    # 6. feedback ratings by the side that wrote them: per mentee first, then by group
    by_mentor = Feedback.author_id == Pair.mentor_id
    per_mentee = (
        select(Pair.mentee_id.label("mentee_id"),
               func.sum(case((by_mentor, Feedback.rating), else_=0)).label("mr_sum"),
               func.sum(case((by_mentor, 1), else_=0)).label("mr_n"),
               func.sum(case((by_mentor, 0), else_=Feedback.rating)).label("me_sum"),
               func.sum(case((by_mentor, 0), else_=1)).label("me_n"))
        .select_from(Feedback).join(SessionLog, SessionLog.id == Feedback.log_id)
        .join(Pair, Pair.id == SessionLog.pair_id)
        .where(Pair.programme_id == pid).group_by(Pair.mentee_id).subquery()
    )
    stmt = (
        select(u, c, b, *(func.sum(per_mentee.c[n]) for n in ("mr_sum", "mr_n", "me_sum",
                                                               "me_n")))
        .select_from(per_mentee).join(person, person.id == per_mentee.c.mentee_id)
        .group_by(u, c, b)
    )
    for unit, city, band, mr_sum, mr_n, me_sum, me_n in db.session.execute(stmt):
        roll.add(unit, city, band, rating_mentor_sum=mr_sum, rating_mentor_n=mr_n,
                 rating_mentee_sum=me_sum, rating_mentee_n=me_n)

    overall = _finish(roll.overall)
    overall["median_answer_hours"] = medians.get(("all", "*"))
    breakdown = {}
    for dim in DIMENSIONS:
        rows = []
        for label, values in sorted(roll.by[dim].items(), key=_dim_sort(dim)):
            row = {"label": label, **_finish(values)}
            row["median_answer_hours"] = medians.get((dim, label))
            rows.append(row)
        breakdown[dim] = rows
    return {"overall": overall, "by": breakdown, "trend": trend(programme),
            "minutes_per_jp": rule.minutes_per_jp, "rounding": rule.rounding}


def _invitations(pid: int, roll: _Rollup) -> dict[tuple[str, str], float]:
    """Adds the invitation answers to `roll` and returns the median hours from invitation to
    answer, overall ("all", "*") and per ("unit" | "city" | "band", label).

    One pass over the attendees: counted per group key, answer and delay in whole minutes.
    The delays form histograms, which add up across keys, so every group's exact median (to
    the minute; shown in tenths of an hour) comes from grouped rows, never one per invitation."""
    person = aliased(Person)
    dims = (person.unit_id, person.location_id, band_key(person.grade_rank))
    answered = and_(Attendee.answered_at.is_not(None), Attendee.partstat != "NEEDS-ACTION",
                    Attendee.answered_at >= Attendee.invited_at)
    minutes = case((answered, func.round(
        seconds_between(Attendee.answered_at, Attendee.invited_at) / 60.0)))
    # an invitation of a cancelled series (pair declined or ended) waits for nobody: it is
    # no longer "unanswered" (the alert list and the scheduler's chase skip it too)
    state = case((and_(Attendee.partstat == "NEEDS-ACTION", Attendee.series_id.in_(
        select(SessionSeries.id).where(SessionSeries.status != "active"))), "CLOSED"),
        else_=Attendee.partstat)
    stmt = (
        select(*dims, state, minutes, func.count())
        .join(person, person.id == Attendee.person_id)
        .where(Attendee.series_id.in_(_series_of(pid)))
        .group_by(*dims, state, minutes)
    )
    counter = {"ACCEPTED": "invites_accepted", "DECLINED": "invites_declined",
               "TENTATIVE": "invites_tentative", "NEEDS-ACTION": "invites_unanswered"}
    histograms: dict[tuple[str, str], dict[float, int]] = defaultdict(lambda: defaultdict(int))
    targets: dict[tuple[Any, Any, Any], tuple[dict[float, int], ...]] = {}
    for unit_id, location_id, band_id, partstat, delay, n in db.session.execute(stmt):
        if partstat in counter:
            roll.add(unit_id, location_id, band_id, **{counter[partstat]: n})
        if delay is None:
            continue
        key = (unit_id, location_id, band_id)
        into = targets.get(key)
        if into is None:
            unit, city, band = roll.labels(*key)
            into = targets[key] = tuple(histograms[k] for k in (
                ("all", "*"), ("unit", unit), ("city", city), ("band", band)))
        delay = float(delay)
        for histogram in into:
            histogram[delay] += n
    return {key: round(_histogram_median(h) / 60.0, 1) for key, h in histograms.items()}


def _histogram_median(histogram: dict[float, int]) -> float:
    """Median of a value -> count histogram (mean of the two middle values when even)."""
    n = sum(histogram.values())
    lo, hi = (n - 1) // 2, n // 2  # 0-based ranks of the middle value(s)
    seen, low = 0, None
    for value in sorted(histogram):
        seen += histogram[value]
        if low is None and seen > lo:
            low = value
        if seen > hi:
            return (low + value) / 2
    raise ValueError("empty histogram")


def _dim_sort(dim: str):
    if dim == "band":
        order = {b: i for i, b in enumerate(BANDS)}
        return lambda item: order.get(item[0], 99)
    return lambda item: (item[0] == NONE_LABEL, item[0])


TREND_KEYS = ("sessions_planned", "sessions_held", "sessions_missed", "sessions_cancelled",
              "logs_confirmed", "credited_minutes", "credited_hours", "pairs_created")


def trend(programme: Programme) -> list[dict[str, Any]]:
    """Per local calendar month: sessions (same definitions as the dashboard), logs confirmed
    (month held), credited time (hours: JP are rounded per person's total, never per month),
    new pairs."""
    pid = programme.id
    months: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    planned, held, missed, cancelled, _upcoming, _awaiting = session_counts(Session.status)
    names = ("sessions_planned", "sessions_held", "sessions_missed", "sessions_cancelled")
    # grouped by the UTC hour (no time-zone function per session), hours mapped to local months
    zone = local_zone()
    if _dialect() == "postgresql":
        m = func.date_trunc("hour", func.timezone("UTC", Session.start_at))  # naive UTC

        def to_month(hour: Any) -> str:
            return hour.replace(tzinfo=UTC).astimezone(zone).strftime("%Y-%m")
    else:  # the stored UTC text "YYYY-MM-DD HH:MM:SS..." up to the hour
        m = func.substr(Session.start_at, 1, 13)

        def to_month(hour: Any) -> str:
            return datetime.fromisoformat(hour + ":00+00:00").astimezone(zone).strftime("%Y-%m")
    for key, *values in db.session.execute(
        select(m, planned, held, missed, cancelled)
        .where(Session.series_id.in_(_series_of(pid))).group_by(m)
    ):
        bucket = months[to_month(key)]
        for name, value in zip(names, values, strict=True):
            bucket[name] += value or 0
    lm = date_month_expr(SessionLog.held_on)
    for month, n, minutes in db.session.execute(
        select(lm, func.count(SessionLog.id), func.sum(SessionLog.credited_minutes))
        .where(SessionLog.pair_id.in_(_pairs_of(pid)), SessionLog.status == "confirmed")
        .group_by(lm)
    ):
        months[month].update(logs_confirmed=n, credited_minutes=minutes or 0,
                             credited_hours=round((minutes or 0) / 60, 1))
    pm = month_expr(Pair.created_at)
    for month, n in db.session.execute(
        select(pm, func.count(Pair.id)).where(Pair.programme_id == pid).group_by(pm)
    ):
        months[month]["pairs_created"] = n
    return [{"month": month, **{k: (months[month].get(k, 0) if k == "credited_hours"
                                    else int(months[month].get(k, 0))) for k in TREND_KEYS}}
            for month in sorted(k for k in months if k)]


# ---------------------------------------------------------------- evaluations

def evaluation_summary(programme: Programme) -> dict[str, Any]:
    """Average of every numeric (rating) evaluation question per stage (mid / end) and author
    side, and how many evaluations were submitted. Free-text answers are never read here."""
    keys = [q["key"] for q in questions() if q.get("kind", "rating") == "rating"]
    role = case((Evaluation.author_id == Pair.mentor_id, "mentor"), else_="mentee")
    here = (Evaluation.pair_id == Pair.id) & (Pair.programme_id == programme.id)
    counts: dict[tuple[str, str], int] = {
        (stage, side): n for stage, side, n in db.session.execute(
            select(Evaluation.stage, role, func.count(Evaluation.id)).join(Pair, here)
            .group_by(Evaluation.stage, role))}
    averages: dict[tuple[str, str], dict[str, float | None]] = defaultdict(dict)
    if keys:
        stmt = _answer_averages(keys, role, here)
        if _dialect() == "postgresql":  # one row per (stage, side), a column per question
            rows = ((stage, side, key, avg) for stage, side, *avgs in db.session.execute(stmt)
                    for key, avg in zip(keys, avgs, strict=True))
        else:  # one row per (stage, side, question)
            rows = db.session.execute(stmt)
        for stage, side, key, avg in rows:
            averages[(stage, side)][key] = round(float(avg), 2) if avg is not None else None
    rows = [{"key": k, **{f"{stage}_{side}": averages.get((stage, side), {}).get(k)
                          for stage in STAGES for side in ("mentee", "mentor")}} for k in keys]
    return {"rows": rows, "counts": {f"{s}_{r}": counts.get((s, r), 0)
                                     for s in STAGES for r in ("mentee", "mentor")},
            "total": sum(counts.values())}


def _answer_averages(keys: list[str], role: Any, here: Any) -> Any:
    """Averages of the numeric answers, each stored document parsed once: on PostgreSQL cast to
    jsonb once in a materialised CTE, one row per (stage, side) with a column per question; on
    SQLite one json_each per document, one row per (stage, side, question). Only numbers are
    averaged (answers to a question that was once "text" stay out)."""
    if _dialect() == "postgresql":
        docs = (select(Evaluation.stage.label("stage"), role.label("side"),
                       cast(Evaluation.answers, JSONB).label("doc"))
                .select_from(Evaluation).join(Pair, here)
                .cte("evaluation_docs").prefix_with("MATERIALIZED"))
        averages = [func.avg(case((func.jsonb_typeof(docs.c.doc[key]) == "number",
                                   cast(docs.c.doc[key].astext, Float)))) for key in keys]
        return select(docs.c.stage, docs.c.side, *averages).group_by(docs.c.stage, docs.c.side)
    answers = func.json_each(Evaluation.answers).table_valued("key", "value", "type")
    return (select(Evaluation.stage, role, answers.c.key, func.avg(answers.c.value))
            .select_from(Evaluation).join(Pair, here).join(answers, true())
            .where(answers.c.key.in_(keys), answers.c.type.in_(("integer", "real")))
            .group_by(Evaluation.stage, role, answers.c.key))


# ---------------------------------------------------------------- competency progress

def competency_progress(programme: Programme) -> dict[str, Any]:
    """Levels at the start (baseline) vs now per competency for the programme's mentees,
    for the whole programme and per unit. Gap = max(0, required - level)."""
    pid = programme.id
    baseline = func.coalesce(PersonCompetency.baseline_level, PersonCompetency.current_level)
    required = PersonCompetency.required_level
    gap_start = case((required > baseline, required - baseline), else_=0)
    gap_now = case((required > PersonCompetency.current_level,
                    required - PersonCompetency.current_level), else_=0)
    mentees = (select(Participant.person_id)
               .where(Participant.programme_id == pid, Participant.role == "mentee",
                      Participant.active.is_(True)))
    # grouped by integer keys; names are looked up afterwards (a few dozen rows)
    stmt = (
        select(PersonCompetency.competency_id, Person.unit_id, func.count(PersonCompetency.id),
               func.sum(baseline), func.sum(PersonCompetency.current_level), func.sum(gap_start),
               func.sum(gap_now))
        .join(Person, Person.id == PersonCompetency.person_id)
        .where(PersonCompetency.person_id.in_(mentees))
        .group_by(PersonCompetency.competency_id, Person.unit_id)
    )
    competencies = {c.id: c for c in db.session.scalars(select(Competency))}
    units = dict(db.session.execute(select(Unit.id, Unit.name)).all())
    overall: dict[str, dict[str, Any]] = {}
    per_unit: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for comp_id, unit_id, n, s_base, s_now, g_start, g_now in db.session.execute(stmt):
        comp = competencies[comp_id]
        row = {"code": comp.code, "name_id": comp.name_id, "name_en": comp.name_en, "n": int(n),
               "base": int(s_base or 0), "now": int(s_now or 0),
               "gap_start": int(g_start or 0), "gap_now": int(g_now or 0)}
        total = overall.setdefault(comp.code, {**row, "n": 0, "base": 0, "now": 0,
                                               "gap_start": 0, "gap_now": 0})
        for key in ("n", "base", "now", "gap_start", "gap_now"):
            total[key] += row[key]
        per_unit[units.get(unit_id, NONE_LABEL)].append(_progress_row(row))
    rows = [_progress_row(r) for r in sorted(overall.values(), key=lambda r: r["code"])]
    by_unit = {k: sorted(v, key=lambda r: r["code"]) for k, v in sorted(per_unit.items())}
    return {"rows": rows, "units": by_unit}


def _progress_row(r: dict[str, Any]) -> dict[str, Any]:
    n = r["n"]
    return {
        **r,
        "avg_base": round(r["base"] / n, 2) if n else None,
        "avg_now": round(r["now"] / n, 2) if n else None,
        "closure_pct": (round(100.0 * (r["gap_start"] - r["gap_now"]) / r["gap_start"], 1)
                        if r["gap_start"] else None),
    }


# ---------------------------------------------------------------- alerts

@dataclass(frozen=True)
class AlertFilter:
    """Narrows an alert list to the subject's unit and/or city (the mentee of a pair, the
    mentee behind pace, the invitee, the mentor over capacity)."""

    unit_id: int | None = None
    city: str | None = None
    person_ids: frozenset[int] | None = None  # only rows reminding one of these people


@dataclass(frozen=True)
class AlertRow:
    person_ids: tuple[int, ...]  # who a nudge goes to
    cells: dict[str, Any]


@dataclass
class AlertPage:
    rows: list[AlertRow]
    total: int
    page: int
    pages: int
    page_size: int
    extra: dict[str, Any] = field(default_factory=dict)


def _now(now: datetime | None) -> datetime:
    return now or utcnow()  # the module's clock: tests set it to the fixture's "now"


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _local_date(value: datetime) -> str:
    """The date a coordinator reads: in the deployment's zone, not UTC."""
    return _aware(value).astimezone(local_zone()).date().isoformat()


def _filtered(stmt: Select, subject: Any, flt: AlertFilter | None,
              recipients: Iterable[Any]) -> Select:
    if flt is None:
        return stmt
    if flt.unit_id is not None:
        stmt = stmt.where(subject.unit_id == flt.unit_id)
    if flt.city:
        stmt = stmt.where(subject.location_id.in_(
            select(Location.id).where(Location.city == flt.city)))
    if flt.person_ids is not None:
        ids = list(flt.person_ids)
        stmt = stmt.where(or_(*(col.in_(ids) for col in recipients)))
    return stmt


def _last_held() -> Any:
    return (select(SessionSeries.pair_id.label("pair_id"),
                   func.max(Session.start_at).label("last_held"))
            .join(Session, Session.series_id == SessionSeries.id)
            .where(Session.status == "held").group_by(SessionSeries.pair_id).subquery())


def _no_session_stmt(programme: Programme, days: int, now: datetime,
                     flt: AlertFilter | None) -> Select:
    """Active pairs whose last held session (with none: their creation) is older than `days`."""
    last = _last_held()
    mentor, mentee = aliased(Person), aliased(Person)
    since = func.coalesce(last.c.last_held, Pair.created_at)
    stmt = (
        select(Pair.id, Pair.created_at, last.c.last_held, mentor.id, mentor.name,
               mentee.id, mentee.name)
        .join(mentor, mentor.id == Pair.mentor_id).join(mentee, mentee.id == Pair.mentee_id)
        .outerjoin(last, last.c.pair_id == Pair.id)
        .where(Pair.programme_id == programme.id, Pair.status == "active",
               since < now - timedelta(days=days))
        .order_by(since, Pair.id)
    )
    return _filtered(stmt, mentee, flt, (mentee.id, mentor.id))


def _no_session_row(row: Any, now: datetime) -> AlertRow:
    pair_id, created, last_held, mid, mname, eid, ename = row
    since = _aware(last_held or created)
    return AlertRow((eid, mid), {
        "pair_id": pair_id, "mentor": mname, "mentee": ename, "mentor_id": mid,
        "mentee_id": eid,
        "last_held": _local_date(last_held) if last_held else None,
        "days": (now - since).days,
    })


def pace_target_jp(programme: Programme, today: date) -> float:
    """JP a mentee should have by `today`: the yearly target pro rata over the programme's
    run (a programme shorter than a year aims at the full yearly target)."""
    span = max(1, (programme.end_date - programme.start_date).days)
    elapsed = min(max(0, (today - programme.start_date).days), span)
    return yearly_target_jp(programme) * elapsed / span


def _behind_jp_stmt(programme: Programme, days: int, now: datetime,
                    flt: AlertFilter | None, count_only: bool = False) -> Select | None:
    """Matched mentees (active participants with an invited / active / completed pair) whose
    credited minutes are under `pace_tolerance` of the pro-rata target. Unmatched mentees are
    not behind pace: the dashboard shows them as unmatched."""
    expected_jp = pace_target_jp(programme, now.astimezone(local_zone()).date())
    if expected_jp <= 0:
        return None
    # in minutes, so the database compares sums without rounding anything
    bar = expected_jp * jp_rule(programme).minutes_per_jp * report_settings()["pace_tolerance"]
    pid = programme.id
    credited = (select(Pair.mentee_id.label("person_id"),
                       func.sum(SessionLog.credited_minutes).label("minutes"))
                .join(SessionLog, SessionLog.pair_id == Pair.id)
                .where(Pair.programme_id == pid, SessionLog.status == "confirmed")
                .group_by(Pair.mentee_id).subquery())
    minutes = func.coalesce(credited.c.minutes, 0)
    # plain (uncorrelated) subqueries: the database builds each once, never once per mentee
    live = (select(Pair.mentee_id.label("person_id"), func.max(Pair.id).label("pair_id"))
            .where(Pair.programme_id == pid, Pair.status.in_(LIVE_PAIR))
            .group_by(Pair.mentee_id).subquery())
    matched = select(Pair.mentee_id).where(Pair.programme_id == pid,
                                           Pair.status.in_(MATCHED_PAIR))
    where = (Participant.programme_id == pid, Participant.role == "mentee",
             Participant.active.is_(True), Person.id.in_(matched), minutes < bar)
    if count_only:  # the dashboard's count needs neither the log link nor an order
        stmt = (select(Person.id).join(Participant, Participant.person_id == Person.id)
                .outerjoin(credited, credited.c.person_id == Person.id).where(*where))
        return _filtered(stmt, Person, flt, (Person.id,))
    stmt = (
        select(Person.id, Person.name, Person.nip, minutes, live.c.pair_id)
        .join(Participant, Participant.person_id == Person.id)
        .outerjoin(credited, credited.c.person_id == Person.id)
        .outerjoin(live, live.c.person_id == Person.id)
        .where(*where).order_by(minutes, Person.name, Person.id)
    )
    return _filtered(stmt, Person, flt, (Person.id,))


def _behind_jp_row(programme: Programme, now: datetime):
    rule = jp_rule(programme)
    expected = round(pace_target_jp(programme, now.astimezone(local_zone()).date()), 1)
    target = yearly_target_jp(programme)

    @cache
    def programme_jp() -> dict[int, float]:
        """The programme's JP by the one rule (rounded per calendar year, then summed), read
        once for the whole programme the first time a row needs it."""
        return {pid: float(pj.jp)
                for pid, pj in jp.people_jp(None, programme_id=programme.id).items()}

    def jp_of(person_id: int, minutes: float) -> float:
        return programme_jp().get(person_id, credited_jp(minutes, rule))

    def convert(row: Any) -> AlertRow:
        person_id, name, nip, minutes, pair_id = row
        return AlertRow((person_id,), {
            "person": name, "nip": nip, "minutes": int(minutes or 0),
            "jp": jp_of(person_id, minutes or 0),
            "expected_jp": expected, "target_jp": target,
            "pair_id": pair_id})

    return convert


def _unanswered_stmt(programme: Programme, days: int, now: datetime,
                     flt: AlertFilter | None) -> Select:
    """Invitations of live series still unanswered after `[scheduler] chase_after_days`."""
    stmt = (
        select(Attendee.id, Attendee.person_id, Person.name, Attendee.role, Attendee.invited_at,
               Pair.id, SessionSeries.id)
        .join(Person, Person.id == Attendee.person_id)
        .join(SessionSeries, SessionSeries.id == Attendee.series_id)
        .join(Pair, Pair.id == SessionSeries.pair_id)
        .where(Pair.programme_id == programme.id, Attendee.partstat == "NEEDS-ACTION",
               Attendee.invited_at <= now - timedelta(days=chase_after_days()),
               SessionSeries.status == "active", Pair.status.in_(LIVE_PAIR))
        .order_by(Attendee.invited_at, Attendee.id)
    )
    return _filtered(stmt, Person, flt, (Attendee.person_id,))


def _unanswered_row(row: Any, now: datetime) -> AlertRow:
    att_id, person_id, name, role, invited, pair_id, series_id = row
    invited = _aware(invited)
    return AlertRow((person_id,), {"attendee_id": att_id, "person": name, "role": role,
                                   "pair_id": pair_id, "series_id": series_id,
                                   "invited": _local_date(invited),
                                   "days": (now - invited).days})


def _over_capacity_stmt(programme: Programme, days: int, now: datetime,
                        flt: AlertFilter | None) -> Select:
    live = (select(Pair.mentor_id.label("mentor_id"), func.count(Pair.id).label("n"))
            .where(Pair.programme_id == programme.id, Pair.status.in_(LIVE_PAIR))
            .group_by(Pair.mentor_id).subquery())
    capacity = func.coalesce(Participant.capacity, programme.default_capacity)
    stmt = (
        select(Person.id, Person.name, live.c.n, capacity)
        .join(Participant, Participant.person_id == Person.id)
        .join(live, live.c.mentor_id == Person.id)
        .where(Participant.programme_id == programme.id, Participant.role == "mentor",
               live.c.n > capacity)
        .order_by(Person.name, Person.id)
    )
    return _filtered(stmt, Person, flt, (Person.id,))


def _over_capacity_row(row: Any, now: datetime) -> AlertRow:
    person_id, name, n, cap = row
    return AlertRow((person_id,), {"person": name, "pairs": n, "capacity": cap})


def _alert(programme: Programme, kind: str, days: int, now: datetime,
           flt: AlertFilter | None, count_only: bool = False) -> tuple[Select | None, Any]:
    if kind not in ALERT_KINDS:
        raise ValueError(kind)
    if kind == "behind_jp":
        return (_behind_jp_stmt(programme, days, now, flt, count_only),
                _behind_jp_row(programme, now))
    build, convert = {"no_session": (_no_session_stmt, _no_session_row),
                      "unanswered": (_unanswered_stmt, _unanswered_row),
                      "over_capacity": (_over_capacity_stmt, _over_capacity_row)}[kind]
    return build(programme, days, now, flt), (lambda row: convert(row, now))


def alert_rows(programme: Programme, kind: str, *, days: int = 30, now: datetime | None = None,
               flt: AlertFilter | None = None, limit: int | None = None,
               offset: int = 0) -> list[AlertRow]:
    """The rows of one alert list (all of them, or one slice)."""
    stmt, convert = _alert(programme, kind, days, _now(now), flt)
    if stmt is None:
        return []
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset)
    return [convert(row) for row in db.session.execute(stmt)]


def alert_count(programme: Programme, kind: str, *, days: int = 30,
                now: datetime | None = None, flt: AlertFilter | None = None) -> int:
    stmt, _ = _alert(programme, kind, days, _now(now), flt, count_only=True)
    if stmt is None:
        return 0
    return db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))


def alert_page(programme: Programme, kind: str, *, page: int = 1, days: int = 30,
               now: datetime | None = None, flt: AlertFilter | None = None) -> AlertPage:
    size = max(1, report_settings()["page_size"])
    total = alert_count(programme, kind, days=days, now=now, flt=flt)
    pages = max(1, -(-total // size))
    page = min(max(1, page), pages)
    rows = alert_rows(programme, kind, days=days, now=now, flt=flt, limit=size,
                      offset=(page - 1) * size)
    return AlertPage(rows=rows, total=total, page=page, pages=pages, page_size=size)


def alerts_summary(programme: Programme, now: datetime | None = None) -> dict[str, int]:
    """How many rows each alert list has; one count query per list, the no-session lists
    (30 and 45 days) from one pass."""
    now = _now(now)
    last = _last_held()
    since = func.coalesce(last.c.last_held, Pair.created_at)
    n30, n45 = db.session.execute(
        select(func.sum(case((since < now - timedelta(days=30), 1), else_=0)),
               func.sum(case((since < now - timedelta(days=45), 1), else_=0)))
        .select_from(Pair).outerjoin(last, last.c.pair_id == Pair.id)
        .where(Pair.programme_id == programme.id, Pair.status == "active")
    ).one()
    return {
        "no_session_30": int(n30 or 0), "no_session_45": int(n45 or 0),
        "behind_jp": alert_count(programme, "behind_jp", now=now),
        "unanswered": alert_count(programme, "unanswered", now=now),
        "over_capacity": alert_count(programme, "over_capacity", now=now),
    }


def filter_options(programme: Programme) -> dict[str, list[Any]]:
    """Units (id, name) and cities of the programme's participants, for the alert filters."""
    people = select(Participant.person_id).where(Participant.programme_id == programme.id)
    units = db.session.execute(
        select(Unit.id, Unit.name).join(Person, Person.unit_id == Unit.id)
        .where(Person.id.in_(people)).distinct().order_by(Unit.name)).all()
    cities = db.session.scalars(
        select(Location.city).join(Person, Person.location_id == Location.id)
        .where(Person.id.in_(people)).distinct().order_by(Location.city)).all()
    return {"units": [(uid, name) for uid, name in units], "cities": list(cities)}
