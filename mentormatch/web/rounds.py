"""Coordinator pages: programmes, participants by filters, rounds (solve, review, adjust,
approve), the audit log; the mentee's preference page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
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
from ..services import programmes, rounds, solver_bridge
from ..services.people import filter_choices_grades
from ..services.programmes import Filters, ProgrammeError
from ..services.rounds import RoundBusy
from ..services.solver_bridge import RULE_KEYS, criteria_of
from ..services.timefmt import format_local, tz_abbrev
from .access import found, guard, requires

bp = Blueprint("rounds", __name__, url_prefix="/programmes")
REFERENCE_MONDAY = datetime(2026, 1, 5, tzinfo=UTC)


def _locale() -> str:
    return "en" if str(get_locale()) == "en" else "id"


def _babel_locale() -> str:
    return "en_GB" if _locale() == "en" else "id_ID"


def local_slot(person: Person, weekday_utc: int, minute_utc: int) -> str:
    """A weekly UTC slot as the person reads it: 'Sel 09.00 WIB' (day names from Babel)."""
    at = REFERENCE_MONDAY + timedelta(days=weekday_utc, minutes=minute_utc)
    loc = at.astimezone(ZoneInfo(person.timezone))
    return f"{format_datetime(loc, 'EEE HH:mm', locale=_babel_locale())} " \
           f"{tz_abbrev(person.timezone)}"


# --------------------------------------------------------------------------- labels


@cache
def labels() -> dict[str, dict[str, Any]]:
    """Every code a page would otherwise show raw, as the reader's language says it (lazy
    strings: built once, translated whenever shown)."""
    return {
        "status": {"draft": _l("Draft"), "queued": _l("Queued"), "solving": _l("Solving"),
                   "solved": _l("Solved"), "stale": _l("Changed – re-solve needed"),
                   "failed": _l("Failed"), "approved": _l("Approved")},
        "kind": {"initial": _l("Initial"), "rematch": _l("Rematch")},
        "policy": {"either": _l("Online or in person"), "online": _l("Online only"),
                   "in_person": _l("In person only")},
        "mode": {"online": _l("Online"), "in_person": _l("In person")},
        "programme": {"active": _l("Active"), "closed": _l("Closed"),
                      "archived": _l("Archived"), "draft": _l("Draft")},
        "pair": {"invited": _l("Invited"), "active": _l("Active"), "declined": _l("Declined"),
                 "ended": _l("Ended"), "completed": _l("Completed")},
        "phase": {"queued": _l("Waiting for the solver"), "building": _l("Reading participants"),
                  "solving": _l("Solving"), "locks": _l("Checking locks"),
                  "candidates": _l("Choosing candidates"), "flow": _l("Matching"),
                  "slots": _l("Choosing times"), "cpsat": _l("Improving the result"),
                  "done": _l("Done"), "failed": _l("Failed")},
        "solver": {"OPTIMAL": _l("optimal"), "FEASIBLE": _l("good, not proven optimal"),
                   "EMPTY": _l("nothing to match"), "INFEASIBLE": _l("no solution"),
                   "UNKNOWN": _l("unknown")},
        "error": {"worker_stopped": _l("The solver stopped before it finished (its process "
                                       "ended); nothing was changed. You can run it again."),
                  "invalid_solution": _l("The solver's result failed the checks; nothing was "
                                         "changed. You can run it again."),
                  "solver_error": _l("The solve failed; nothing was changed. You can run it "
                                     "again.")},
        "unmatched": {"no_eligible_mentor": _l("No eligible mentor"),
                      "capacity_taken": _l("Mentor capacity exhausted"),
                      "no_common_time": _l("No common free time"),
                      "time_limit": _l("The solver's time limit ended before this mentee "
                                       "was placed")},
        "infeasible": {"not_selected": _l("one of them is not in this round"),
                       "mentee_taken": _l("the mentee is already fixed to another mentor"),
                       "capacity": _l("the mentor has no place left"),
                       "no_slot": _l("the mentor has no free common time left"),
                       "other": _l("the solver could not keep it")},
        "rounding": {"floor": _l("Round down to whole JP"),
                     "nearest": _l("Round to the nearest whole JP"),
                     "half": _l("Round down to half JP")},
        "rule": solver_bridge.rule_labels(),
        "action": {
            "programme.create": _l("Programme created"),
            "programme.update": _l("Programme changed"),
            "programme.participants_add": _l("Participants added"),
            "programme.preferences": _l("Mentor preferences saved"),
            "programme.mentor_withdraw": _l("Mentor withdrawn"),
            "round.create": _l("Round created"), "round.filters": _l("Round filters changed"),
            "round.criteria": _l("Round criteria changed"),
            "round.solve": _l("Solve requested"), "round.solved": _l("Round solved"),
            "round.failed": _l("Solve failed"), "round.lock": _l("Pair locked"),
            "round.forbid": _l("Pair forbidden"), "round.clear": _l("Adjustment removed"),
            "round.approve": _l("Round approved and published"),
            "series.create": _l("Session series created"),
            "series.cancel": _l("Session series cancelled"),
            "series.move": _l("Session series moved"),
            "session.reschedule": _l("Session moved"), "session.cancel": _l("Session cancelled"),
            "session.mark": _l("Session marked"), "session.propose": _l("New time proposed"),
            "session.proposal_answer": _l("Proposed time answered"),
            "attendee.answer": _l("Invitation answered"),
            "pair.declined": _l("Pair declined"), "pair.end": _l("Pair ended"),
            "log.submit": _l("Session log submitted"), "log.update": _l("Session log changed"),
            "log.confirm": _l("Session log confirmed"),
            "log.dispute": _l("Session log disputed"),
            "goal.add": _l("Goal added"), "goal.status": _l("Goal status changed"),
            "level.change": _l("Competency level changed"),
            "feedback.give": _l("Feedback given"), "evaluation.submit": _l("Evaluation given"),
            "report.nudge": _l("Reminder sent from a report"),
            "outbox.resend": _l("E-mail sent again"),
        },
    }


def label(group: str, code: Any, default: Any = None) -> str:
    table = labels().get(group, {})
    if code in table:
        return str(table[code])
    return str(default) if default is not None else str(_l("Other"))


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
          else current_app.config["MM"]["app"].get("default_timezone", "Asia/Jakarta"))
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
    return render_template(
        "rounds/programme.html", prog=prog, f=f, role=role, preview=preview,
        mentors=programmes.participants(prog, "mentor"),
        mentees=programmes.participants(prog, "mentee"),
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
    size = int(current_app.config["MM"].get("rounds", {}).get("audit_page_size", 50))
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
    entries = []
    for r in rows:
        d = r.details or {}
        rid = r.object_id if r.object_type == "round" else d.get("round_id")
        who = users.get(r.actor_id)
        entries.append({
            "at": r.at, "action": label("action", r.action),
            "who": (who.person.name if who and who.person else who.email) if who else None,
            "round": round_names.get(rid), "round_id": rid,
            "people": " – ".join(names[d[k]] for k in ("mentee_id", "mentor_id")
                                 if isinstance(d.get(k), int) and d[k] in names),
            "count": d.get("count", d.get("pairs") if isinstance(d.get("pairs"), int) else None),
        })
    return render_template("rounds/audit.html", prog=prog, entries=entries, page=page,
                           pages=pages, total=total)


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


def _rows(rnd: Round, people: dict[int, Person]) -> list[dict]:
    loc = _locale()
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


@bp.get("/<int:pid>/rounds/<int:rid>")
@requires("programme.list")
def round_page(pid: int, rid: int):
    prog, rnd = _round(pid, rid)
    stats = rnd.stats or {}
    ids = ({x.mentee_id for x in rnd.proposals} | {x.mentor_id for x in rnd.proposals}
           | {u.mentee_id for u in rnd.unmatched} | {c.mentee_id for c in rnd.constraints}
           | {c.mentor_id for c in rnd.constraints})
    for x in stats.get("infeasible", []):
        ids |= {x.get("mentee_id"), x.get("mentor_id")} - {None}
    published = []
    if rnd.status == "approved":
        published = list(db.session.scalars(select(Pair).where(Pair.round_id == rnd.id)
                                            .order_by(Pair.id)))
        ids |= {p.mentee_id for p in published} | {p.mentor_id for p in published}
    people = _people(ids)
    before = (rounds.previous_mentors(prog.id, [p.mentee_id for p in published])
              if rnd.kind == "rematch" and published else {})
    return render_template(
        "rounds/round.html", prog=prog, rnd=rnd, counts=rounds.counts(rnd),
        f=Filters.from_dict(rnd.filters), criteria=criteria_of(rnd), rule_keys=RULE_KEYS,
        rows=_rows(rnd, people), people=people,
        unmatched=[(people[u.mentee_id], u.reason) for u in rnd.unmatched],
        infeasible=_infeasible(rnd, people), published=published, before=before,
        mentors=programmes.participants(prog, "mentor"),
        mentees=programmes.participants(prog, "mentee"),
        state=rounds.progress_of(rnd),
        overridable=[label("rule", r) for r in programmes.override_policy(prog)["overridable"]],
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
        db.session.rollback()
        flash(str(exc), "error")
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
