"""Programmes: create/edit (the creator coordinates it), participants chosen by filters,
mentee preferences, a mentor's withdrawal."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVarTuple, cast

from flask_babel import lazy_gettext as _l
from sqlalchemy import CursorResult, Exists, Select, exists, func, select
from sqlalchemy import update as sql_update

from ..extensions import db
from ..models import (
    Actor,
    Competency,
    Location,
    MentorPreference,
    Pair,
    Participant,
    Person,
    PersonCompetency,
    Programme,
    ProgrammeCoordinator,
    Round,
    RoundStatus,
    SessionSeries,
    User,
)
from ..models.base import utcnow
from ..models.person import PERSON_KINDS
from ..settings import settings
from . import audit, invites, mailer
from .errors import ServiceError

MODE_POLICIES = ("online", "in_person", "either")
FIELDS = ("name", "unit_id", "start_date", "end_date", "session_minutes", "interval_weeks",
          "session_count", "mode_policy", "default_capacity", "preferences_enabled")
# Changing one of these changes what a solve would return: solved rounds become stale.
SOLVE_INPUTS = {"session_minutes", "mode_policy", "default_capacity", "preferences_enabled"}
ROUNDINGS = ("floor", "nearest", "half")
# Hard rules a programme may let coordinators override for a hand-set pair.
OVERRIDE_CANDIDATES = ("grade", "supervisor", "no_repeat", "same_city_in_person", "mode")
LIVE = Pair.LIVE_STATES
OPEN_ROUND = tuple(s for s in RoundStatus if s != RoundStatus.APPROVED)


class ProgrammeError(ServiceError):
    """A user-caused problem: ``code`` names it, ``message`` is lazily translated (rendered in
    the reader's language when the view flashes ``str(exc)``)."""

    def __init__(self, code: str, message: Any, *, field: str | None = None) -> None:
        super().__init__(code, message, field=field)
        self.message = message

    def __str__(self) -> str:
        return str(self.message)


def _labels() -> dict[str, Any]:
    return {"session_minutes": _l("Session length (minutes)"),
            "interval_weeks": _l("Every how many weeks"),
            "session_count": _l("Number of sessions"),
            "default_capacity": _l("Mentees per mentor (default)"),
            "minutes_per_jp": _l("Minutes per JP"),
            "max_minutes_per_session": _l("Maximum credited minutes per session")}


def defaults() -> dict[str, Any]:
    """Form defaults: [programme], the JP rule of [jp] and the override policy of [rounds]."""
    out = settings().programme.model_dump()
    out["jp_rule"] = default_jp_rule()
    out["override_policy"] = override_policy(None)
    return out


def default_jp_rule() -> dict[str, Any]:
    jp = settings().jp
    return {"minutes_per_jp": jp.minutes_per_jp, "rounding": jp.rounding,
            "max_minutes_per_session": jp.max_minutes_per_session}


def jp_rule_of(prog: Programme) -> dict[str, Any]:
    return {**default_jp_rule(), **(prog.jp_rule or {})}


def override_policy(prog: Programme | None) -> dict[str, Any]:
    """{'overridable': [rule, ...], 'capacity_override': bool}: the programme's own policy,
    else config [rounds]."""
    cfg = settings().rounds
    base = {"overridable": [r for r in cfg.overridable_rules if r in OVERRIDE_CANDIDATES],
            "capacity_override": cfg.capacity_override}
    own = (prog.override_policy if prog is not None else None) or {}
    return {**base, **{k: v for k, v in own.items() if k in base}}


def _int_in(values: dict[str, Any], key: str, lo: int, hi: int) -> int:
    try:
        value = int(values[key])
    except (KeyError, TypeError, ValueError):
        value = lo - 1
    if not lo <= value <= hi:
        raise ProgrammeError("out_of_range", _l(
            "%(field)s must be between %(lo)d and %(hi)d.", field=_labels()[key], lo=lo, hi=hi),
            field=key)
    return value


def check_jp_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """The JP credit rule as stored (minutes per JP, rounding, per-session cap; 0 = no cap)."""
    out: dict[str, Any] = {"minutes_per_jp": _int_in(rule, "minutes_per_jp", 1, 480),
           "max_minutes_per_session": _int_in(rule, "max_minutes_per_session", 0, 1440)}
    rounding = str(rule.get("rounding", ""))
    if rounding not in ROUNDINGS:
        raise ProgrammeError("rounding", _l("Choose how JP are rounded."), field="rounding")
    out["rounding"] = rounding
    return out


def check_override_policy(policy: dict[str, Any]) -> dict[str, Any]:
    rules = [r for r in policy.get("overridable", []) if r in OVERRIDE_CANDIDATES]
    return {"overridable": sorted(set(rules)),
            "capacity_override": bool(policy.get("capacity_override"))}


def _check(values: dict[str, Any]) -> None:
    if not (values.get("name") or "").strip():
        raise ProgrammeError("name_required", _l("A programme needs a name."), field="name")
    if re.search(r"[\x00-\x1f\x7f\u2028\u2029]", str(values["name"])):
        raise ProgrammeError("name_control", _l("A name cannot contain line breaks or control "
                                                "characters."), field="name")
    if values["end_date"] < values["start_date"]:
        raise ProgrammeError("period", _l("The period ends before it starts."), field="end_date")
    if values.get("mode_policy") not in MODE_POLICIES:
        raise ProgrammeError("mode_policy", _l("Choose how sessions take place."),
                             field="mode_policy")
    for key, lo, hi in (("session_minutes", 15, 480), ("interval_weeks", 1, 8),
                        ("session_count", 1, 52), ("default_capacity", 1, 20)):
        values[key] = _int_in(values, key, lo, hi)


def _extras(values: dict[str, Any]) -> dict[str, Any]:
    out = {}
    if "jp_rule" in values:
        out["jp_rule"] = check_jp_rule(values["jp_rule"] or {})
    if "override_policy" in values:
        out["override_policy"] = check_override_policy(values["override_policy"] or {})
    return out


def create(actor: User, **values: Any) -> Programme:
    values = {**settings().programme.model_dump(), **values}
    _check(values)
    extras = _extras(values)
    prog = Programme(**{k: values.get(k) for k in FIELDS},
                     jp_rule=extras.get("jp_rule", default_jp_rule()),
                     override_policy=extras.get("override_policy"))
    prog.name = prog.name.strip()
    db.session.add(prog)
    db.session.flush()
    db.session.add(ProgrammeCoordinator(programme_id=prog.id, user_id=actor.id))
    audit.record(actor, "programme.create", prog, programme_id=prog.id, name=prog.name)
    db.session.flush()
    return prog


def update(prog: Programme, actor: Actor, **values: Any) -> Programme:
    merged = {k: getattr(prog, k) for k in FIELDS} | values
    _check(merged)
    extras = _extras(values)
    changed = sorted(k for k in FIELDS if merged[k] != getattr(prog, k))
    for k in FIELDS:
        setattr(prog, k, merged[k])
    for k, v in extras.items():
        if v != getattr(prog, k):
            changed.append(k)
        setattr(prog, k, v)
    if SOLVE_INPUTS & set(changed):
        mark_stale(prog.id)
    audit.record(actor, "programme.update", prog, programme_id=prog.id, fields=changed)
    db.session.flush()
    return prog


def mark_stale(programme_id: int) -> int:
    """Solved rounds of the programme no longer reflect their inputs: approving needs a
    re-solve. One UPDATE (no read-then-write race with a solve finishing)."""
    result = db.session.execute(
        sql_update(Round).where(Round.programme_id == programme_id, Round.status == "solved")
        .values(status="stale").execution_options(synchronize_session="fetch"))
    return cast("CursorResult[Any]", result).rowcount


def for_user(user: Any, limit: int | None = None) -> list[Programme]:
    q = select(Programme).order_by(Programme.start_date.desc(), Programme.id.desc()).limit(limit)
    if not user.has_role("admin"):
        q = q.join(ProgrammeCoordinator).where(ProgrammeCoordinator.user_id == user.id)
    return list(db.session.scalars(q).unique())


@dataclass
class Filters:
    unit_id: int | None = None
    city: str = ""
    grade_min: int | None = None
    grade_max: int | None = None
    gap_in: str = ""  # competency code
    not_matched: bool = False
    kind: str = ""  # pns | pppk | external ("" = all): external mentors have no grade

    @classmethod
    def from_dict(cls, d: Any) -> Filters:
        d = d or {}

        def num(k: str) -> int | None:
            v = d.get(k)
            return int(v) if v not in (None, "") and str(v).isdigit() else None

        return cls(unit_id=num("unit_id"), city=str(d.get("city") or "")[:100],
                   grade_min=num("grade_min"), grade_max=num("grade_max"),
                   gap_in=str(d.get("gap_in") or "")[:20],
                   not_matched=str(d.get("not_matched", "")).lower() in ("1", "true", "on", "y"),
                   kind=k if (k := str(d.get("kind") or "")) in PERSON_KINDS else "")

    def to_dict(self) -> dict[str, Any]:
        return {"unit_id": self.unit_id, "city": self.city, "grade_min": self.grade_min,
                "grade_max": self.grade_max, "gap_in": self.gap_in,
                "not_matched": self.not_matched, "kind": self.kind}


Row = TypeVarTuple("Row")


def apply_filters(q: Select[*Row], f: Filters, programme_id: int) -> Select[*Row]:
    if f.unit_id:
        q = q.where(Person.unit_id == f.unit_id)
    if f.city:
        q = q.where(Person.location_id.in_(select(Location.id).where(Location.city == f.city)))
    if f.grade_min:
        q = q.where(Person.grade_rank >= f.grade_min)
    if f.grade_max:
        q = q.where(Person.grade_rank <= f.grade_max)
    if f.gap_in:
        q = q.where(exists().where(
            PersonCompetency.person_id == Person.id,
            PersonCompetency.competency_id == Competency.id,
            Competency.code == f.gap_in,
            PersonCompetency.required_level > PersonCompetency.current_level))
    if f.not_matched:
        q = q.where(~has_live_pair(programme_id))
    if f.kind:
        q = q.where(Person.kind == f.kind)
    return q


def has_live_pair(programme_id: int) -> Exists:
    """SQL condition: the person (as mentee) has an invited or active pair in the programme."""
    return exists().where(Pair.mentee_id == Person.id, Pair.programme_id == programme_id,
                          Pair.status.in_(LIVE))


def candidates(prog: Programme, role: str, f: Filters) -> Select[Person]:
    """Active people matching the filters who do not yet take part in the programme: one
    person may mentor in one programme and be mentored in another, never both in one."""
    q = select(Person).where(Person.active.is_(True), ~exists().where(
        Participant.programme_id == prog.id, Participant.person_id == Person.id))
    return apply_filters(q, f, prog.id)


def count_candidates(prog: Programme, role: str, f: Filters) -> int:
    q = candidates(prog, role, f)
    return db.session.scalar(select(func.count()).select_from(q.subquery())) or 0


def add_participants(prog: Programme, role: str, f: Filters, actor: Actor) -> int:
    if role not in ("mentor", "mentee"):
        raise ProgrammeError("role", _l("Choose mentors or mentees."))
    people = list(db.session.scalars(candidates(prog, role, f)).unique())
    for p in people:
        db.session.add(Participant(programme_id=prog.id, person_id=p.id, role=role,
                                   is_priority=p.is_priority))
    if people:
        mark_stale(prog.id)
    audit.record(actor, "programme.participants_add", prog, programme_id=prog.id, role=role,
                 count=len(people), filters=f.to_dict())
    db.session.flush()
    return len(people)


def participants(prog: Programme, role: str) -> list[Participant]:
    return list(db.session.scalars(
        select(Participant).join(Person, Participant.person_id == Person.id)
        .where(Participant.programme_id == prog.id, Participant.role == role,
               Participant.active.is_(True)).order_by(Person.name)).unique())


def preferences_of(prog: Programme, mentee_id: int) -> list[int]:
    """The mentee's ranked mentor ids (first choice first)."""
    return list(db.session.scalars(select(MentorPreference.mentor_id).where(
        MentorPreference.programme_id == prog.id, MentorPreference.mentee_id == mentee_id)
        .order_by(MentorPreference.rank)))


def set_preferences(prog: Programme, mentee_id: int, mentor_ids: list[int], actor: Actor, *,
                    allowed: set[int] | None = None) -> None:
    """A mentee ranks up to 3 mentors (1 = first). ``allowed``: the mentors offered to them
    (a mentee chooses among their suggestions; a coordinator among all the mentors)."""
    if not prog.preferences_enabled:
        raise ProgrammeError("preferences_off", _l("Preferences are off for this programme."))
    mentor_ids = list(dict.fromkeys(m for m in mentor_ids if m))[:3]
    if allowed is None:
        allowed = {p.person_id for p in participants(prog, "mentor")}
    if any(m not in allowed for m in mentor_ids):
        raise ProgrammeError("preferences_choice", _l("Choose among the mentors offered."))
    if not db.session.scalar(select(exists().where(
            Participant.programme_id == prog.id, Participant.person_id == mentee_id,
            Participant.role == "mentee", Participant.active.is_(True)))):
        raise ProgrammeError("not_mentee", _l("That person is not a mentee of this programme."))
    for row in db.session.scalars(select(MentorPreference).where(
            MentorPreference.programme_id == prog.id, MentorPreference.mentee_id == mentee_id)):
        db.session.delete(row)
    db.session.flush()
    for rank, mid in enumerate(mentor_ids, 1):
        db.session.add(MentorPreference(programme_id=prog.id, mentee_id=mentee_id,
                                        mentor_id=mid, rank=rank))
    mark_stale(prog.id)
    audit.record(actor, "programme.preferences", prog, programme_id=prog.id,
                 mentee_id=mentee_id, mentors=mentor_ids)
    db.session.flush()


def is_active_mentee(prog: Programme, person_id: int | None) -> bool:
    """Whether the person takes part in the programme as a mentee now."""
    return person_id is not None and bool(db.session.scalar(select(exists().where(
        Participant.programme_id == prog.id, Participant.role == "mentee",
        Participant.person_id == person_id, Participant.active.is_(True)))))


def open_round_exists(prog: Programme) -> bool:
    return bool(db.session.scalar(select(exists().where(
        Round.programme_id == prog.id, Round.status.in_(OPEN_ROUND)))))


def preference_invitations(person_id: int | None) -> list[Programme]:
    """Programmes where this person, as mentee without a live pair, may rank mentors now:
    preferences on and a round open."""
    if person_id is None:
        return []
    return list(db.session.scalars(
        select(Programme).join(Participant, Participant.programme_id == Programme.id)
        .where(Participant.person_id == person_id, Participant.role == "mentee",
               Participant.active.is_(True), Programme.preferences_enabled.is_(True),
               exists().where(Round.programme_id == Programme.id,
                              Round.status.in_(OPEN_ROUND)),
               ~exists().where(Pair.programme_id == Programme.id, Pair.mentee_id == person_id,
                               Pair.status.in_(LIVE)))
        .order_by(Programme.start_date.desc())).unique())


# --------------------------------------------------------------------------- withdrawal


def _mail(person: Person, template: str, key: str, **ctx: Any) -> None:
    """Queue a mail in the person's language (also outside a request, e.g. from a job)."""
    mailer.queue_email(person.email, template, locale=person.locale or "id",
                       dedupe_key=key, person=person, **ctx)


def live_mentees_by_mentor(prog: Programme, mentor_ids: Iterable[int] | None = None
                           ) -> dict[int, list[str]]:
    """Mentor id -> names of the mentees in their live pairs (what a withdrawal would end);
    only for ``mentor_ids`` when given (the page's mentors, not the programme's thousands)."""
    out: dict[int, list[str]] = {}
    where = [Pair.programme_id == prog.id, Pair.status.in_(LIVE)]
    if mentor_ids is not None:
        where.append(Pair.mentor_id.in_(list(mentor_ids)))
    for mentor_id, name in db.session.execute(
            select(Pair.mentor_id, Person.name).join(Person, Person.id == Pair.mentee_id)
            .where(*where).order_by(Person.name)):
        out.setdefault(mentor_id, []).append(name)
    return out


def withdraw_mentor(prog: Programme, person_id: int, actor: Actor, reason: str = "") -> list[Pair]:
    """A mentor leaves the programme: not yet accepted and active pairs end (their invites are
    cancelled), the mentees become rematchable, mentor and mentees are told, solved rounds
    become stale. Returns the ended pairs."""
    part = db.session.scalar(select(Participant).where(
        Participant.programme_id == prog.id, Participant.person_id == person_id,
        Participant.role == "mentor"))
    if part is None or not part.active:
        raise ProgrammeError("not_mentor", _l("That person is not a mentor of this programme."))
    reason = reason.strip()[:500]
    part.active = False
    pairs = list(db.session.scalars(select(Pair).where(
        Pair.programme_id == prog.id, Pair.mentor_id == person_id, Pair.status.in_(LIVE))
        .order_by(Pair.id)))
    now = utcnow()
    for pair in pairs:
        pair.status, pair.ended_at = "ended", now
        pair.end_reason = reason or "mentor withdrew"
        for series in db.session.scalars(select(SessionSeries).where(
                SessionSeries.pair_id == pair.id, SessionSeries.status == "active")):
            invites.cancel_series(series, actor=actor, now=now)
    db.session.flush()
    mentor = part.person
    for pair in pairs:
        _mail(pair.mentee, "mentor_withdrawn", f"withdrawn:{pair.id}:mentee",
              programme=prog, mentor=mentor)
    _mail(mentor, "withdrawal_confirmed", f"withdrawn:{prog.id}:{person_id}:{now:%Y%m%d%H%M%S}",
          programme=prog, mentees=[p.mentee for p in pairs])
    mark_stale(prog.id)
    audit.record(actor, "programme.mentor_withdraw", prog, programme_id=prog.id,
                 mentor_id=person_id, pairs=[p.id for p in pairs], reason=reason)
    db.session.flush()
    return pairs


def parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ProgrammeError("date", _l("Dates must look like 2026-01-31.")) from exc
