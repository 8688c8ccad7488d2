"""The dashboard: every figure of a programme overall, by unit / city / grade band, and by month."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, case, extract, func, select
from sqlalchemy.orm import aliased

from ...extensions import db
from ...models import (
    Attendee,
    Feedback,
    Location,
    Pair,
    Participant,
    Person,
    Programme,
    Session,
    SessionLog,
    SessionSeries,
    Unit,
)
from .common import (
    BANDS,
    DIMENSIONS,
    MATCHED_PAIR,
    NONE_LABEL,
    band_key,
    band_label,
    credited_jp,
    date_month_expr,
    dialect,
    jp_rule,
    local_zone,
    month_expr,
    pairs_of,
    seconds_between,
    series_of,
    session_counts,
)


class _Rollup:
    """Sums counters per group key into overall and per-dimension buckets."""

    def __init__(self) -> None:
        self.units: dict[int | None, str] = {
            k: v for k, v in db.session.execute(select(Unit.id, Unit.name))}
        self.cities: dict[int | None, str] = {
            k: v for k, v in db.session.execute(select(Location.id, Location.city))}
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
            unit, city, band_name = self.labels(*key)
            buckets = self._buckets[key] = (self.overall, self.by["unit"][unit],
                                            self.by["city"][city], self.by["band"][band_name])
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
        .where(Session.series_id.in_(series_of(pid))).group_by(Session.series_id).subquery()
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
        .where(Attendee.series_id.in_(series_of(pid)))
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
    seen, low = 0, 0.0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen - histogram[value] <= lo < seen:
            low = value
        if seen > hi:
            return (low + value) / 2
    raise ValueError("empty histogram")


def _dim_sort(dim: str) -> Callable[[tuple[str, Any]], Any]:
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
    if dialect() == "postgresql":
        m = func.date_trunc("hour", func.timezone("UTC", Session.start_at))  # naive UTC

        def to_month(hour: Any) -> str:
            return str(hour.replace(tzinfo=UTC).astimezone(zone).strftime("%Y-%m"))
    else:  # the stored UTC text "YYYY-MM-DD HH:MM:SS..." up to the hour
        m = func.substr(Session.start_at, 1, 13)

        def to_month(hour: Any) -> str:
            return datetime.fromisoformat(hour + ":00+00:00").astimezone(zone).strftime("%Y-%m")
    for key, *values in db.session.execute(
        select(m, planned, held, missed, cancelled)
        .where(Session.series_id.in_(series_of(pid))).group_by(m)
    ):
        bucket = months[to_month(key)]
        for name, value in zip(names, values, strict=True):
            bucket[name] += value or 0
    lm = date_month_expr(SessionLog.held_on)
    for month, n, minutes in db.session.execute(
        select(lm, func.count(SessionLog.id), func.sum(SessionLog.credited_minutes))
        .where(SessionLog.pair_id.in_(pairs_of(pid)), SessionLog.status == "confirmed")
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
