"""Coordinator pages: programmes, participants by filters, rounds (solve, review, adjust,
approve), the audit log; the mentee's preference page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import (
    AuditLog,
    Competency,
    Location,
    Pair,
    Participant,
    Person,
    Programme,
    Proposal,
    Round,
    Unit,
    User,
)
from ..services import programmes, review, rounds, solver_bridge
from ..services.people import filter_choices_grades
from ..services.programmes import Filters, ProgrammeError
from ..services.rounds import RoundBusy
from ..services.solver_bridge import RULE_KEYS, criteria_of
from ..services.timefmt import format_local, tz_abbrev
from ..settings import settings
from .access import found, guard, requires
from .labels import label, labels  # noqa: F401  (re-exported: the table lives in labels.py)
from .transaction import refused

bp = Blueprint("rounds", __name__, url_prefix="/programmes")
REFERENCE_MONDAY = datetime(2026, 1, 5, tzinfo=UTC)


def _locale() -> str:
    return "en" if str(get_locale()) == "en" else "id"


def _babel_locale() -> str:
    return "en_GB" if _locale() == "en" else "id_ID"


def local_slot(person: Person, weekday_utc: int, minute_utc: int) -> str:
    """A weekly UTC slot as the person reads it: 'Sel 09.00 WIB' (day names from Babel)."""
    return _slot_text(person.timezone, weekday_utc, minute_utc, _babel_locale())


@lru_cache(maxsize=4096)
def _slot_text(tz: str, weekday_utc: int, minute_utc: int, locale: str) -> str:
    """Pure, and asked twice per review row: formatted once per (zone, slot, language)."""
    at = REFERENCE_MONDAY + timedelta(days=weekday_utc, minutes=minute_utc)
    loc = at.astimezone(ZoneInfo(tz))
    return f"{format_datetime(loc, 'EEE HH:mm', locale=locale)} {tz_abbrev(tz)}"


@bp.context_processor
def _label_helpers() -> dict[str, Any]:
    return {"label": label, "local_time_of": _fmt_at}


@bp.app_context_processor
def _preference_links() -> dict[str, Any]:
    """For the mentee's home: programmes where they may rank mentors now (called lazily)."""
    def invitations() -> list[Programme]:
        if not current_user.is_authenticated:
            return []
        return programmes.preference_invitations(current_user.person_id)

    return {"preference_invitations": invitations}


def _fmt_at(value: datetime | None) -> str:
    if value is None:
        return "-"
    tz = (current_user.person.timezone if current_user.is_authenticated and current_user.person
          else settings().app.default_timezone)
    return format_local(value, tz, _locale())


# --------------------------------------------------------------------------- helpers


def _programme(pid: int) -> Programme:
    prog = found(db.session.get(Programme, pid))
    guard("programme.manage", prog)
    return prog


def _round(pid: int, rid: int) -> tuple[Programme, Round]:
    prog = _programme(pid)
    rnd = found(db.session.get(Round, rid))
    if rnd.programme_id != prog.id:
        found(None)
    return prog, rnd


def _choices() -> dict:
    return {
        "units": db.session.scalars(select(Unit).order_by(Unit.name)).all(),
        "cities": sorted(set(db.session.scalars(select(Location.city)).all()) - {None}),
        "competencies": db.session.scalars(
            select(Competency).where(Competency.active.is_(True)).order_by(Competency.code)).all(),
        "grade_choices": filter_choices_grades(),
        "override_candidates": programmes.OVERRIDE_CANDIDATES,
        "roundings": programmes.ROUNDINGS,
    }


def _int(name: str) -> int:
    value = request.form.get(name, "")
    return int(value) if value.isdigit() else 0


def _num(name: str) -> int | None:
    value = request.form.get(name, "").strip()
    return int(value) if value.isdigit() else None


def _programme_values() -> dict:
    form = request.form
    return {
        "name": form.get("name", "")[:200],
        "unit_id": _int("unit_id") or None,
        "start_date": programmes.parse_date(form.get("start_date", "")),
        "end_date": programmes.parse_date(form.get("end_date", "")),
        "session_minutes": _num("session_minutes"),
        "interval_weeks": _num("interval_weeks"),
        "session_count": _num("session_count"),
        "mode_policy": form.get("mode_policy", "either"),
        "default_capacity": _num("default_capacity"),
        "preferences_enabled": bool(form.get("preferences_enabled")),
        "jp_rule": {"minutes_per_jp": _num("jp_minutes_per_jp"),
                    "rounding": form.get("jp_rounding", ""),
                    "max_minutes_per_session": _num("jp_max_minutes_per_session")},
        "override_policy": {"overridable": form.getlist("override_rule"),
                            "capacity_override": bool(form.get("capacity_override"))},
    }


def _form_values(prog: Programme | None) -> dict:
    if prog is None:
        return programmes.defaults()
    values = {k: getattr(prog, k) for k in programmes.FIELDS}
    values["jp_rule"] = programmes.jp_rule_of(prog)
    values["override_policy"] = programmes.override_policy(prog)
    return values


def _posted_values() -> dict:
    """The form as typed, to show it again after an error."""
    form = request.form
    values: dict[str, Any] = {k: form.get(k, "") for k in programmes.FIELDS}
    values["preferences_enabled"] = bool(form.get("preferences_enabled"))
    values["jp_rule"] = {"minutes_per_jp": form.get("jp_minutes_per_jp", ""),
                         "rounding": form.get("jp_rounding", ""),
                         "max_minutes_per_session": form.get("jp_max_minutes_per_session", "")}
    values["override_policy"] = {"overridable": form.getlist("override_rule"),
                                 "capacity_override": bool(form.get("capacity_override"))}
    return values


# --------------------------------------------------------------------------- programmes


@bp.get("/")
@requires("programme.list")
def index():
    return render_template("rounds/programmes.html",
                           programmes=programmes.for_user(current_user))


@bp.route("/new", methods=["GET", "POST"])
@requires("programme.create")
def new():
    values = _form_values(None)
    if request.method == "POST":
        try:
            prog = programmes.create(current_user, **_programme_values())
        except ProgrammeError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            values = _posted_values()
        else:
            db.session.commit()
            flash(_("Programme created."), "ok")
            return redirect(url_for(".show", pid=prog.id))
    return render_template("rounds/programme_form.html", values=values, prog=None,
                           **_choices())


@bp.route("/<int:pid>/edit", methods=["GET", "POST"])
@requires("programme.list")
def edit(pid: int):
    prog = _programme(pid)
    values = _form_values(prog)
    if request.method == "POST":
        try:
            programmes.update(prog, current_user, **_programme_values())
        except ProgrammeError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            values = _posted_values()
        else:
            db.session.commit()
            flash(_("Programme saved."), "ok")
            return redirect(url_for(".show", pid=prog.id))
    return render_template("rounds/programme_form.html", values=values, prog=prog,
                           **_choices())


@bp.get("/<int:pid>")
@requires("programme.list")
def show(pid: int):
    prog = _programme(pid)
    f = Filters.from_dict(request.args)
    role = request.args.get("role", "mentee")
    role = role if role in ("mentor", "mentee") else "mentee"
    preview = (programmes.count_candidates(prog, role, f)
               if request.args.get("preview") else None)
    sizes = review.participant_counts(prog)
    find = _find()
    mq = request.args.get("mq", "")[:100]
    mentor_page = review.participants(prog, "mentor", q=mq, page=_arg_page("mpage"))
    return render_template(
        "rounds/programme.html", prog=prog, f=f, role=role, preview=preview, sizes=sizes,
        mentor_page=mentor_page, mq=mq, find=find, picking=_picking(sizes, find),
        live_of=programmes.live_mentees_by_mentor(
            prog, [m.person_id for m in mentor_page.items]),
        mentors=review.pick(prog, "mentor", sizes, find["mentor"]),
        mentees=review.pick(prog, "mentee", sizes, find["mentee"]),
        rounds=rounds.for_programme(prog), jp=programmes.jp_rule_of(prog), **_choices())


@bp.post("/<int:pid>/participants")
@requires("programme.list")
def add_participants(pid: int):
    prog = _programme(pid)
    try:
        n = programmes.add_participants(prog, request.form.get("role", ""),
                                        Filters.from_dict(request.form), current_user)
    except ProgrammeError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(_("%(n)d participant(s) added.", n=n), "ok")
    return redirect(url_for(".show", pid=prog.id))


@bp.post("/<int:pid>/mentors/<int:person_id>/withdraw")
@requires("programme.list")
def withdraw(pid: int, person_id: int):
    prog = _programme(pid)
    try:
        ended = programmes.withdraw_mentor(prog, person_id, current_user,
                                           request.form.get("reason", ""))
    except ProgrammeError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(_("The mentor was withdrawn; %(n)d pair(s) ended and their mentees can be "
                "rematched. Everyone concerned was told by e-mail.", n=len(ended)), "ok")
    return redirect(url_for(".show", pid=prog.id))


@bp.post("/<int:pid>/preferences")
@requires("programme.list")
def preferences(pid: int):
    prog = _programme(pid)
    mentor_ids = [int(v) for v in request.form.getlist("mentor_id") if v.isdigit()]
    try:
        programmes.set_preferences(prog, _int("mentee_id"), mentor_ids, current_user)
    except ProgrammeError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(_("Preferences saved."), "ok")
    return redirect(url_for(".show", pid=prog.id))


@bp.get("/<int:pid>/audit")
@requires("programme.list")
def audit_log(pid: int):
    """Who ran, changed, approved what and when (newest first, paginated)."""
    prog = _programme(pid)
    size = settings().rounds.audit_page_size
    page = max(1, request.args.get("page", 1, type=int) or 1)
    total = db.session.scalar(select(func.count(AuditLog.id)).where(
        AuditLog.programme_id == prog.id)) or 0
    pages = max(1, -(-total // size))
    page = min(page, pages)
    rows = list(db.session.scalars(select(AuditLog).where(AuditLog.programme_id == prog.id)
                                   .order_by(AuditLog.at.desc(), AuditLog.id.desc())
                                   .offset((page - 1) * size).limit(size)))
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(
        {r.actor_id for r in rows if r.actor_id} or {0})))}
    person_ids = {v for r in rows for k, v in (r.details or {}).items()
                  if k in ("mentee_id", "mentor_id") and isinstance(v, int)}
    names = dict(db.session.execute(select(Person.id, Person.name).where(
        Person.id.in_(person_ids or {0}))).all())
    round_ids = {r.object_id for r in rows if r.object_type == "round" and r.object_id}
    round_ids |= {r.details.get("round_id") for r in rows
                  if isinstance((r.details or {}).get("round_id"), int)}
    round_names = dict(db.session.execute(select(Round.id, Round.name).where(
        Round.id.in_(round_ids or {0}))).all())
    pair_names = _audit_pairs(rows)
    answerers = dict(db.session.execute(select(Person.id, Person.name).where(Person.id.in_(
        {(r.details or {}).get("attendee_person_id") for r in rows} - {None} or {0}))).all())
    entries = []
    for r in rows:
        d = r.details or {}
        rid = r.object_id if r.object_type == "round" else d.get("round_id")
        who = users.get(r.actor_id)
        who_name = (who.person.name if who and who.person else who.email) if who else None
        if who_name is None and d.get("attendee_person_id") in answerers:
            # an answer from the person's own calendar or a link: them, not "System"
            who_name = answerers[d["attendee_person_id"]]
            if d.get("source") in SOURCE_LABELS:
                who_name += f" ({SOURCE_LABELS[d['source']]})"
        people_text = " – ".join(names[d[k]] for k in ("mentee_id", "mentor_id")
                                 if isinstance(d.get(k), int) and d[k] in names)
        entries.append({
            "at": r.at, "action": label("action", r.action), "who": who_name,
            "round": round_names.get(rid), "round_id": rid,
            "people": people_text or pair_names.get((r.object_type, r.object_id), ""),
            "count": d.get("count", d.get("pairs") if isinstance(d.get("pairs"), int) else None),
            "change": _audit_change(d),
        })
    return render_template("rounds/audit.html", prog=prog, entries=entries, page=page,
                           pages=pages, total=total)


SOURCE_LABELS = {"imap": _l("by e-mail"), "link": _l("by link"), "upload": _l("by upload"),
                 "app": _l("in the app"), "web": _l("in the app"), "api": _l("by API")}


def _audit_pairs(rows: list[AuditLog]) -> dict[tuple[str, int], str]:
    """'Mentee – Mentor' for entries about a pair, or its series, session or attendee."""
    from ..models import Attendee, SessionSeries
    from ..models import Session as SessionRow

    want: dict[str, set[int]] = {}
    for r in rows:
        if r.object_id and r.object_type in ("pair", "sessionseries", "session", "attendee"):
            want.setdefault(r.object_type, set()).add(r.object_id)
    series_of: dict[tuple[str, int], int] = {}
    for kind, model, col in (("session", SessionRow, SessionRow.series_id),
                             ("attendee", Attendee, Attendee.series_id)):
        for oid, sid in db.session.execute(select(model.id, col).where(
                model.id.in_(want.get(kind, set()) or {0}))):
            series_of[(kind, oid)] = sid
    for sid in want.get("sessionseries", set()):
        series_of[("sessionseries", sid)] = sid
    pair_of: dict[tuple[str, int], int | None] = {}
    series_pair = dict(db.session.execute(select(SessionSeries.id, SessionSeries.pair_id).where(
        SessionSeries.id.in_(set(series_of.values()) or {0}))).all())
    for key, sid in series_of.items():
        pair_of[key] = series_pair.get(sid)
    for pid in want.get("pair", set()):
        pair_of[("pair", pid)] = pid
    mentee, mentor = aliased(Person), aliased(Person)
    names = {pid: f"{a} – {b}" for pid, a, b in db.session.execute(
        select(Pair.id, mentee.name, mentor.name).join(mentee, mentee.id == Pair.mentee_id)
        .join(mentor, mentor.id == Pair.mentor_id)
        .where(Pair.id.in_({p for p in pair_of.values() if p} or {0})))}
    return {key: names[pid] for key, pid in pair_of.items() if pid in names}


def _audit_change(d: dict) -> str:
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


# --------------------------------------------------------------------------- rounds


@bp.post("/<int:pid>/rounds")
@requires("programme.list")
def create_round(pid: int):
    prog = _programme(pid)
    try:
        rnd = rounds.create(prog, current_user, name=request.form.get("name", ""),
                            filters=request.form, kind=request.form.get("kind", "initial"))
    except ProgrammeError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for(".show", pid=prog.id))
    db.session.commit()
    return redirect(url_for(".round_page", pid=prog.id, rid=rnd.id))


def _people(ids: set[int]) -> dict[int, Person]:
    """People by id in one query (unit and location joined)."""
    return {p.id: p for p in db.session.scalars(select(Person).where(
        Person.id.in_(ids or {0}))).unique()}


def _rows(rnd: Round, page: list[Proposal], people: dict[int, Person]) -> list[dict]:
    """The page's proposals as the table shows them (already searched, sorted and cut)."""
    loc = _locale()
    cons = {(c.mentee_id, c.mentor_id): c for c in rnd.constraints}
    rows = []
    for p in page:
        mentee, mentor = people[p.mentee_id], people[p.mentor_id]
        c = cons.get((p.mentee_id, p.mentor_id))
        rows.append({
            "p": p, "mentee": mentee, "mentor": mentor,
            "mentee_time": local_slot(mentee, p.weekday_utc, p.start_minute_utc),
            "mentor_time": local_slot(mentor, p.weekday_utc, p.start_minute_utc),
            "reason": p.reason_en if loc == "en" else p.reason_id,
            "locked": bool(c and c.kind == "lock"),
        })
    return rows


def _infeasible(rnd: Round, people: dict[int, Person]) -> list[str]:
    """Locks / hand-set pairs the last solve could not keep, in words, with names."""
    out = []
    for x in (rnd.stats or {}).get("infeasible", []):
        mentee, mentor = people.get(x.get("mentee_id")), people.get(x.get("mentor_id"))
        if x.get("code") == "rules":
            why = _("it breaks %(rules)s", rules=solver_bridge.rule_names(x.get("rules") or []))
        else:
            why = label("infeasible", x.get("code"), labels()["infeasible"]["other"])
        out.append(_("%(mentee)s – %(mentor)s could not be kept: %(why)s.",
                     mentee=mentee.name if mentee else "?",
                     mentor=mentor.name if mentor else "?", why=why))
    return out


def _find() -> dict[str, str]:
    """The searches that narrow the mentee / mentor lists of a large programme's forms."""
    return {role: request.args.get(f"find_{role}", "")[:100] for role in ("mentee", "mentor")}


def _picking(sizes: dict[str, int], find: dict[str, str]) -> bool:
    return any(find.values()) or max(sizes.values()) > review.PICK_LIMIT


def _arg_page(name: str) -> int:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and 0 < len(value) < 7 else 1


@bp.get("/<int:pid>/rounds/<int:rid>")
@requires("programme.list")
def round_page(pid: int, rid: int):
    prog, rnd = _round(pid, rid)
    stats = rnd.stats or {}
    q = request.args.get("q", "")[:100]
    sort = request.args.get("sort", "score")
    sort = sort if sort in review.SORTS else "score"
    # one page of each long list, searched, sorted and cut in the database
    proposals = review.proposals(rnd, q=q, sort=sort, page=_arg_page("page"), locale=_locale())
    n_proposals = proposals.total if not q.strip() else review.proposal_count(rnd)
    missing, missing_by_reason = review.unmatched(rnd, page=_arg_page("upage"))
    published = (review.published(rnd, page=_arg_page("ppage"))
                 if rnd.status == "approved" else None)
    ids = ({x.mentee_id for x in proposals.items} | {x.mentor_id for x in proposals.items}
           | {u.mentee_id for u in missing.items} | {c.mentee_id for c in rnd.constraints}
           | {c.mentor_id for c in rnd.constraints})
    for x in stats.get("infeasible", []):
        ids |= {x.get("mentee_id"), x.get("mentor_id")} - {None}
    if published is not None:
        ids |= {p.mentee_id for p in published.items} | {p.mentor_id for p in published.items}
    people = review.people(ids)
    before = (rounds.previous_mentors(prog.id, [p.mentee_id for p in published.items])
              if rnd.kind == "rematch" and published is not None and published.items else {})
    sizes = review.participant_counts(prog)
    find = _find()
    return render_template(
        "rounds/round.html", prog=prog, rnd=rnd, counts=rounds.counts(rnd),
        to_publish=rounds.to_publish(rnd) if rnd.status == "solved" else {},
        f=Filters.from_dict(rnd.filters), criteria=criteria_of(rnd), rule_keys=RULE_KEYS,
        rows=_rows(rnd, proposals.items, people), proposals=proposals,
        n_proposals=n_proposals, people=people, missing=missing,
        missing_by_reason=missing_by_reason,
        unmatched=[(people[u.mentee_id], u.reason) for u in missing.items],
        infeasible=_infeasible(rnd, people),
        published=published.items if published is not None else [], published_page=published,
        before=before, find=find, picking=_picking(sizes, find),
        mentors=review.pick(prog, "mentor", sizes, find["mentor"]),
        mentees=review.pick(prog, "mentee", sizes, find["mentee"]),
        state=rounds.progress_of(rnd),
        overridable=[label("rule", r) for r in programmes.override_policy(prog)["overridable"]],
        sort=sort, q=q, **_choices())


@bp.get("/progress.js")
@requires()
def progress_js():
    """The page's small polling script, served from 'self' (the CSP forbids inline scripts)."""
    body = render_template("rounds/progress.js")
    return current_app.response_class(body, mimetype="text/javascript",
                                      headers={"Cache-Control": "private, max-age=300"})


@bp.get("/<int:pid>/rounds/<int:rid>/progress")
@requires("programme.list")
def progress(pid: int, rid: int):
    _prog, rnd = _round(pid, rid)
    state = rounds.progress_of(rnd)
    p = state["progress"]
    state["labels"] = {"status": label("status", rnd.status),
                       "phase": label("phase", p.get("phase"), labels()["phase"]["solving"])}
    return jsonify(state)


def _back(prog: Programme, rnd: Round):
    return redirect(url_for(".round_page", pid=prog.id, rid=rnd.id))


def _act(fn, ok: str):
    try:
        result = fn()
    except ProgrammeError as exc:
        refused(exc)
        return None
    flash(ok, "ok")
    return result if result is not None else True


@bp.post("/<int:pid>/rounds/<int:rid>/filters")
@requires("programme.list")
def round_filters(pid: int, rid: int):
    prog, rnd = _round(pid, rid)
    _act(lambda: rounds.set_filters(rnd, request.form, current_user), _("Filters saved."))
    return _back(prog, rnd)


@bp.post("/<int:pid>/rounds/<int:rid>/criteria")
@requires("programme.list")
def round_criteria(pid: int, rid: int):
    prog, rnd = _round(pid, rid)
    _act(lambda: rounds.set_criteria(rnd, request.form, current_user), _("Criteria saved."))
    return _back(prog, rnd)


@bp.post("/<int:pid>/rounds/<int:rid>/solve")
@requires("programme.list")
def solve(pid: int, rid: int):
    prog, rnd = _round(pid, rid)
    try:
        rounds.queue(rnd, current_user)
    except RoundBusy:
        db.session.rollback()
        flash(_("This round is already waiting for the solver or being solved."), "ok")
    except ProgrammeError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(_("Solving requested; this page shows the progress."), "ok")
    return _back(prog, rnd)


def _pair_ids() -> tuple[int, int]:
    return _int("mentee_id"), _int("mentor_id")


@bp.post("/<int:pid>/rounds/<int:rid>/lock")
@requires("programme.list")
def lock(pid: int, rid: int):
    prog, rnd = _round(pid, rid)
    _act(lambda: rounds.lock(rnd, *_pair_ids(), current_user), _("Pair locked."))
    return _back(prog, rnd)


@bp.post("/<int:pid>/rounds/<int:rid>/forbid")
@requires("programme.list")
def forbid(pid: int, rid: int):
    prog, rnd = _round(pid, rid)
    _act(lambda: rounds.forbid(rnd, *_pair_ids(), current_user), _("Pair forbidden."))
    return _back(prog, rnd)


@bp.post("/<int:pid>/rounds/<int:rid>/clear")
@requires("programme.list")
def clear(pid: int, rid: int):
    prog, rnd = _round(pid, rid)
    _act(lambda: rounds.clear(rnd, _int("constraint_id"), current_user),
         _("Adjustment removed."))
    return _back(prog, rnd)


@bp.post("/<int:pid>/rounds/<int:rid>/hand")
@requires("programme.list")
def by_hand(pid: int, rid: int):
    prog, rnd = _round(pid, rid)
    _act(lambda: rounds.set_by_hand(rnd, *_pair_ids(), current_user,
                                    request.form.get("override_reason", "")),
         _("Pair set by hand; re-solve to apply."))
    return _back(prog, rnd)


@bp.post("/<int:pid>/rounds/<int:rid>/approve")
@requires("programme.list")
def approve(pid: int, rid: int):
    prog, rnd = _round(pid, rid)
    try:
        result = rounds.approve(rnd, current_user)
        db.session.commit()
    except ProgrammeError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _back(prog, rnd)
    except IntegrityError:  # a racing double click lost on the unique live-pair index
        db.session.rollback()
        result = rounds.Approval(already=True)
    if result.already:
        flash(_("This round is already approved; nothing was published again."), "ok")
        return _back(prog, rnd)
    flash(_("Approved: %(n)d pair(s) published and invited.", n=len(result.created)), "ok")
    if result.short:
        flash(_("%(n)d pair(s) get fewer sessions than planned because the programme ends "
                "first.", n=len(result.short)), "error")
    if result.no_time:
        flash(_("%(n)d pair(s) were not published: no session fits before the programme "
                "ends.", n=len(result.no_time)), "error")
    if result.skipped:
        flash(_("%(n)d mentee(s) got a mentor elsewhere since the solve and were left out.",
                n=result.skipped), "error")
    if result.notified:
        flash(_("The rematched mentees and their new mentors were told by e-mail."), "ok")
    return _back(prog, rnd)


@bp.get("/<int:pid>/rounds/<int:rid>/proposals/<int:proposal_id>")
@requires("programme.list")
def pair(pid: int, rid: int, proposal_id: int):
    prog, rnd = _round(pid, rid)
    prop = found(db.session.get(Proposal, proposal_id))
    if prop.round_id != rnd.id:
        found(None)
    people = _people({prop.mentee_id, prop.mentor_id})
    mentee, mentor = people[prop.mentee_id], people[prop.mentor_id]
    return render_template(
        "rounds/pair.html", prog=prog, rnd=rnd, prop=prop, mentee=mentee, mentor=mentor,
        reason=prop.reason_en if _locale() == "en" else prop.reason_id,
        mentee_time=local_slot(mentee, prop.weekday_utc, prop.start_minute_utc),
        mentor_time=local_slot(mentor, prop.weekday_utc, prop.start_minute_utc))


# --------------------------------------------------------------------------- mentee


@bp.route("/<int:pid>/my-preferences", methods=["GET", "POST"])
@requires()
def my_preferences(pid: int):
    """A mentee ranks up to 3 of their suggested mentors (when the programme allows it)."""
    prog = found(db.session.get(Programme, pid))
    me = db.session.scalar(select(Participant).where(
        Participant.programme_id == prog.id, Participant.role == "mentee",
        Participant.person_id == current_user.person_id, Participant.active.is_(True)))
    if me is None or not prog.preferences_enabled:
        found(None)
    suggested = solver_bridge.suggestions(prog, me.person_id)
    if request.method == "POST":
        ids = [int(v) for v in request.form.getlist("mentor_id") if v.isdigit()]
        try:
            programmes.set_preferences(prog, me.person_id, ids, current_user,
                                       allowed={s["person"].id for s in suggested})
        except ProgrammeError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("Preferences saved."), "ok")
    chosen = programmes.preferences_of(prog, me.person_id)
    known = {s["person"].id for s in suggested}
    names = dict(db.session.execute(select(Person.id, Person.name).where(
        Person.id.in_(chosen or [0]))).all())
    return render_template("rounds/my_preferences.html", prog=prog, suggested=suggested,
                           chosen=chosen, names=names, known=known,
                           open_round=programmes.open_round_exists(prog))
