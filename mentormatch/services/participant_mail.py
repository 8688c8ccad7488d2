"""E-mails to mentors, mentees and coordinators about logs, new times and ended pairs.

Each message is written to the outbox in the caller's transaction (`mailer.queue_email`), in the
recipient's language, with times in the recipient's zone. Every call carries a dedupe key built
from the action, so a double submit or a retried request queues the message once.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from babel.dates import format_date
from sqlalchemy import select

from .. import urls
from ..extensions import db
from ..models import OutboxMessage, Person, User
from ..settings import settings
from . import mailer
from .timefmt import format_local, tz_abbrev


def _base_url() -> str:
    return urls.base_url()


def locale_of(person: Person | None, user: User | None = None) -> str:
    """The account's chosen language, else the person's, else the configured default."""
    locales = settings().app.locales
    if user is None and person is not None:
        user = db.session.scalar(select(User).where(User.person_id == person.id))
    for value in (getattr(user, "locale", None), getattr(person, "locale", None)):
        if value in locales:
            return str(value)
    return settings().app.default_locale


def _queue(email: str, template: str, locale: str, tz: str, key: str,
           **ctx: Any) -> OutboxMessage | None:
    if db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)):
        return None  # already queued by the first submit: render nothing, send nothing

    def local(value: datetime, fmt: str = "full") -> str:
        return format_local(value, tz, locale, fmt)

    def day(value: date) -> str:
        return format_date(value, "EEEE, d MMM yyyy",
                           locale="id_ID" if locale == "id" else "en_GB")

    context = dict(tz=tz, tz_name=tz_abbrev(tz), local=local, day=day,
                   base_url=_base_url(), **ctx)
    return mailer.queue_email(email, template, locale=locale, dedupe_key=key, **context)


def to_person(person: Person, template: str, *, key: str, **ctx: Any) -> OutboxMessage | None:
    return _queue(person.email, template, locale_of(person), person.timezone, key,
                  person=person, **ctx)


def to_user(user: User, template: str, *, key: str, **ctx: Any) -> OutboxMessage | None:
    person = user.person
    tz = person.timezone if person else settings().app.default_timezone
    return _queue(user.email, template, locale_of(person, user), tz, key, user=user,
                  person=person, **ctx)
