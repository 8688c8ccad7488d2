"""Staff import in the browser: upload -> preview (file kept server-side under a random token)
-> confirm (token consumed once, so a double submit cannot import twice)."""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from ..extensions import db
from ..services import staff_import
from .access import requires

bp = Blueprint("staff_import", __name__, url_prefix="/people/import")

TOKEN_TTL = 3600  # seconds an uploaded, previewed file waits for confirmation
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
_ALLOWED = (".csv", ".txt", ".xlsx", ".xlsm")
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _folder() -> Path:
    path = Path(current_app.instance_path) / "import_uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _sweep(folder: Path) -> None:
    cutoff = time.time() - TOKEN_TTL
    for item in folder.iterdir():
        try:
            if item.stat().st_mtime < cutoff:
                item.unlink()
        except OSError:  # another worker swept it first
            pass


def _store(data: bytes, filename: str) -> str:
    folder = _folder()
    _sweep(folder)
    token = secrets.token_urlsafe(24)
    (folder / f"{token}.json").write_text(
        json.dumps({"filename": filename, "user_id": current_user.id, "at": time.time()})
    )
    (folder / f"{token}.bin").write_bytes(data)
    return token


def _take(token: str) -> tuple[bytes, str] | None:
    """Claim the stored upload; only one request can win (rename is atomic)."""
    if not _TOKEN_RE.match(token):
        return None
    folder = _folder()
    meta_path, data_path = folder / f"{token}.json", folder / f"{token}.bin"
    claimed = folder / f"{token}.{secrets.token_hex(4)}.taken"
    try:
        os.rename(data_path, claimed)
    except OSError:
        return None
    try:
        meta = json.loads(meta_path.read_text())
        data = claimed.read_bytes()
    except (OSError, ValueError):
        return None
    finally:
        claimed.unlink(missing_ok=True)
        meta_path.unlink(missing_ok=True)
    if meta.get("user_id") != current_user.id or time.time() - meta.get("at", 0) > TOKEN_TTL:
        return None
    return data, str(meta.get("filename") or "upload")


def _locale() -> str:
    return str(get_locale() or "id")


@bp.get("/")
@requires("people.import")
def upload():
    return render_template("staff_import/upload.html")


@bp.post("/preview")
@requires("people.import")
def preview():
    file = request.files.get("file")
    filename = os.path.basename((file.filename or "") if file else "")
    if file is None or not filename:
        flash(_("Choose a CSV or XLSX file."), "error")
        return render_template("staff_import/upload.html"), 400
    if not filename.lower().endswith(_ALLOWED):
        flash(_("Only CSV and XLSX files can be imported."), "error")
        return render_template("staff_import/upload.html"), 400
    data = file.read()
    report = staff_import.preview(data, filename, _locale())
    db.session.rollback()  # preview writes nothing; end the read transaction
    token = _store(data, filename) if report.ok else None
    return render_template(
        "staff_import/preview.html", report=report, token=token, locale=_locale()
    ), (200 if report.ok else 422)


@bp.post("/confirm")
@requires("people.import")
def confirm():
    taken = _take(request.form.get("token", ""))
    if taken is None:
        flash(_("This upload was already imported or has expired. Nothing was imported again."),
              "error")
        return redirect(url_for("staff_import.upload"))
    data, filename = taken
    report = staff_import.apply(data, filename, current_user, _locale())
    if not report.ok:
        db.session.rollback()
        flash(_("The file is no longer valid; nothing was imported."), "error")
        return render_template(
            "staff_import/preview.html", report=report, token=None, locale=_locale()
        ), 422
    db.session.commit()
    flash(
        _("Imported %(name)s: %(new)d new, %(updated)d updated, %(unchanged)d unchanged.",
          name=filename, new=report.new, updated=report.updated, unchanged=report.unchanged),
        "success",
    )
    return redirect(url_for("staff_import.upload"))


@bp.get("/template.xlsx")
@requires("people.import")
def template_xlsx():
    return Response(
        staff_import.template_xlsx(), mimetype=XLSX_MIME,
        headers={"Content-Disposition": "attachment; filename=template_pegawai.xlsx"},
    )


@bp.get("/template.csv")
@requires("people.import")
def template_csv():
    return Response(
        staff_import.template_csv(), mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": "attachment; filename=template_pegawai.csv"},
    )
