"""Admin mail pages.

* ``/dev/mailbox/``: the demo's mailbox - with the folder transport, what the service "sent".
  Those mails carry activation and password-reset links, so only admins may read them, and the
  page does not exist (404) once the transport is SMTP.
* ``/admin/outbox``: the state of outgoing mail (no message content): rows whose delivery is
  uncertain or that failed, with a resend action, for every transport.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import select

from ..extensions import db
from ..mail.transport import FolderTransport
from ..models import OutboxMessage
from ..services.dispatch import OutboxError, outbox_counts, resend
from ..settings import settings
from .access import found, requires
from .labels import labels
from .transaction import refuse

bp = Blueprint("mailbox", __name__)

STATE_LABELS = labels()["outbox"]
SHOWN = ("uncertain", "failed", "pending", "claimed", "sending", "sent")


def outbox_folder() -> Path:
    return Path(current_app.instance_path) / "outbox"


def _transport() -> FolderTransport:
    if settings().mail.transport != "folder":
        abort(404)
    return FolderTransport(outbox_folder())


@bp.app_context_processor
def _mailbox_flag() -> dict[str, bool]:
    """The navigation shows the dev mailbox only with the folder transport."""
    return {"dev_mailbox": settings().mail.transport == "folder"}


@bp.before_request
def _only_with_folder_transport():
    """With SMTP the dev mailbox does not exist, for anyone."""
    if request.endpoint in ("mailbox.index", "mailbox.show") and \
            settings().mail.transport != "folder":
        abort(404)


PER_PAGE = 50


@bp.get("/dev/mailbox/")
@requires("mailbox.dev")
def index():
    """Newest first, 50 a page; ``to`` keeps the mails to one address (part of it)."""
    transport = _transport()
    to = request.args.get("to", "").strip()[:200]
    page = max(1, request.args.get("page", 1, type=int) or 1)
    if to:
        every = [m for m in transport.list(limit=None) if to.lower() in m.to.lower()]
        total = len(every)
        mails = every[(page - 1) * PER_PAGE: page * PER_PAGE]
    else:
        total = len(transport.names())
        mails = transport.list(limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    pages = max(1, -(-total // PER_PAGE))
    first = (page - 1) * PER_PAGE + 1 if mails else 0
    return render_template("mailbox/index.html", mails=mails, to=to, page=page, pages=pages,
                           total=total, first=first, last=first + len(mails) - 1 if mails else 0,
                           sent={m.name: _stamp(m.name) for m in mails})


def _stamp(name: str) -> datetime | None:
    """When a stored mail was written (its file name starts with the UTC time)."""
    try:
        return datetime.strptime(name[:15], "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None


@bp.get("/dev/mailbox/<name>")
@requires("mailbox.dev")
def show(name: str):
    transport = _transport()
    try:
        msg = transport.read(name)
    except (ValueError, FileNotFoundError):
        abort(404)
    text = msg.get_body(preferencelist=("plain",))
    return render_template(
        "mailbox/show.html",
        msg=msg,
        name=name,
        text=_with_links(text.get_content() if text else ""),
        parts=[p.get_content_type() for p in msg.walk()],
    )


def _with_links(text: str) -> Markup:
    """The mail's text, escaped, with the service's own links (from ``base_url``) clickable:
    the admin opens an activation or RSVP link from here as the recipient would."""
    base = settings().app.base_url.rstrip("/")
    pattern = re.compile(re.escape(base) + r"/[^\s<>\"]*")
    out, end = [], 0
    for m in pattern.finditer(text):
        url = m.group(0).rstrip(".,;:)")
        out.append(escape(text[end:m.start()]))
        out.append(Markup('<a href="{0}">{0}</a>').format(url))
        end = m.start() + len(url)
    out.append(escape(text[end:]))
    return Markup("").join(out)


@bp.get("/admin/outbox")
@requires("outbox.admin")
def outbox():
    state = request.args.get("state", "uncertain")
    if state not in SHOWN:
        state = "uncertain"
    rows = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.status == state)
        .order_by(OutboxMessage.id.desc()).limit(200)
    ).all()
    return render_template("mailbox/outbox.html", rows=rows, state=state, states=SHOWN,
                           counts=outbox_counts(), labels=STATE_LABELS)


@bp.post("/admin/outbox/<int:row_id>/resend")
@requires("outbox.admin")
def outbox_resend(row_id: int):
    row = found(db.session.get(OutboxMessage, row_id))
    state = row.status
    try:
        resend(row, actor=current_user)
    except OutboxError as exc:
        return refuse(exc, "mailbox.outbox", state=state)
    flash(_("The message will be sent again."), "success")
    return redirect(url_for("mailbox.outbox", state=state))
