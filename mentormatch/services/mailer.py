"""Write outgoing mail to the outbox, in the caller's transaction.

Nothing is sent here: the dispatch job sends committed rows, so a rolled-back change sends nothing.
Templates are `templates/email/<name>.txt` + `.html`, rendered in the recipient's language.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import insert, select

from ..extensions import db
from ..models import OutboxMessage
from ..settings import settings

#: rows per dedupe look-up / multi-row INSERT in :func:`enqueue_many`
CHUNK = 500


def _from_header() -> str:
    mail = settings().mail
    return str(Address(display_name=mail.from_name, addr_spec=mail.from_address))


def new_message_id() -> str:
    return make_msgid(domain=settings().mail.message_id_domain)


def render_email(
    template: str, locale: str, **context: Any
) -> tuple[str, str, str]:
    """Return (subject, text, html). The subject is the text template's first line.

    Needs only an application context: an e-mail sees what it is given (links built by
    ``urls.external`` from ``app.base_url``), never the request or the signed-in user."""
    env = current_app.jinja_env
    with force_locale(locale):
        text = env.get_template(f"email/{template}.txt").render(locale=locale, **context)
        html = env.get_template(f"email/{template}.html").render(locale=locale, **context)
    subject, _, body = text.partition("\n")
    return subject.removeprefix("Subject:").strip(), body.lstrip("\n"), html


def build_message(to_addr: str, subject: str, text: str, html: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = _from_header()
    msg["To"] = to_addr
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = new_message_id()
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg


def enqueue(
    msg: EmailMessage, *, kind: str, dedupe_key: str | None = None
) -> OutboxMessage | None:
    """Add a message to the outbox. With a dedupe key already used, nothing is added."""
    if dedupe_key is not None:
        exists = db.session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
        )
        if exists is not None:
            return None
    if msg["Message-ID"] is None:
        msg["Message-ID"] = new_message_id()
    row = OutboxMessage(
        kind=kind,
        dedupe_key=dedupe_key,
        recipient=str(msg["To"]),
        subject=str(msg["Subject"]),
        message_id=str(msg["Message-ID"]),
        raw=msg.as_bytes(),
    )
    db.session.add(row)
    db.session.flush()
    return row


def queue_email(
    to_addr: str,
    template: str,
    *,
    locale: str = "id",
    kind: str | None = None,
    dedupe_key: str | None = None,
    **context: Any,
) -> OutboxMessage | None:
    subject, text, html = render_email(template, locale, **context)
    msg = build_message(to_addr, subject, text, html)
    return enqueue(msg, kind=kind or template, dedupe_key=dedupe_key)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message already serialised (e.g. by ``calendar.compose_invite_bytes``)."""

    kind: str
    recipient: str
    subject: str
    message_id: str
    raw: bytes
    dedupe_key: str | None = None


def enqueue_many(mails: Iterable[Outgoing]) -> int:
    """Add many messages to the outbox in the caller's transaction: per :data:`CHUNK` rows one
    look-up of the dedupe keys and one multi-row INSERT (not a query and a flush per message,
    which made a big round's approval slow). A message whose dedupe key is already used, or
    repeats one earlier in ``mails``, is left out. Returns how many rows were written."""
    written = 0
    seen: set[str] = set()
    batch: list[Outgoing] = []

    def write() -> int:
        keys = [m.dedupe_key for m in batch if m.dedupe_key is not None]
        used = set(db.session.scalars(select(OutboxMessage.dedupe_key).where(
            OutboxMessage.dedupe_key.in_(keys)))) if keys else set()
        rows = [{"kind": m.kind, "dedupe_key": m.dedupe_key, "recipient": m.recipient[:254],
                 "subject": m.subject[:500], "message_id": m.message_id, "raw": m.raw}
                for m in batch if m.dedupe_key is None or m.dedupe_key not in used]
        if rows:
            # render_nulls: rows with and without a dedupe key stay one multi-row INSERT
            db.session.execute(insert(OutboxMessage).execution_options(render_nulls=True),
                               rows)
        batch.clear()
        return len(rows)

    for mail in mails:
        if mail.dedupe_key is not None:
            if mail.dedupe_key in seen:
                continue
            seen.add(mail.dedupe_key)
        batch.append(mail)
        if len(batch) >= CHUNK:
            written += write()
    if batch:
        written += write()
    return written


def prepare_email(to_addr: str, template: str, *, locale: str = "id", kind: str | None = None,
                  dedupe_key: str | None = None, **context: Any) -> Outgoing:
    """What :func:`queue_email` writes, as an :class:`Outgoing` for :func:`enqueue_many`."""
    subject, text, html = render_email(template, locale, **context)
    msg = build_message(to_addr, subject, text, html)
    return Outgoing(kind=kind or template, recipient=str(msg["To"]),
                    subject=str(msg["Subject"]), message_id=str(msg["Message-ID"]),
                    raw=msg.as_bytes(), dedupe_key=dedupe_key)
