"""One-click reminders from the participation alert lists ("nudges").

The alert list is built once (one query, with the page's filters), the day's dedupe keys of all
its recipients are looked up in bulk, and at most `[reports] nudge_limit` new e-mails are queued
in the caller's transaction (the rest on the next click: they are not reminded yet, so the next
batch picks them up). Each e-mail is `templates/email/nudge_<kind>` in the recipient's language
with a deep link built from `app.base_url`; an unanswered invitation is chased with the
scheduler's own `chase_invite` e-mail and its one-click answer links. One audit entry records
who reminded whom.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import urls
from ..extensions import db
from ..models import Actor, Attendee, OutboxMessage, Pair, Person, Programme, SessionSeries
from . import audit, invites, jp, mailer, reports

KIND = "report_nudge"  # outbox kind of every reminder sent from a report
CHUNK = 500  # bound on bind parameters per IN (...) lookup


@dataclass
class NudgeResult:
    queued: int = 0  # e-mails written to the outbox now
    already: int = 0  # recipients already reminded today for this list (dedupe)
    remaining: int = 0  # over the batch bound: remind them with another click
    recipients: list[int] = field(default_factory=list)


@dataclass
class _Mail:
    key: str
    person_id: int
    template: str
    context: dict[str, Any]
    attendee_id: int | None = None


def _chunks(values: list[Any]) -> Iterator[list[Any]]:
    for i in range(0, len(values), CHUNK):
        yield values[i:i + CHUNK]


def _existing_keys(keys: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(list(keys)):
        found.update(db.session.scalars(
            select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(chunk))))
    return found


def _load(model: Any, ids: Iterable[int], *options: Any) -> dict[int, Any]:
    out: dict[int, Any] = {}
    for chunk in _chunks(sorted(set(ids))):
        stmt = select(model).where(model.id.in_(chunk))
        if options:
            stmt = stmt.options(*options)
        out.update({row.id: row for row in db.session.scalars(stmt)})
    return out


def _plan(programme: Programme, kind: str, rows: list[reports.AlertRow], day: str,
          flt: reports.AlertFilter | None) -> list[_Mail]:
    """One e-mail per recipient (per invitation for `unanswered`), in list order."""
    base = f"report-nudge:{programme.id}:{kind}"
    wanted = flt.person_ids if flt is not None else None
    mails: dict[str, _Mail] = {}
    for row in rows:
        if kind == "unanswered":
            att_id = row.cells["attendee_id"]
            key = f"{base}:att{att_id}:{day}"
            mails[key] = _Mail(key, row.person_ids[0], "chase_invite", {"row": row.cells},
                               attendee_id=att_id)
            continue
        for person_id in row.person_ids:
            if wanted is not None and person_id not in wanted:
                continue  # the other member of a pair the coordinator did not pick
            key = f"{base}:{person_id}:{day}"
            mail = mails.get(key)
            if mail is None:
                mail = mails[key] = _Mail(key, person_id, f"nudge_{kind}",
                                          {"row": row.cells, "pairs": []})
            if kind == "no_session":
                mail.context["pairs"].append(row.cells)
    return list(mails.values())


def _link(endpoint: str, **values: Any) -> str:
    return urls.external(endpoint, **values)


def _context(programme: Programme, kind: str, mail: _Mail, person: Person,
             attendees: dict[int, Attendee], series: dict[int, SessionSeries],
             locale: str = "id") -> dict[str, Any]:
    row = mail.context["row"]
    ctx: dict[str, Any] = {"person": person, "programme": programme}
    if kind == "no_session":
        ctx["pairs"] = [{
            "other": c["mentor"] if person.id == c["mentee_id"] else c["mentee"],
            "days": c["days"], "last_held": c["last_held"],
            "link": _link("participants.pair", pair_id=c["pair_id"]),
        } for c in mail.context["pairs"]]
    elif kind == "behind_jp":
        ctx.update(jp=jp.fmt_jp(Decimal(str(row["jp"])), locale),  # the recipient's language
                   expected=jp.fmt_jp(Decimal(str(row["expected_jp"])), locale),
                   target=row["target_jp"],
                   link=(_link("participants.new_log", pair_id=row["pair_id"])
                         if row.get("pair_id") else _link("participants.mentee_home")))
    elif kind == "over_capacity":
        ctx.update(pairs=row["pairs"], capacity=row["capacity"],
                   link=_link("participants.mentor_home"))
    else:  # unanswered: the chase e-mail with fresh one-click answer links
        assert mail.attendee_id is not None  # an "unanswered" row names its attendee
        att = attendees[mail.attendee_id]
        one = series[att.series_id]
        ctx.update(pair=one.pair, links=invites.rsvp_links(one, att),
                   base_url=urls.base_url())
    return ctx


def nudge(programme: Programme, kind: str, *, actor: Actor, days: int = 30,
          flt: reports.AlertFilter | None = None, now: datetime | None = None) -> NudgeResult:
    """Remind everyone on an alert list (or the people in `flt.person_ids`). At most one
    reminder per person, list and day; returns what was really queued."""
    if kind not in reports.ALERT_KINDS:
        raise ValueError(kind)
    now = reports._now(now)
    day = now.astimezone(reports.local_zone()).date().isoformat()
    rows = reports.alert_rows(programme, kind, days=days, now=now, flt=flt)
    planned = _plan(programme, kind, rows, day, flt)
    done = _existing_keys(m.key for m in planned)
    fresh = [m for m in planned if m.key not in done]
    limit = max(1, reports.report_settings().nudge_limit)
    batch = fresh[:limit]
    result = NudgeResult(already=len(planned) - len(fresh), remaining=len(fresh) - len(batch))
    if not batch:
        return result

    people = _load(Person, (m.person_id for m in batch))
    attendees: dict[int, Attendee] = {}
    series: dict[int, SessionSeries] = {}
    if kind == "unanswered":
        attendees = _load(Attendee, (m.attendee_id for m in batch if m.attendee_id))
        series = _load(SessionSeries, (a.series_id for a in attendees.values()),
                       selectinload(SessionSeries.pair).selectinload(Pair.mentor),
                       selectinload(SessionSeries.pair).selectinload(Pair.mentee))

    # links are built from base_url (urls.external), never from the coordinator's request
    for mail in batch:
        person = people[mail.person_id]
        locale = person.locale if person.locale in ("id", "en") else "id"
        ctx = _context(programme, kind, mail, person, attendees, series, locale)
        email = attendees[mail.attendee_id].email if mail.attendee_id else person.email
        if mailer.queue_email(email, mail.template, locale=locale, kind=KIND,
                              dedupe_key=mail.key, **ctx) is not None:
            result.queued += 1
            result.recipients.append(person.id)
        if mail.attendee_id:
            attendees[mail.attendee_id].chased_at = now
    audit.record(actor, "report.nudge", programme, programme_id=programme.id, kind=kind,
                 days=days if kind == "no_session" else None, queued=result.queued,
                 already=result.already, remaining=result.remaining,
                 recipients=result.recipients)
    db.session.flush()
    return result
