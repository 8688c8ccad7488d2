"""A person's calendar page: each live series they attend, their answer, and the sessions
still to come with their per-session answers. Three queries, whatever the number of series."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import (
    Attendee,
    OccurrenceResponse,
    Pair,
    Person,
    SeriesStatus,
    Session,
    SessionSeries,
    SessionStatus,
    utcnow,
)


def items(person: Person) -> list[dict[str, Any]]:
    """Each live series I attend, with my answer and its sessions still to come."""
    now = utcnow()
    rows = db.session.execute(
        select(Attendee, SessionSeries).join(SessionSeries, Attendee.series_id == SessionSeries.id)
        .where(Attendee.person_id == person.id, SessionSeries.status == SeriesStatus.ACTIVE)
        .order_by(SessionSeries.first_start)
        .options(selectinload(SessionSeries.sessions),
                 selectinload(SessionSeries.pair).selectinload(Pair.programme),
                 selectinload(SessionSeries.pair).selectinload(Pair.mentor),
                 selectinload(SessionSeries.pair).selectinload(Pair.mentee))
    ).all()
    answers: dict[int, dict[Any, str]] = {}
    if rows:
        for r in db.session.scalars(select(OccurrenceResponse).where(
                OccurrenceResponse.attendee_id.in_([att.id for att, _ in rows]))):
            answers.setdefault(r.attendee_id, {})[r.recurrence_id] = r.partstat
    out = []
    for att, series in rows:
        mine = answers.get(att.id, {})
        upcoming: list[Session] = [s for s in series.sessions
                                   if s.status == SessionStatus.SCHEDULED and s.end_at > now]
        out.append({"attendee": att, "series": series, "pair": series.pair,
                    "sessions": [(s, mine.get(s.recurrence_id)) for s in upcoming]})
    return out


def renew_feed_address(person: Person) -> bool:
    """Give the person a new secret calendar address (the first one, or a replacement: the
    old address stops working at once). Returns whether they had one before."""
    had = bool(person.feed_token)
    person.feed_token = secrets.token_urlsafe(32)
    db.session.flush()
    return had
