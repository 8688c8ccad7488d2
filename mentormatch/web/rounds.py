"""Coordinator pages: programmes, participants by filters, rounds (solve, review, adjust,
approve)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

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
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Competency, Location, Participant, Person, Programme, Proposal, Round, Unit
from ..services import programmes, rounds
from ..services.programmes import Filters, ProgrammeError
from ..services.rounds import NeedsOverride, RoundError
from ..services.solver_bridge import OVERRIDABLE, RULE_KEYS, criteria_of
from ..services.timefmt import tz_abbrev
from .access import found, guard, requires

bp = Blueprint("rounds", __name__, url_prefix="/programmes")
REFERENCE_MONDAY = datetime(2026, 1, 5, tzinfo=UTC)
DAYS = {"id": ("Sen", "Sel", "Rab", "Kam", "Jum", "Sab", "Min"),
        "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")}


def _locale() -> str:
    return "en" if str(get_locale()) == "en" else "id"


def local_slot(person: Person, weekday_utc: int, minute_utc: int) -> str:
    """A weekly UTC slot as the person reads it: 'Sel 09:00 WIB'."""
    at = REFERENCE_MONDAY + timedelta(days=weekday_utc, minutes=minute_utc)
    loc = at.astimezone(ZoneInfo(person.timezone))
    return f"{DAYS[_locale()][loc.weekday()]} {loc:%H:%M} {tz_abbrev(person.timezone)}"


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
    }


def _int(name: str) -> int:
    value = request.form.get(name, "")
    return int(value) if value.isdigit() else 0


def _programme_values() -> dict:
    form = request.form
    return {
        "name": form.get("name", "")[:200],
        "unit_id": _int("unit_id") or None,
        "start_date": programmes.parse_date(form.get("start_date", "")),
        "end_date": programmes.parse_date(form.get("end_date", "")),
        "session_minutes": _int("session_minutes"),
        "interval_weeks": _int("interval_weeks"),
        "session_count": _int("session_count"),
        "mode_policy": form.get("mode_policy", "either"),
        "default_capacity": _int("default_capacity"),
        "preferences_enabled": bool(form.get("preferences_enabled")),
    }


@bp.get("/")
@requires("programme.list")
def index():
    return render_template("rounds/programmes.html",
                           programmes=programmes.for_user(current_user))


@bp.route("/new", methods=["GET", "POST"])
@requires("programme.create")
def new():
    values = programmes.defaults()
    if request.method == "POST":
        try:
            prog = programmes.create(current_user, **_programme_values())
        except ProgrammeError as exc:
            flash(_(str(exc)), "error")
            values = dict(request.form)
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
    values = {k: getattr(prog, k) for k in programmes.FIELDS}
    if request.method == "POST":
        try:
            programmes.update(prog, current_user, **_programme_values())
        except ProgrammeError as exc:
            db.session.rollback()
            flash(_(str(exc)), "error")
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
    preview = (programmes.count_candidates(prog, role, f)
               if request.args.get("preview") else None)
    return render_template(
        "rounds/programme.html", prog=prog, f=f, role=role, preview=preview,
        mentors=programmes.participants(prog, "mentor"),
        mentees=programmes.participants(prog, "mentee"),
        rounds=rounds.for_programme(prog), **_choices())


@bp.post("/<int:pid>/participants")
@requires("programme.list")
def add_participants(pid: int):
    prog = _programme(pid)
    try:
        n = programmes.add_participants(prog, request.form.get("role", ""),
                                        Filters.from_dict(request.form), current_user)
    except ProgrammeError as exc:
        flash(_(str(exc)), "error")
    else:
        db.session.commit()
        flash(_("%(n)d participant(s) added.", n=n), "ok")
    return redirect(url_for(".show", pid=prog.id))


@bp.post("/<int:pid>/preferences")
@requires("programme.list")
def preferences(pid: int):
    prog = _programme(pid)
    mentor_ids = [int(v) for v in request.form.getlist("mentor_id") if v.isdigit()]
    try:
        programmes.set_preferences(prog, _int("mentee_id"), mentor_ids, current_user)
    except ProgrammeError as exc:
        flash(_(str(exc)), "error")
    else:
        db.session.commit()
        flash(_("Preferences saved."), "ok")
    return redirect(url_for(".show", pid=prog.id))


@bp.post("/<int:pid>/rounds")
@requires("programme.list")
def create_round(pid: int):
    prog = _programme(pid)
    try:
        rnd = rounds.create(prog, current_user, name=request.form.get("name", ""),
                            filters=request.form, kind=request.form.get("kind", "initial"))
    except RoundError as exc:
        flash(_(str(exc)), "error")
        return redirect(url_for(".show", pid=prog.id))
    db.session.commit()
    return redirect(url_for(".round_page", pid=prog.id, rid=rnd.id))


def _rows(rnd: Round) -> list[dict]:
    loc = _locale()
    people = {p.id: p for p in db.session.scalars(select(Person).where(Person.id.in_(
        [x.mentee_id for x in rnd.proposals] + [x.mentor_id for x in rnd.proposals]
        + [u.mentee_id for u in rnd.unmatched] or [0]))).unique()}
    cons = {(c.mentee_id, c.mentor_id): c for c in rnd.constraints}
    rows = []
    for p in rnd.proposals:
        mentee, mentor = people[p.mentee_id], people[p.mentor_id]
        c = cons.get((p.mentee_id, p.mentor_id))
        rows.append({
            "p": p, "mentee": mentee, "mentor": mentor,
            "mentee_time": local_slot(mentee, p.weekday_utc, p.start_minute_utc),
            "mentor_time": local_slot(mentor, p.weekday_utc, p.start_minute_utc),
            "reason": p.reason_en if loc == "en" else p.reason_id,
            "locked": bool(c and c.kind == "lock"),
        })
    sort = request.args.get("sort", "score")
    q = request.args.get("q", "").strip().lower()
    if q:
        rows = [r for r in rows if q in (r["mentee"].name + " " + r["mentor"].name + " "
                                        + r["reason"]).lower()]
    keys = {"score": lambda r: -r["p"].score, "mentee": lambda r: r["mentee"].name,
            "mentor": lambda r: r["mentor"].name}
    rows.sort(key=keys.get(sort, keys["score"]))
    return rows


@bp.get("/<int:pid>/rounds/<int:rid>")
@requires("programme.list")
def round_page(pid: int, rid: int):
    prog, rnd = _round(pid, rid)
    unmatched = [(db.session.get(Person, u.mentee_id), u.reason) for u in rnd.unmatched]
    people = {p.id: p for p in db.session.scalars(select(Person).where(Person.id.in_(
        [c.mentee_id for c in rnd.constraints] + [c.mentor_id for c in rnd.constraints]
        or [0]))).unique()}
    return render_template(
        "rounds/round.html", prog=prog, rnd=rnd, counts=rounds.counts(rnd),
        f=Filters.from_dict(rnd.filters), criteria=criteria_of(rnd), rule_keys=RULE_KEYS,
        rows=_rows(rnd), unmatched=unmatched, people=people,
        mentors=programmes.participants(prog, "mentor"),
        mentees=programmes.participants(prog, "mentee"),
        state=rounds.progress_of(rnd), overridable=sorted(OVERRIDABLE),
        sort=request.args.get("sort", "score"), q=request.args.get("q", ""), **_choices())


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
    return jsonify(rounds.progress_of(rnd))


def _back(prog: Programme, rnd: Round):
    return redirect(url_for(".round_page", pid=prog.id, rid=rnd.id))


def _act(fn, ok: str):
    try:
        result = fn()
    except NeedsOverride as exc:
        db.session.rollback()
        flash(_("Warning: this pair breaks %(rules)s. Give a reason to override.",
                rules=", ".join(exc.violations)), "error")
        return None
    except RoundError as exc:
        db.session.rollback()
        flash(_(str(exc)), "error")
        return None
    db.session.commit()
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
    if _act(lambda: rounds.queue(rnd, current_user), _("Solving started.")):
        rounds.start_worker(current_app._get_current_object(), rnd.id)
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
    already = rnd.status == "approved"
    try:
        created = rounds.approve(rnd, current_user)
        db.session.commit()
    except RoundError as exc:
        db.session.rollback()
        flash(_(str(exc)), "error")
        return _back(prog, rnd)
    except IntegrityError:  # a racing double click lost on the unique live-pair index
        db.session.rollback()
        already, created = True, []
    if already or not created:
        flash(_("This round is already approved; nothing was published again."), "ok")
    else:
        flash(_("Approved: %(n)d pair(s) published and invited.", n=len(created)), "ok")
    return _back(prog, rnd)


@bp.get("/<int:pid>/rounds/<int:rid>/proposals/<int:proposal_id>")
@requires("programme.list")
def pair(pid: int, rid: int, proposal_id: int):
    prog, rnd = _round(pid, rid)
    prop = found(db.session.get(Proposal, proposal_id))
    if prop.round_id != rnd.id:
        found(None)
    mentee, mentor = db.session.get(Person, prop.mentee_id), db.session.get(Person, prop.mentor_id)
    return render_template(
        "rounds/pair.html", prog=prog, rnd=rnd, prop=prop, mentee=mentee, mentor=mentor,
        reason=prop.reason_en if _locale() == "en" else prop.reason_id,
        mentee_time=local_slot(mentee, prop.weekday_utc, prop.start_minute_utc),
        mentor_time=local_slot(mentor, prop.weekday_utc, prop.start_minute_utc))


@bp.route("/<int:pid>/my-preferences", methods=["GET", "POST"])
@requires()
def my_preferences(pid: int):
    """A mentee ranks up to 3 of the programme's mentors (when the programme allows it)."""
    prog = found(db.session.get(Programme, pid))
    me = db.session.scalar(select(Participant).where(
        Participant.programme_id == prog.id, Participant.role == "mentee",
        Participant.person_id == current_user.person_id))
    if me is None or not prog.preferences_enabled:
        found(None)
    if request.method == "POST":
        ids = [int(v) for v in request.form.getlist("mentor_id") if v.isdigit()]
        try:
            programmes.set_preferences(prog, me.person_id, ids, current_user)
        except ProgrammeError as exc:
            flash(_(str(exc)), "error")
        else:
            db.session.commit()
            flash(_("Preferences saved."), "ok")
    return render_template("rounds/my_preferences.html", prog=prog,
                           mentors=programmes.participants(prog, "mentor"))
