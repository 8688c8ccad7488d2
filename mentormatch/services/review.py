"""What the programme page and the round review show, one page at a time.

A national round has a thousand proposals and several thousand participants; the pages show
counts and a page of rows (searched, sorted and cut in the database), never every row. Lists
a coordinator picks from (a mentee, a mentor) are complete for a small programme and narrowed
by a search above ``PICK_LIMIT`` participants.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, Text, cast, func, or_, select
from sqlalchemy.orm import aliased, contains_eager

from ..extensions import db
from ..models import (
    Competency,
    Pair,
    Participant,
    Person,
    Programme,
    Proposal,
    Round,
    UnmatchedMentee,
)
from .people import escape_like

PAGE_SIZE = 50
PICK_LIMIT = 200
SORTS = ("score", "mentee", "mentor")

T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    items: list[T]
    total: int  # matching the search
    page: int
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def first(self) -> int:
        return min(self.total, (self.page - 1) * self.size + 1)

    @property
    def last(self) -> int:
        return min(self.total, self.page * self.size)


def _page_of(query: Select[Any], count: Select[Any], page: int, size: int = PAGE_SIZE
             ) -> Page[Any]:
    total = int(db.session.scalar(count) or 0)
    page = min(max(1, page), max(1, -(-total // size)))
    items = list(db.session.scalars(query.limit(size).offset((page - 1) * size)).unique())
    return Page(items, total, page, size)


def _like(q: str) -> str:
    return "%" + escape_like(q.strip().lower()[:100]) + "%"


def proposals(rnd: Round, *, q: str = "", sort: str = "score", page: int = 1) -> Page[Proposal]:
    """A page of the round's proposals; ``q`` searches both names and the reason,
    case-insensitively: a competency named in it (in either language) or the coordinator's
    note on a hand-set pair. Reasons are stored as codes, so a competency's name is first
    turned into its code (one query)."""
    mentee, mentor = aliased(Person), aliased(Person)
    where = [Proposal.round_id == rnd.id]
    if q.strip():
        like = _like(q)
        codes = db.session.scalars(select(Competency.code).where(or_(
            func.lower(Competency.name_id).like(like, escape="\\"),
            func.lower(Competency.name_en).like(like, escape="\\"),
            func.lower(Competency.code).like(like, escape="\\")))).all()
        reasons = cast(Proposal.reasons, Text)
        where.append(or_(func.lower(mentee.name).like(like, escape="\\"),
                         func.lower(mentor.name).like(like, escape="\\"),
                         Proposal.manual & func.lower(reasons).like(like, escape="\\"),
                         *(reasons.like(f'%"competency": "{escape_like(c)}"%', escape="\\")
                           for c in codes)))
    base = (select(Proposal).join(mentee, mentee.id == Proposal.mentee_id)
            .join(mentor, mentor.id == Proposal.mentor_id).where(*where))
    order = {"mentee": (mentee.name, Proposal.id), "mentor": (mentor.name, Proposal.id)}.get(
        sort, (Proposal.score.desc(), Proposal.id.desc()))  # ix_proposal_review, backwards
    count = (select(func.count(Proposal.id)).select_from(Proposal)
             .join(mentee, mentee.id == Proposal.mentee_id)
             .join(mentor, mentor.id == Proposal.mentor_id).where(*where)) if q.strip() \
        else select(func.count(Proposal.id)).where(Proposal.round_id == rnd.id)
    return _page_of(base.order_by(*order), count, page)


def proposal_count(rnd: Round) -> int:
    return int(db.session.scalar(select(func.count(Proposal.id))
                                 .where(Proposal.round_id == rnd.id)) or 0)


def unmatched(rnd: Round, *, page: int = 1) -> tuple[Page[UnmatchedMentee], dict[str, int]]:
    """A page of the round's unmatched mentees (by name) and how many per reason."""
    by_reason = dict(db.session.execute(
        select(UnmatchedMentee.reason, func.count(UnmatchedMentee.id))
        .where(UnmatchedMentee.round_id == rnd.id).group_by(UnmatchedMentee.reason)).all())
    query = (select(UnmatchedMentee).join(Person, Person.id == UnmatchedMentee.mentee_id)
             .where(UnmatchedMentee.round_id == rnd.id).order_by(Person.name, Person.id))
    total = sum(by_reason.values())
    page = min(max(1, page), max(1, -(-total // PAGE_SIZE)))
    items = list(db.session.scalars(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    return Page(items, total, page), {k: int(v) for k, v in by_reason.items()}


def published(rnd: Round, *, page: int = 1) -> Page[Pair]:
    return _page_of(select(Pair).where(Pair.round_id == rnd.id).order_by(Pair.id),
                    select(func.count(Pair.id)).where(Pair.round_id == rnd.id), page)


def _participants(prog: Programme, role: str) -> Select[Any]:
    # the person joined once, for the search, the order and the page's names alike
    return (select(Participant).join(Participant.person)
            .options(contains_eager(Participant.person))
            .where(Participant.programme_id == prog.id, Participant.role == role,
                   Participant.active.is_(True)))


def participant_counts(prog: Programme) -> dict[str, int]:
    rows = db.session.execute(
        select(Participant.role, func.count(Participant.id))
        .where(Participant.programme_id == prog.id, Participant.active.is_(True))
        .group_by(Participant.role)).all()
    counts = {"mentor": 0, "mentee": 0}
    counts.update({role: int(n) for role, n in rows})
    return counts


def participants(prog: Programme, role: str, *, q: str = "", page: int = 1
                 ) -> Page[Participant]:
    """A page of the programme's active participants in ``role``, by name; ``q`` searches
    name and NIP."""
    query = _participants(prog, role)
    if q.strip():
        like = _like(q)
        query = query.where(or_(func.lower(Person.name).like(like, escape="\\"),
                                Person.nip.like(like, escape="\\")))
    count = select(func.count()).select_from(query.with_only_columns(Participant.id).subquery())
    return _page_of(query.order_by(Person.name, Person.id), count, page)


def pick(prog: Programme, role: str, counts: dict[str, int], q: str = ""
         ) -> list[Participant] | None:
    """Participants to choose from in a form: all of them in a small programme, the ones
    matching ``q`` (at most PICK_LIMIT) in a large one, None when a search is needed first."""
    query = _participants(prog, role)
    if q.strip():
        like = _like(q)
        query = query.where(or_(func.lower(Person.name).like(like, escape="\\"),
                                Person.nip.like(like, escape="\\")))
    elif counts.get(role, 0) > PICK_LIMIT:
        return None
    return list(db.session.scalars(query.order_by(Person.name, Person.id).limit(PICK_LIMIT))
                .unique())


def people(ids: set[int]) -> dict[int, Person]:
    """People by id in one query (unit and location joined)."""
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {p.id: p for p in db.session.scalars(select(Person).where(Person.id.in_(ids)))
            .unique()}


__all__ = ["PAGE_SIZE", "PICK_LIMIT", "SORTS", "Page", "participant_counts", "participants",
           "people", "pick", "proposal_count", "proposals", "published", "unmatched"]
