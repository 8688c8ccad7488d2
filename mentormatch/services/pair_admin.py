"""A coordinator's view of a programme's pairs and participants: pairs by status with the next
action at hand, the mentees still without a mentor, ending a pair, adding or removing one
participant. Services flush, the view commits."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..extensions import db
from ..models import Actor, Pair, Participant, Person, Programme, SessionSeries
from ..models.base import utcnow
from . import audit, invites
from .programmes import ProgrammeError, mark_stale

LIVE = ("invited", "active")
STATUSES = ("invited", "active", "declined", "ended", "completed", "unmatched")


@dataclass
class PairRow:
    pair: Pair | None
    mentee: Person
    mentor: Person | None
    status: str


def counts(prog: Programme) -> dict[str, int]:
    out = dict.fromkeys(STATUSES, 0)
    for status, n in db.session.execute(
            select(Pair.status, func.count(Pair.id)).where(Pair.programme_id == prog.id)
            .group_by(Pair.status)):
        out[status] = int(n)
    out["unmatched"] = len(_unmatched_ids(prog))
    return out


def _unmatched_ids(prog: Programme) -> list[int]:
    """Active mentees of the programme with no live or completed pair in it."""
    paired = select(Pair.mentee_id).where(Pair.programme_id == prog.id,
                                          Pair.status.in_((*LIVE, "completed")))
    return list(db.session.scalars(
        select(Participant.person_id).join(Person, Person.id == Participant.person_id)
        .where(Participant.programme_id == prog.id, Participant.role == "mentee",
               Participant.active.is_(True), Participant.person_id.not_in(paired))
        .order_by(Person.name)))


def rows(prog: Programme, status: str, limit: int = 500) -> list[PairRow]:
    if status == "unmatched":
        ids = _unmatched_ids(prog)[:limit]
        people = {p.id: p for p in db.session.scalars(
            select(Person).where(Person.id.in_(ids or [0]))).unique()}
        return [PairRow(None, people[i], None, "unmatched") for i in ids]
    pairs = db.session.scalars(
        select(Pair).join(Person, Person.id == Pair.mentee_id)
        .where(Pair.programme_id == prog.id, Pair.status == status)
        .order_by(Person.name).limit(limit)).all()
    return [PairRow(p, p.mentee, p.mentor, p.status) for p in pairs]


def rematchable(prog: Programme) -> int:
    return len(_unmatched_ids(prog))


def end_pair(prog: Programme, pair: Pair, actor: Actor, reason: str) -> Pair:
    """The coordinator ends a pair: sessions to come are cancelled (CANCEL to both), the
    mentee can be matched again."""
    if pair.programme_id != prog.id or pair.status not in LIVE:
        raise ProgrammeError("pair_inactive", _l("This pair has already ended."))
    reason = reason.strip()[:1000]
    if not reason:
        raise ProgrammeError("reason_required", _l("Give a reason: both people are told."))
    before = pair.status
    pair.status, pair.ended_at, pair.end_reason = "ended", utcnow(), reason
    for series in db.session.scalars(select(SessionSeries).where(
            SessionSeries.pair_id == pair.id, SessionSeries.status == "active")):
        invites.cancel_series(series, actor=actor)
    audit.record(actor, "pair.end", pair, programme_id=prog.id, by_role="coordinator",
                 reason=reason, status={"old": before, "new": "ended"})
    db.session.flush()
    return pair


def participant_list(prog: Programme) -> list[Participant]:
    return list(db.session.scalars(
        select(Participant).join(Person, Person.id == Participant.person_id)
        .where(Participant.programme_id == prog.id, Participant.active.is_(True))
        .order_by(Participant.role, Person.name)).unique())


def add_one(prog: Programme, key: str, role: str, actor: Actor) -> Participant:
    """Add one person (NIP or e-mail) as mentor or mentee; a removed one comes back."""
    if role not in ("mentor", "mentee"):
        raise ProgrammeError("role", _l("Choose mentors or mentees."))
    key = key.strip()
    person = db.session.scalar(select(Person).where(
        (Person.nip == key) | (func.lower(Person.email) == key.lower()))) if key else None
    if person is None or not person.active:
        raise ProgrammeError("person_unknown", _l("No imported person has this NIP or e-mail."))
    part = db.session.scalar(select(Participant).where(
        Participant.programme_id == prog.id, Participant.person_id == person.id,
        Participant.role == role))
    if part is not None and part.active:
        raise ProgrammeError("already", _l("%(name)s is already in this programme.",
                                           name=person.name))
    if part is None:
        part = Participant(programme_id=prog.id, person_id=person.id, role=role,
                           is_priority=person.is_priority)
        db.session.add(part)
    part.active = True
    db.session.flush()
    mark_stale(prog.id)
    audit.record(actor, "programme.participant_add", prog, programme_id=prog.id,
                 person_id=person.id, role=role)
    return part


def remove_one(prog: Programme, participant_id: int, actor: Actor) -> Participant:
    """Take one person out of the programme; someone in a live pair must be ended (mentee) or
    withdrawn (mentor) first, so nobody is left with sessions and no programme."""
    part = db.session.get(Participant, participant_id)
    if part is None or part.programme_id != prog.id or not part.active:
        raise ProgrammeError("not_participant", _l("That person is not in this programme."))
    col = Pair.mentor_id if part.role == "mentor" else Pair.mentee_id
    if db.session.scalar(select(Pair.id).where(Pair.programme_id == prog.id,
                                               col == part.person_id,
                                               Pair.status.in_(LIVE)).limit(1)):
        raise ProgrammeError("has_pair", _l(
            "%(name)s is in a pair: end the pair (or withdraw the mentor) first.",
            name=part.person.name))
    part.active = False
    db.session.flush()
    mark_stale(prog.id)
    audit.record(actor, "programme.participant_remove", prog, programme_id=prog.id,
                 person_id=part.person_id, role=part.role)
    return part
