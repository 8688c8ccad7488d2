"""Certificate (statement) of mentoring hours and JP: one per person and programme, as HTML and
PDF with the same content. Totals come from `jp.person_jp(programme_id=...)`, the tally the
home pages and reports use, so the certificate always agrees with them.

Ready at the programme's end date (the person's local date) or once all the person's pairs in
the programme have ended; before that only coordinators see it, marked as a preview.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from fpdf import FPDF
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import or_, select

from ..extensions import db
from ..models import Pair, Person, Programme, ProgrammeCoordinator, SessionLog, User, utcnow
from ..models.pair import RAN_PAIR_STATES
from ..settings import settings
from . import jp
from .logbook import local_today
from .participant_errors import CertificateError
from .timefmt import format_day, format_duration

LIVE_OR_DONE = RAN_PAIR_STATES
FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu",
             "/usr/share/fonts/TTF", "/usr/share/fonts/truetype", "/usr/local/share/fonts")


@dataclass
class CertificateLine:
    pair: Pair
    role: str  # the certified person's role in this pair
    partner: Person
    sessions: int = 0
    minutes: int = 0
    first: date | None = None
    last: date | None = None


@dataclass
class Certificate:
    person: Person
    programme: Programme
    lines: list[CertificateLine]
    tally: jp.PersonJp
    coordinators: list[str]
    ready: bool
    issued_at: datetime = field(default_factory=utcnow)

    @property
    def rule(self) -> jp.JpRule:
        return jp.rule_for(self.programme)

    @property
    def minutes(self) -> int:
        return self.tally.minutes

    @property
    def sessions(self) -> int:
        return self.tally.sessions

    @property
    def jp_text(self) -> str:
        return self.tally.jp_text

    @property
    def ready_on(self) -> date:
        return self.programme.end_date


def _pairs_of(person: Person, programme_id: int | None = None) -> list[Pair]:
    stmt = (select(Pair).where(or_(Pair.mentor_id == person.id, Pair.mentee_id == person.id),
                               Pair.status.in_(LIVE_OR_DONE)).order_by(Pair.id))
    if programme_id is not None:
        stmt = stmt.where(Pair.programme_id == programme_id)
    return list(db.session.scalars(stmt))


def programmes_for(person: Person) -> list[Programme]:
    """Programmes in which the person mentors or is mentored (the certificates they can have)."""
    seen: dict[int, Programme] = {}
    for pair in _pairs_of(person):
        seen.setdefault(pair.programme_id, pair.programme)
    return sorted(seen.values(), key=lambda p: (p.start_date, p.id), reverse=True)


def coordinator_names(programme: Programme) -> list[str]:
    users = db.session.scalars(
        select(User).join(ProgrammeCoordinator, ProgrammeCoordinator.user_id == User.id)
        .where(ProgrammeCoordinator.programme_id == programme.id).order_by(User.id))
    # a name, never an e-mail address; an account without a person signs by its role
    return [u.person.name if u.person else _("Programme coordinator") for u in users]


def is_ready(person: Person, programme: Programme, pairs: list[Pair],
             now: datetime | None = None) -> bool:
    if local_today(person, now) >= programme.end_date:
        return True
    return bool(pairs) and all(p.status in ("ended", "completed") for p in pairs)


def build(person: Person, programme: Programme, *, now: datetime | None = None) -> Certificate:
    """The certificate's content. Raises `no_certificate` when the person has no pair here."""
    pairs = _pairs_of(person, programme.id)
    if not pairs:
        raise CertificateError("no_certificate")
    lines = {p.id: CertificateLine(p, p.member_role(person.id) or "",
                                   p.mentee if p.mentor_id == person.id else p.mentor)
             for p in pairs}
    logs = db.session.scalars(select(SessionLog).where(
        SessionLog.pair_id.in_(list(lines)), SessionLog.status == "confirmed")
        .order_by(SessionLog.held_on))
    for log in logs:
        line = lines[log.pair_id]
        line.sessions += 1
        line.minutes += log.credited_minutes
        line.first = min(line.first or log.held_on, log.held_on)
        line.last = max(line.last or log.held_on, log.held_on)
    tally = jp.person_jp(person.id, programme_id=programme.id)
    return Certificate(person=person, programme=programme, lines=list(lines.values()),
                       tally=tally, coordinators=coordinator_names(programme),
                       ready=is_ready(person, programme, pairs, now),
                       issued_at=now or utcnow())


def ensure_ready(cert: Certificate, *, preview_allowed: bool) -> None:
    if not cert.ready and not preview_allowed:
        raise CertificateError("certificate_not_ready", date=cert.ready_on)
    if cert.tally.jp <= 0 and not preview_allowed:
        raise CertificateError("no_credited_jp")


# -- number and public verification ------------------------------------------------------------

def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="certificate-verify")


def number(cert: Certificate) -> str:
    """The certificate's number: one per person and programme, with a check part only this
    installation can compute (MM-<programme>-<person>-<check>)."""
    check = hmac.new(current_app.config["SECRET_KEY"].encode(),
                     f"{cert.programme.id}:{cert.person.id}".encode(),
                     hashlib.sha256).hexdigest()[:6].upper()
    return f"MM-{cert.programme.id:04d}-{cert.person.id:06d}-{check}"


def verify_url(cert: Certificate) -> str:
    """The public page that confirms this certificate (printed on it)."""
    token = _signer().dumps([cert.programme.id, cert.person.id])
    base = settings().app.base_url.rstrip("/")
    return f"{base}/certificates/verify/{token}"


def from_token(token: str) -> tuple[int, int] | None:
    """(programme id, person id) of a verification link, or None when it was not ours."""
    try:
        prog_id, person_id = _signer().loads(token[:200])
        return int(prog_id), int(person_id)
    except (BadSignature, ValueError, TypeError):
        return None


# -- texts shared by the HTML page and the PDF -------------------------------------------------

day = format_day  # the certificate's dates, as every page writes them


def rule_text(rule: jp.JpRule) -> str:
    """'1 JP = 45 minutes, ...' from the programme's rule, in the viewer's language."""
    parts = [_("1 JP = %(minutes)s minutes", minutes=rule.minutes_per_jp)]
    parts.append({
        "floor": _("the total is rounded down to whole JP"),
        "nearest": _("the total is rounded to the nearest whole JP"),
        "half": _("the total is rounded down to half JP"),
    }[rule.rounding])
    if rule.max_minutes_per_session:
        parts.append(_("at most %(minutes)s minutes count per session",
                       minutes=rule.max_minutes_per_session))
    return "; ".join(parts) + "."


def role_name(role: str) -> str:
    return str(_("Mentor") if role == "mentor" else _("Mentee"))


def texts(cert: Certificate) -> dict[str, str]:
    """Every sentence of the certificate, so the HTML page and the PDF say the same."""
    p, prog = cert.person, cert.programme
    ident = " · ".join(x for x in (f"NIP {p.nip}" if p.nip else "", p.position or "",
                                   p.unit.name if p.unit else "") if x)
    return {
        "title": _("Statement of mentoring hours"),
        "certifies": _("This certifies that"),
        "name": p.name,
        "ident": ident,
        "took_part": _("took part in structured mentoring (non-classical competency "
                       "development) in the programme"),
        "programme": prog.name,
        "period": _("Period: %(start)s – %(end)s", start=day(prog.start_date),
                    end=day(prog.end_date)),
        "total": _("Total: %(sessions)s confirmed sessions, %(duration)s (%(minutes)s "
                   "minutes), %(jp)s JP", sessions=cert.sessions,
                   duration=format_duration(cert.minutes), minutes=cert.minutes,
                   jp=cert.jp_text),
        "rule": _("JP credit rule: %(rule)s", rule=rule_text(cert.rule)),
        "counted": _("Only sessions confirmed by the mentor are counted."),
        "coordinator": _("Coordinator: %(names)s", names=", ".join(cert.coordinators) or "-"),
        "number": _("Certificate no. %(number)s", number=number(cert)),
        "verify": _("Check this certificate at %(url)s", url=verify_url(cert)),
        "issued": _("Issued on %(date)s by MentorMatch ASN.",
                    date=day(cert.issued_at.astimezone(ZoneInfo(p.timezone)).date())),
        "preview": _("Preview: this certificate becomes final on %(date)s or when the pairs "
                     "have ended.", date=day(cert.ready_on)),
    }


def table_head() -> list[str]:
    return [_("Role"), _("Partner"), _("Period"), _("Sessions"), _("Time")]


def table_rows(cert: Certificate) -> list[list[str]]:
    return [[role_name(ln.role), ln.partner.name,
             f"{day(ln.first)} – {day(ln.last)}" if ln.first else "-",
             str(ln.sessions), format_duration(ln.minutes)] for ln in cert.lines]


# -- PDF -------------------------------------------------------------------------------------

def font_files() -> tuple[Path, Path] | None:
    """(regular, bold) TTF files per `[certificate] font`, or None for the core font."""
    setting = settings().certificate.font.strip()
    if setting == "core":
        return None
    regular: Path | None
    if setting and setting != "auto":
        regular = Path(setting)
        if not regular.is_file():
            current_app.logger.warning("certificate font %s not found; using Helvetica", regular)
            return None
    else:
        regular = next((Path(d) / "DejaVuSans.ttf" for d in FONT_DIRS
                        if (Path(d) / "DejaVuSans.ttf").is_file()), None)
        if regular is None:
            return None
    bold = regular.with_name(f"{regular.stem}-Bold{regular.suffix}")
    return regular, bold if bold.is_file() else regular


_PUNCT = {"–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "...", "→": "->"}


def latin1(text: str) -> str:
    """Text for the core font: Latin-1 kept, accents of other letters dropped (Ṣ → S), dashes
    and quotes simplified, anything else '?'. Indonesian needs nothing more."""
    out = []
    for ch in text:
        ch = _PUNCT.get(ch, ch)
        try:
            ch.encode("latin-1")
            out.append(ch)
            continue
        except UnicodeEncodeError:
            pass
        base = "".join(c for c in unicodedata.normalize("NFKD", ch)
                       if not unicodedata.combining(c))
        try:
            base.encode("latin-1")
            out.append(base or "?")
        except UnicodeEncodeError:
            out.append("?")
    return "".join(out)


def render_pdf(cert: Certificate) -> bytes:
    """An A4 PDF with the content of the HTML certificate, in the viewer's language."""
    t = texts(cert)
    fonts = font_files()
    pdf = FPDF(format="A4")
    pdf.set_margins(18, 18, 18)
    pdf.set_auto_page_break(True, margin=18)
    clean: Callable[[str], str]
    if fonts:
        pdf.add_font("Cert", "", str(fonts[0]))
        pdf.add_font("Cert", "B", str(fonts[1]))
        family, clean = "Cert", (lambda s: s)
    else:
        family, clean = "helvetica", latin1
    locale = str(get_locale() or "id")
    pdf.set_lang(locale)
    pdf.set_title(clean(f"{t['title']} - {t['name']}"))
    pdf.set_author("MentorMatch ASN")
    pdf.set_creator("MentorMatch ASN")
    pdf.add_page()
    pdf.set_draw_color(11, 110, 79)
    pdf.set_line_width(0.8)
    pdf.rect(12, 12, pdf.w - 24, pdf.h - 24)

    def para(text: str, size: float = 11, style: str = "", align: str = "C",
             gap: float = 2) -> None:
        pdf.set_font(family, style, size)
        pdf.multi_cell(0, size * 0.55, clean(text), align=align, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(gap)

    if not cert.ready:
        pdf.set_text_color(179, 38, 30)
        para(t["preview"], 10, "B")
        pdf.set_text_color(0, 0, 0)
    para(t["title"], 18, "B", gap=6)
    para(t["certifies"])
    para(t["name"], 16, "B")
    if t["ident"]:
        para(t["ident"], 10)
    para(t["took_part"])
    para(t["programme"], 13, "B")
    para(t["period"], 10, gap=5)
    pdf.set_font(family, "", 9.5)
    with pdf.table(col_widths=(22, 50, 52, 18, 18), line_height=5.5,
                   text_align=("LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT")) as table:
        for cells in [table_head(), *table_rows(cert)]:
            row = table.row()
            for cell in cells:
                row.cell(clean(cell))
    pdf.ln(5)
    para(t["total"], 12, "B", align="L")
    para(t["rule"], 10, align="L")
    para(t["counted"], 10, align="L")
    para(t["coordinator"], 10, align="L", gap=6)
    para(t["issued"], 10, align="L")
    para(t["number"], 10, "B", align="L")
    para(t["verify"], 8, align="L")
    return bytes(pdf.output())
