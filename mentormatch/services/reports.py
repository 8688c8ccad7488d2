"""Programme reports for coordinators: dashboard numbers, participation alerts, competency progress.

Every figure comes from a handful of aggregate queries grouped by (unit, city, grade band) of the
person the figure is about (the mentee for pair-level figures); the few dozen groups are then
rolled up in Python into overall / by unit / by city / by band. No query returns one row per
session or log, so the cost stays flat as a programme grows. Works on SQLite and PostgreSQL.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import (
    Attendee,
    Competency,
    Feedback,
    Location,
    Pair,
    Participant,
    Person,
    PersonCompetency,
    Programme,
    Session,
    SessionLog,
    SessionSeries,
    Unit,
)
from . import mailer

LIVE_PAIR = ("invited", "active")
MATCHED_PAIR = ("invited", "active", "completed")
BANDS = ("I", "II", "III", "IV")
DIMENSIONS = ("unit", "city", "band")
NONE_LABEL = "—"
ALERT_KINDS = ("no_session", "behind_jp", "unanswered", "over_capacity")
PACE_TOLERANCE = 0.8  # a mentee is behind when credited < 80 % of the pro-rata target


# ---------------------------------------------------------------- helpers

def band_expr(grade_rank: Any) -> Any:
    """Golongan I (ranks 1-4), II (5-8), III (9-12), IV (13-17); PPPK map one-to-one."""
    return case(
        (grade_rank.between(1, 4), literal("I")),
        (grade_rank.between(5, 8), literal("II")),
        (grade_rank.between(9, 12), literal("III")),
        (grade_rank.between(13, 17), literal("IV")),
        else_=literal(NONE_LABEL),
    )


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def month_expr(column: Any) -> Any:
    if _dialect() == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM")
    return func.substr(column, 1, 7)  # SQLite stores ISO text in UTC: "YYYY-MM-..."


def seconds_between(later: Any, earlier: Any) -> Any:
    if _dialect() == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def jp_settings(programme: Programme) -> tuple[int, float]:
    """(minutes per JP, yearly target JP): the configuration overlaid with the programme's rule."""
    conf = dict(current_app.config["MM"].get("jp", {}))
    conf.update(programme.jp_rule or {})
    return int(conf.get("minutes_per_jp") or 45), float(conf.get("yearly_target_jp") or 20)


def _dims(person: Any) -> tuple[Any, Any, Any, list[Any]]:
    """Group keys of an aliased Person: raw (unit_id, location_id, grade_rank) integers.
    Grouping by integers (no joins to unit / location, no string work per row) keeps the
    queries cheap; `_Rollup` turns the few keys into names and grade bands."""
    return person.unit_id, person.location_id, person.grade_rank, []


def _with_dims(stmt: Any, joins: list[Any]) -> Any:
    for target, onclause in joins:
        stmt = stmt.outerjoin(target, onclause)
    return stmt


def band_of(grade_rank: int | None) -> str:
    if grade_rank is None:
        return NONE_LABEL
    for band, top in zip(BANDS, (4, 8, 12, 17), strict=True):
        if 1 <= grade_rank <= top:
            return band
    return NONE_LABEL


class _Rollup:
    """Sums counters per group key into overall and per-dimension buckets."""

    def __init__(self) -> None:
        self.units = dict(db.session.execute(select(Unit.id, Unit.name)).all())
        self.cities = dict(db.session.execute(select(Location.id, Location.city)).all())
        self.overall: dict[str, float] = defaultdict(float)
        self._buckets: dict[tuple[Any, Any, Any], tuple[dict[str, float], ...]] = {}
        self.by: dict[str, dict[str, dict[str, float]]] = {
            d: defaultdict(lambda: defaultdict(float)) for d in DIMENSIONS
        }

    def add(self, unit_id: int | None, location_id: int | None, grade_rank: int | None,
            **values: float) -> None:
        buckets = self._buckets.get((unit_id, location_id, grade_rank))
        if buckets is None:
            buckets = self._buckets[(unit_id, location_id, grade_rank)] = (
                self.overall, self.by["unit"][self.units.get(unit_id, NONE_LABEL)],
                self.by["city"][self.cities.get(location_id, NONE_LABEL)],
                self.by["band"][band_of(grade_rank)])
        for key, value in values.items():
            if value:
                value = float(value)
                for bucket in buckets:
                    bucket[key] += value


def _pct(part: float, whole: float) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _avg(total: float, count: float) -> float | None:
    return round(total / count, 2) if count else None


def _finish(v: dict[str, float], minutes_per_jp: int) -> dict[str, Any]:
    """Derived figures of one bucket (overall, or one unit / city / band)."""
    out: dict[str, Any] = {k: int(v[k]) if float(v[k]).is_integer() else v[k] for k in v}
    for key in ("mentors", "mentees", "matched", "pairs", "invites_accepted", "invites_declined",
                "invites_unanswered", "sessions_planned", "sessions_held", "sessions_missed",
                "sessions_cancelled", "sessions_scheduled", "logs_confirmed", "logs_submitted",
                "logs_disputed", "credited_minutes"):
        out.setdefault(key, 0)
    out["participants"] = out["mentors"] + out["mentees"]
    out["matched_pct"] = _pct(v.get("matched", 0), v.get("mentees", 0))
    answered = v.get("invites_accepted", 0) + v.get("invites_declined", 0)
    out["acceptance_pct"] = _pct(v.get("invites_accepted", 0), answered)
    due = v.get("sessions_held", 0) + v.get("sessions_missed", 0)
    out["held_pct"] = _pct(v.get("sessions_held", 0), due)
    out["jp_credited"] = round(v.get("credited_minutes", 0) / minutes_per_jp, 2)
    out["rating_mentee"] = _avg(v.get("rating_mentee_sum", 0), v.get("rating_mentee_n", 0))
    out["rating_mentor"] = _avg(v.get("rating_mentor_sum", 0), v.get("rating_mentor_n", 0))
    out["rating_all"] = _avg(v.get("rating_mentee_sum", 0) + v.get("rating_mentor_sum", 0),
                             v.get("rating_mentee_n", 0) + v.get("rating_mentor_n", 0))
    return out


# ---------------------------------------------------------------- dashboard

def dashboard(programme: Programme, now: datetime | None = None) -> dict[str, Any]:
    """All dashboard figures of a programme: overall, by unit / city / band, and by month."""
    pid = programme.id
    minutes_per_jp, _target = jp_settings(programme)
    roll = _Rollup()

    # 1. participants by role
    person = aliased(Person)
    u, c, b, joins = _dims(person)
    stmt = _with_dims(
        select(Participant.role, u, c, b, func.count(func.distinct(Participant.person_id)))
        .join(person, person.id == Participant.person_id)
        .where(Participant.programme_id == pid, Participant.active.is_(True)), joins,
    ).group_by(Participant.role, u, c, b)
    for role, unit, city, band, n in db.session.execute(stmt):
        roll.add(unit, city, band, **{f"{role}s": n})

    # 2. pairs by status and matched mentees (attributed to the mentee)
    mentee = aliased(Person)
    u, c, b, joins = _dims(mentee)
    stmt = _with_dims(
        select(u, c, b, func.count(Pair.id),
               func.count(func.distinct(case((Pair.status.in_(MATCHED_PAIR), Pair.mentee_id)))),
               func.sum(case((Pair.status == "active", 1), else_=0)))
        .join(mentee, mentee.id == Pair.mentee_id)
        .where(Pair.programme_id == pid), joins,
    ).group_by(u, c, b)
    for unit, city, band, pairs, matched, active in db.session.execute(stmt):
        roll.add(unit, city, band, pairs=pairs, matched=matched, pairs_active=active)

    # 3. invitations (attendee answers), attributed to the attendee
    who = aliased(Person)
    u, c, b, joins = _dims(who)
    pending = Attendee.partstat == "NEEDS-ACTION"
    stmt = _with_dims(
        select(u, c, b,
               func.sum(case((Attendee.partstat == "ACCEPTED", 1), else_=0)),
               func.sum(case((Attendee.partstat == "DECLINED", 1), else_=0)),
               func.sum(case((pending, 1), else_=0)),
               func.sum(case((Attendee.partstat == "TENTATIVE", 1), else_=0)))
        .join(SessionSeries, SessionSeries.id == Attendee.series_id)
        .join(Pair, Pair.id == SessionSeries.pair_id)
        .join(who, who.id == Attendee.person_id)
        .where(Pair.programme_id == pid), joins,
    ).group_by(u, c, b)
    for unit, city, band, acc, dec, una, tent in db.session.execute(stmt):
        roll.add(unit, city, band, invites_accepted=acc, invites_declined=dec,
                 invites_unanswered=una, invites_tentative=tent)

    # median time to answer: count, then the middle row(s) of the sorted delays (no row loop)
    delay = seconds_between(Attendee.answered_at, Attendee.invited_at)
    answered = (
        select(delay.label("delay")).join(SessionSeries, SessionSeries.id == Attendee.series_id)
        .join(Pair, Pair.id == SessionSeries.pair_id)
        .where(Pair.programme_id == pid, Attendee.answered_at.is_not(None),
               Attendee.partstat != "NEEDS-ACTION", Attendee.answered_at >= Attendee.invited_at)
    ).subquery()
    n_answered = db.session.scalar(select(func.count()).select_from(answered)) or 0
    median_hours = None
    if n_answered:
        middle = db.session.scalars(
            select(answered.c.delay).order_by(answered.c.delay)
            .limit(2 - n_answered % 2).offset((n_answered - 1) // 2)
        ).all()
        median_hours = round(statistics.fmean(float(v) for v in middle) / 3600.0, 1)

    # 4. sessions by status: counted per series (index on session.series_id), then by mentee
    st = Session.status
    series_ids = (select(SessionSeries.id).join(Pair, Pair.id == SessionSeries.pair_id)
                  .where(Pair.programme_id == pid))
    per_series = (
        select(Session.series_id.label("series_id"), func.count(Session.id).label("total"),
               func.sum(case((st == "held", 1), else_=0)).label("held"),
               func.sum(case((st.in_(("missed", "not_held")), 1), else_=0)).label("missed"),
               func.sum(case((st == "cancelled", 1), else_=0)).label("cancelled"),
               func.sum(case((st == "scheduled", 1), else_=0)).label("scheduled"))
        .where(Session.series_id.in_(series_ids)).group_by(Session.series_id).subquery()
    )
    u, c, b, joins = _dims(mentee)
    stmt = (
        select(u, c, b, func.sum(per_series.c.total), func.sum(per_series.c.held),
               func.sum(per_series.c.missed), func.sum(per_series.c.cancelled),
               func.sum(per_series.c.scheduled))
        .select_from(per_series)
        .join(SessionSeries, SessionSeries.id == per_series.c.series_id)
        .join(Pair, Pair.id == SessionSeries.pair_id)
        .join(mentee, mentee.id == Pair.mentee_id)
    ).group_by(u, c, b)
    for unit, city, band, total, held, missed, cancelled, scheduled in db.session.execute(stmt):
        roll.add(unit, city, band, sessions_planned=total, sessions_held=held,
                 sessions_missed=missed, sessions_cancelled=cancelled,
                 sessions_scheduled=scheduled)

    # 5. logs and credited minutes: per pair (index on session_log.pair_id), then by mentee
    confirmed = SessionLog.status == "confirmed"
    pair_ids = select(Pair.id).where(Pair.programme_id == pid)
    per_pair = (
        select(SessionLog.pair_id.label("pair_id"),
               func.sum(case((confirmed, 1), else_=0)).label("conf"),
               func.sum(case((SessionLog.status == "submitted", 1), else_=0)).label("sub"),
               func.sum(case((SessionLog.status == "disputed", 1), else_=0)).label("disp"),
               func.sum(case((confirmed, SessionLog.credited_minutes), else_=0)).label("mins"))
        .where(SessionLog.pair_id.in_(pair_ids)).group_by(SessionLog.pair_id).subquery()
    )
    u, c, b, joins = _dims(mentee)
    stmt = (
        select(u, c, b, func.sum(per_pair.c.conf), func.sum(per_pair.c.sub),
               func.sum(per_pair.c.disp), func.sum(per_pair.c.mins))
        .select_from(per_pair)
        .join(Pair, Pair.id == per_pair.c.pair_id)
        .join(mentee, mentee.id == Pair.mentee_id)
    ).group_by(u, c, b)
    for unit, city, band, conf, sub, disp, minutes in db.session.execute(stmt):
        roll.add(unit, city, band, logs_confirmed=conf, logs_submitted=sub, logs_disputed=disp,
                 credited_minutes=minutes)

    # 6. feedback ratings by the side that wrote them
    u, c, b, joins = _dims(mentee)
    by_mentor = Feedback.author_id == Pair.mentor_id
    stmt = _with_dims(
        select(u, c, b,
               func.sum(case((by_mentor, Feedback.rating), else_=0)),
               func.sum(case((by_mentor, 1), else_=0)),
               func.sum(case((by_mentor, 0), else_=Feedback.rating)),
               func.sum(case((by_mentor, 0), else_=1)))
        .join(SessionLog, SessionLog.id == Feedback.log_id)
        .join(Pair, Pair.id == SessionLog.pair_id)
        .join(mentee, mentee.id == Pair.mentee_id)
        .where(Pair.programme_id == pid), joins,
    ).group_by(u, c, b)
    for unit, city, band, mr_sum, mr_n, me_sum, me_n in db.session.execute(stmt):
        roll.add(unit, city, band, rating_mentor_sum=mr_sum, rating_mentor_n=mr_n,
                 rating_mentee_sum=me_sum, rating_mentee_n=me_n)

    overall = _finish(roll.overall, minutes_per_jp)
    overall["median_answer_hours"] = median_hours
    breakdown = {
        dim: [{"label": label, **_finish(values, minutes_per_jp)}
              for label, values in sorted(roll.by[dim].items(), key=_dim_sort(dim))]
        for dim in DIMENSIONS
    }
    return {"overall": overall, "by": breakdown, "trend": trend(programme),
            "minutes_per_jp": minutes_per_jp}


def _dim_sort(dim: str):
    if dim == "band":
        order = {b: i for i, b in enumerate(BANDS)}
        return lambda item: order.get(item[0], 99)
    return lambda item: (item[0] == NONE_LABEL, item[0])


def trend(programme: Programme) -> list[dict[str, Any]]:
    """Per calendar month (UTC): sessions planned / held / missed, logs confirmed, JP, new pairs."""
    pid = programme.id
    minutes_per_jp, _ = jp_settings(programme)
    months: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    m = month_expr(Session.start_at)
    st = Session.status
    for month, total, held, missed in db.session.execute(
        select(m, func.count(Session.id), func.sum(case((st == "held", 1), else_=0)),
               func.sum(case((st.in_(("missed", "not_held")), 1), else_=0)))
        .where(Session.series_id.in_(
            select(SessionSeries.id).join(Pair, Pair.id == SessionSeries.pair_id)
            .where(Pair.programme_id == pid)), st != "cancelled").group_by(m)
    ):
        months[month].update(sessions_planned=total, sessions_held=held or 0,
                             sessions_missed=missed or 0)
    if _dialect() == "postgresql":
        lm = func.to_char(SessionLog.held_on, "YYYY-MM")
    else:
        lm = func.substr(SessionLog.held_on, 1, 7)
    for month, n, minutes in db.session.execute(
        select(lm, func.count(SessionLog.id), func.sum(SessionLog.credited_minutes))
        .where(SessionLog.pair_id.in_(select(Pair.id).where(Pair.programme_id == pid)),
               SessionLog.status == "confirmed").group_by(lm)
    ):
        months[month].update(logs_confirmed=n, jp_credited=round((minutes or 0) / minutes_per_jp,
                                                                  2))
    pm = month_expr(Pair.created_at)
    for month, n in db.session.execute(
        select(pm, func.count(Pair.id)).where(Pair.programme_id == pid).group_by(pm)
    ):
        months[month]["pairs_created"] = n
    keys = ("sessions_planned", "sessions_held", "sessions_missed", "logs_confirmed",
            "jp_credited", "pairs_created")
    return [{"month": month, **{k: months[month].get(k, 0) for k in keys}}
            for month in sorted(k for k in months if k)]


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
    unit_name = func.coalesce(Unit.name, NONE_LABEL)
    mentees = (select(Participant.person_id)
               .where(Participant.programme_id == pid, Participant.role == "mentee",
                      Participant.active.is_(True)).distinct().scalar_subquery())
    stmt = (
        select(Competency.code, Competency.name_id, Competency.name_en, unit_name,
               func.count(PersonCompetency.id), func.sum(baseline),
               func.sum(PersonCompetency.current_level), func.sum(gap_start), func.sum(gap_now))
        .join(Competency, Competency.id == PersonCompetency.competency_id)
        .join(Person, Person.id == PersonCompetency.person_id)
        .outerjoin(Unit, Unit.id == Person.unit_id)
        .where(PersonCompetency.person_id.in_(mentees))
        .group_by(Competency.code, Competency.name_id, Competency.name_en, unit_name)
    )
    overall: dict[str, dict[str, Any]] = {}
    per_unit: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for code, name_id, name_en, unit, n, s_base, s_now, g_start, g_now in db.session.execute(stmt):
        row = overall.setdefault(code, {"code": code, "name_id": name_id, "name_en": name_en,
                                        "n": 0, "base": 0, "now": 0, "gap_start": 0,
                                        "gap_now": 0})
        for key, val in (("n", n), ("base", s_base), ("now", s_now), ("gap_start", g_start),
                         ("gap_now", g_now)):
            row[key] += int(val or 0)
        per_unit[unit].append(_progress_row({"code": code, "name_id": name_id,
                                             "name_en": name_en, "n": int(n),
                                             "base": int(s_base or 0), "now": int(s_now or 0),
                                             "gap_start": int(g_start or 0),
                                             "gap_now": int(g_now or 0)}))
    rows = [_progress_row(r) for r in sorted(overall.values(), key=lambda r: r["code"])]
    units = {k: sorted(v, key=lambda r: r["code"]) for k, v in sorted(per_unit.items())}
    return {"rows": rows, "units": units}


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
class AlertRow:
    person_ids: tuple[int, ...]  # who a nudge goes to
    cells: dict[str, Any]


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def alerts_summary(programme: Programme, now: datetime | None = None) -> dict[str, int]:
    return {
        "no_session_30": len(alert_rows(programme, "no_session", days=30, now=now)),
        "no_session_45": len(alert_rows(programme, "no_session", days=45, now=now)),
        "behind_jp": len(alert_rows(programme, "behind_jp", now=now)),
        "unanswered": len(alert_rows(programme, "unanswered", now=now)),
        "over_capacity": len(alert_rows(programme, "over_capacity", now=now)),
    }


def alert_rows(programme: Programme, kind: str, *, days: int = 30,
               now: datetime | None = None) -> list[AlertRow]:
    if kind not in ALERT_KINDS:
        raise ValueError(kind)
    return {"no_session": _no_session, "behind_jp": _behind_jp, "unanswered": _unanswered,
            "over_capacity": _over_capacity}[kind](programme, days, _now(now))


def _no_session(programme: Programme, days: int, now: datetime) -> list[AlertRow]:
    """Active pairs whose last held session (or, with none, their start) is older than `days`."""
    last = (select(SessionSeries.pair_id.label("pair_id"),
                   func.max(Session.start_at).label("last_held"))
            .join(Session, Session.series_id == SessionSeries.id)
            .where(Session.status == "held").group_by(SessionSeries.pair_id).subquery())
    mentor, mentee = aliased(Person), aliased(Person)
    cutoff = now - timedelta(days=days)
    stmt = (
        select(Pair.id, Pair.created_at, last.c.last_held, mentor.id, mentor.name,
               mentee.id, mentee.name)
        .join(mentor, mentor.id == Pair.mentor_id).join(mentee, mentee.id == Pair.mentee_id)
        .outerjoin(last, last.c.pair_id == Pair.id)
        .where(Pair.programme_id == programme.id, Pair.status == "active",
               or_(last.c.last_held < cutoff,
                   and_(last.c.last_held.is_(None), Pair.created_at < cutoff)))
        .order_by(Pair.id)
    )
    rows = []
    for pair_id, created, last_held, mid, mname, eid, ename in db.session.execute(stmt):
        since = _aware(last_held or created)
        rows.append(AlertRow((eid, mid), {
            "pair_id": pair_id, "mentor": mname, "mentee": ename,
            "last_held": _aware(last_held).date().isoformat() if last_held else None,
            "days": (now - since).days,
        }))
    return rows


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def pace_target_minutes(programme: Programme, today: date) -> float:
    """Minutes a mentee should have credited by `today`: the yearly target pro rata over
    the programme's run (a programme shorter than a year aims at the full yearly target)."""
    minutes_per_jp, target_jp = jp_settings(programme)
    span = max(1, (programme.end_date - programme.start_date).days)
    elapsed = min(max(0, (today - programme.start_date).days), span)
    return target_jp * minutes_per_jp * elapsed / span


def _behind_jp(programme: Programme, days: int, now: datetime) -> list[AlertRow]:
    minutes_per_jp, target_jp = jp_settings(programme)
    expected = pace_target_minutes(programme, now.date())
    if expected <= 0:
        return []
    credited = (select(Pair.mentee_id.label("person_id"),
                       func.sum(SessionLog.credited_minutes).label("minutes"))
                .join(SessionLog, SessionLog.pair_id == Pair.id)
                .where(Pair.programme_id == programme.id, SessionLog.status == "confirmed")
                .group_by(Pair.mentee_id).subquery())
    minutes = func.coalesce(credited.c.minutes, 0)
    stmt = (
        select(Person.id, Person.name, Person.nip, minutes)
        .join(Participant, Participant.person_id == Person.id)
        .outerjoin(credited, credited.c.person_id == Person.id)
        .where(Participant.programme_id == programme.id, Participant.role == "mentee",
               Participant.active.is_(True), minutes < expected * PACE_TOLERANCE)
        .order_by(minutes, Person.name)
    )
    return [AlertRow((pid_,), {"person": name, "nip": nip,
                               "jp": round(m / minutes_per_jp, 2),
                               "expected_jp": round(expected / minutes_per_jp, 2),
                               "target_jp": target_jp})
            for pid_, name, nip, m in db.session.execute(stmt)]


def _unanswered(programme: Programme, days: int, now: datetime) -> list[AlertRow]:
    stmt = (
        select(Attendee.person_id, Person.name, Attendee.role, Attendee.invited_at, Pair.id)
        .join(Person, Person.id == Attendee.person_id)
        .join(SessionSeries, SessionSeries.id == Attendee.series_id)
        .join(Pair, Pair.id == SessionSeries.pair_id)
        .where(Pair.programme_id == programme.id, Attendee.partstat == "NEEDS-ACTION",
               SessionSeries.status == "active", Pair.status.in_(LIVE_PAIR))
        .order_by(Attendee.invited_at)
    )
    return [AlertRow((person_id,), {"person": name, "role": role, "pair_id": pair_id,
                                    "invited": _aware(invited).date().isoformat(),
                                    "days": (now - _aware(invited)).days})
            for person_id, name, role, invited, pair_id in db.session.execute(stmt)]


def _over_capacity(programme: Programme, days: int, now: datetime) -> list[AlertRow]:
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
        .order_by(Person.name)
    )
    return [AlertRow((pid_,), {"person": name, "pairs": n, "capacity": cap})
            for pid_, name, n, cap in db.session.execute(stmt)]


def nudge(programme: Programme, kind: str, person_id: int, *, now: datetime | None = None,
          days: int = 30) -> bool:
    """Queue one reminder e-mail to a person on the `kind` list. At most one per person, kind
    and day (dedupe key). Returns False when the person is not on the list (nothing queued)."""
    rows = alert_rows(programme, kind, days=days, now=now)
    row = next((r for r in rows if person_id in r.person_ids), None)
    if row is None:
        return False
    person = db.session.get(Person, person_id)
    day = _now(now).date().isoformat()
    key = f"report-nudge:{programme.id}:{kind}:{person_id}:{day}"
    locale = person.locale if person.locale in ("id", "en") else "id"
    from flask_babel import force_locale

    context = {"person": person, "programme": programme, "kind": kind, "row": row.cells,
               "base_url": current_app.config["MM"]["app"].get("base_url", ""), "locale": locale}
    with force_locale(locale):
        # rendered without a request (the scheduler or a test may call this)
        env = current_app.jinja_env
        text = env.get_template("reports/nudge_email.txt").render(**context)
        html = env.get_template("reports/nudge_email.html").render(**context)
    subject, _, body = text.partition("\n")
    msg = mailer.build_message(person.email, subject.removeprefix("Subject:").strip(),
                               body.lstrip("\n"), html)
    mailer.enqueue(msg, kind="report_nudge", dedupe_key=key)
    return True
