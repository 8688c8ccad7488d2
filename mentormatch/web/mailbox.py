"""Development mailbox: with the folder transport, staff can read what the service sent."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, render_template

from ..mail.transport import FolderTransport
from .access import requires

bp = Blueprint("mailbox", __name__, url_prefix="/dev/mailbox")


def outbox_folder() -> Path:
    return Path(current_app.instance_path) / "outbox"


def _transport() -> FolderTransport:
    if current_app.config["MM"]["mail"]["transport"] != "folder":
        abort(404)
    return FolderTransport(outbox_folder())


@bp.get("/")
@requires("mailbox.dev")
def index():
    return render_template("mailbox/index.html", mails=_transport().list(limit=200))


@bp.get("/<name>")
@requires("mailbox.dev")
def show(name: str):
    try:
        msg = _transport().read(name)
    except (ValueError, FileNotFoundError):
        abort(404)
    text = msg.get_body(preferencelist=("plain",))
    return render_template(
        "mailbox/show.html",
        msg=msg,
        name=name,
        text=text.get_content() if text else "",
        parts=[p.get_content_type() for p in msg.walk()],
    )
