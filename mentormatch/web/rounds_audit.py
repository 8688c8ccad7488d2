"""A programme's audit log page (route of the ``rounds`` blueprint): who ran, changed,
approved what and when. The entries and the names they refer to come from
services/audit.py; the page adds the labels."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask_babel import lazy_gettext as _l

from ..services import audit
from ..settings import settings
from .access import requires
from .labels import label
from .rounds import _programme, bp

SOURCE_LABELS = {"imap": _l("by e-mail"), "link": _l("by link"), "upload": _l("by upload"),
                 "app": _l("in the app"), "web": _l("in the app"), "api": _l("by API")}


def _row(e: audit.Entry) -> dict[str, Any]:
    who = e.who
    if who is not None and e.source in SOURCE_LABELS:
        who += f" ({SOURCE_LABELS[e.source]})"
    return {"at": e.at, "action": label("action", e.action), "who": who, "round": e.round,
            "round_id": e.round_id, "people": e.people, "count": e.count, "change": e.change}


@bp.get("/<int:pid>/audit")
@requires("programme.list")
def audit_log(pid: int):
    """Newest first, paginated."""
    prog = _programme(pid)
    page = audit.programme_page(prog.id, max(1, request.args.get("page", 1, type=int) or 1),
                                settings().rounds.audit_page_size)
    return render_template("rounds/audit.html", prog=prog,
                           entries=[_row(e) for e in page.entries], page=page.page,
                           pages=page.pages, total=page.total)
