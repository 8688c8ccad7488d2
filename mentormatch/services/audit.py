"""Audit trail: who did what to which object, and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import Actor, Attendee, AuditLog, Pair, Person, Round, SessionSeries, User
from ..models import Session as SessionRow
from .people import names_of


def record(
    actor: Actor,
    action: str,
    obj: Any = None,
    *,
    programme_id: int | None = None,
    **details: Any,
) -> AuditLog:
    row = AuditLog(
        actor_id=getattr(actor, "id", None),
        action=action,
        object_type=type(obj).__name__.lower() if obj is not None else "-",
        object_id=getattr(obj, "id", None),
        programme_id=programme_id,
        details=details,
    )
    db.session.add(row)
    return row


@dataclass
class Entry:
    """One line of a programme's audit log, names looked up (labels are the page's job)."""

    at: datetime
    action: str
    who: str | None  # the user, or the attendee who answered from their calendar or a link
    source: str | None  # how that attendee answered (imap, link, upload, ...)
    round: str | None
    round_id: int | None
    people: str
    count: int | None
    change: str


@dataclass
class EntryPage:
    entries: list[Entry]
    page: int
    pages: int
    total: int


def programme_page(programme_id: int, page: int, size: int) -> EntryPage:
    """Who ran, changed, approved what and when (newest first), one page, with the names of
    the users, people, rounds and pairs the entries refer to (a few queries, not one per
    row)."""
    total = db.session.scalar(select(func.count(AuditLog.id)).where(
        AuditLog.programme_id == programme_id)) or 0
    pages = max(1, -(-total // size))
    page = min(max(1, page), pages)
    rows = list(db.session.scalars(select(AuditLog).where(AuditLog.programme_id == programme_id)
                                   .order_by(AuditLog.at.desc(), AuditLog.id.desc())
                                   .offset((page - 1) * size).limit(size)))
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(
        {r.actor_id for r in rows if r.actor_id} or {0})))}
    person_ids = {v for r in rows for k, v in (r.details or {}).items()
                  if k in ("mentee_id", "mentor_id") and isinstance(v, int)}
    names = names_of(person_ids)
    round_ids = {r.object_id for r in rows if r.object_type == "round" and r.object_id}
    round_ids |= {r.details["round_id"] for r in rows
                  if isinstance((r.details or {}).get("round_id"), int)}
    round_names: dict[int, str] = {
        rid: name for rid, name in db.session.execute(select(Round.id, Round.name).where(
            Round.id.in_(round_ids or {0})))}
    pair_names = _pair_names(rows)
    answerers = names_of({v for r in rows
                           if isinstance(v := (r.details or {}).get("attendee_person_id"), int)})
    entries = []
    for r in rows:
        d = r.details or {}
        rid = r.object_id if r.object_type == "round" else d.get("round_id")
        who = users.get(r.actor_id) if r.actor_id else None
        who_name = (who.person.name if who.person else who.email) if who else None
        source = None
        if who_name is None and d.get("attendee_person_id") in answerers:
            # an answer from the person's own calendar or a link: them, not "System"
            who_name = answerers[d["attendee_person_id"]]
            source = d.get("source")
        people_text = " – ".join(names[d[k]] for k in ("mentee_id", "mentor_id")
                                 if isinstance(d.get(k), int) and d[k] in names)
        pairs = d.get("pairs")
        entries.append(Entry(
            at=r.at, action=r.action, who=who_name, source=source,
            round=round_names.get(rid) if isinstance(rid, int) else None,
            round_id=rid if isinstance(rid, int) else None,
            people=people_text or pair_names.get((r.object_type, r.object_id or 0), ""),
            count=d.get("count", pairs if isinstance(pairs, int) else None),
            change=_change(d)))
    return EntryPage(entries, page, pages, total)


def _pair_names(rows: list[AuditLog]) -> dict[tuple[str, int], str]:
    """'Mentee – Mentor' for entries about a pair, or its series, session or attendee."""
    want: dict[str, set[int]] = {}
    for r in rows:
        if r.object_id and r.object_type in ("pair", "sessionseries", "session", "attendee"):
            want.setdefault(r.object_type, set()).add(r.object_id)
    series_of: dict[tuple[str, int], int] = {}
    for oid, sid in db.session.execute(select(SessionRow.id, SessionRow.series_id).where(
            SessionRow.id.in_(want.get("session", set()) or {0}))):
        series_of[("session", oid)] = sid
    for oid, sid in db.session.execute(select(Attendee.id, Attendee.series_id).where(
            Attendee.id.in_(want.get("attendee", set()) or {0}))):
        series_of[("attendee", oid)] = sid
    for sid in want.get("sessionseries", set()):
        series_of[("sessionseries", sid)] = sid
    series_pair: dict[int, int] = {
        sid: pid for sid, pid in db.session.execute(
            select(SessionSeries.id, SessionSeries.pair_id).where(
                SessionSeries.id.in_(set(series_of.values()) or {0})))}
    pair_of: dict[tuple[str, int], int | None] = {
        key: series_pair.get(sid) for key, sid in series_of.items()}
    for pid in want.get("pair", set()):
        pair_of[("pair", pid)] = pid
    mentee, mentor = aliased(Person), aliased(Person)
    names = {pid: f"{a} – {b}" for pid, a, b in db.session.execute(
        select(Pair.id, mentee.name, mentor.name).join(mentee, mentee.id == Pair.mentee_id)
        .join(mentor, mentor.id == Pair.mentor_id)
        .where(Pair.id.in_({p for p in pair_of.values() if p} or {0})))}
    return {key: names[pid] for key, pid in pair_of.items() if pid in names}


def _change(d: dict[str, Any]) -> str:
    """Old -> new values an entry carries (status, roles, answers, changed fields)."""
    parts = []
    status = d.get("status")
    if isinstance(status, dict) and "old" in status:
        parts.append(f"{status['old']} → {status['new']}")
    if d.get("partstat"):
        parts.append(f"→ {d['partstat']}")
    for field, change in (d.get("changes") or {}).items():
        if isinstance(change, dict) and "old" in change:
            parts.append(f"{field}: {change['old']} → {change['new']}")
    if d.get("reason"):
        parts.append(str(d["reason"]))
    return " · ".join(parts)
