"""Coordinator pages of a programme and its matching rounds: the programme page, a round's
review (solve, adjust, approve) and progress. The ``rounds`` blueprint's other jobs live
beside it: programme settings and membership (rounds_programme.py), the audit log
(rounds_audit.py) and the mentee's preference page (rounds_preferences.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import (
    Blueprint,
    abort,
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
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Person, Programme, Proposal, Round
from ..services import people, programmes, reason_words, review, rounds
from ..services.programmes import Filters, ProgrammeError
from ..services.rounds import RoundBusy
from ..services.solver_bridge import RULE_KEYS, criteria_of
from ..services.timefmt import format_local, tz_abbrev
from ..settings import settings
from .access import found, guard, requires
from .forms import Form, invalid
from .forms.rounds import (
    ByHandForm,
    ClearForm,
    CreateRoundForm,
    CriteriaForm,
    FiltersForm,
    PairForm,
)
from .labels import label, labels, pair_reason  # noqa: F401  (re-exported: the table lives in labels.py)
from .transaction import committed, refuse, refused

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


def _choices() -> dict[str, Any]:
    """What the filter and programme forms offer (units, places, competencies, grades)."""
    return {**people.filter_choices(active_only=True),
            "override_candidates": programmes.OVERRIDE_CANDIDATES,
            "roundings": programmes.ROUNDINGS}


# --------------------------------------------------------------------------- programmes


@bp.get("/")
@requires("programme.list")
def index():
    return render_template("rounds/programmes.html",
                           programmes=programmes.for_user(current_user))


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


# --------------------------------------------------------------------------- rounds


@bp.post("/<int:pid>/rounds")
@requires("programme.list")
def create_round(pid: int):
    prog = _programme(pid)
    form = CreateRoundForm()
    if not form.validate_on_submit():
        return invalid(form, lambda: show(pid))
    try:
        rnd = rounds.create(prog, current_user, name=form.name.data or "",
                            filters=form.filters().to_dict(), kind=form.round_kind.data)
    except ProgrammeError as exc:
        return refuse(exc, ".show", pid=prog.id)
    return redirect(url_for(".round_page", pid=prog.id, rid=rnd.id))


def _rows(rnd: Round, page: list[Proposal], people: dict[int, Person]) -> list[dict]:
    """The page's proposals as the table shows them (already searched, sorted and cut)."""
    cons = {(c.mentee_id, c.mentor_id): c for c in rnd.constraints}
    rows = []
    for p in page:
        mentee, mentor = people[p.mentee_id], people[p.mentor_id]
        c = cons.get((p.mentee_id, p.mentor_id))
        rows.append({
            "p": p, "mentee": mentee, "mentor": mentor,
            "mentee_time": local_slot(mentee, p.weekday_utc, p.start_minute_utc),
            "mentor_time": local_slot(mentor, p.weekday_utc, p.start_minute_utc),
            "reason": pair_reason(p.reasons),
            "locked": bool(c and c.kind == "lock"),
        })
    return rows


def _infeasible(rnd: Round, people: dict[int, Person]) -> list[str]:
    """Locks / hand-set pairs the last solve could not keep, in words, with names."""
    out = []
    for x in (rnd.stats or {}).get("infeasible", []):
        mentee, mentor = people.get(x.get("mentee_id")), people.get(x.get("mentor_id"))
        if x.get("code") == "rules":
            why = _("it breaks %(rules)s", rules=reason_words.rule_names(x.get("rules") or []))
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
    proposals = review.proposals(rnd, q=q, sort=sort, page=_arg_page("page"))
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
        unmatched=[(people[u.mentee_id], u.reason, u.params) for u in missing.items],
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


def _adjust(pid: int, rid: int, form: Form, change: Callable[[Round], object], ok: str):
    """A change to a round from its page: a refused value shows the page again with the
    field's message; a refusal by the service is flashed (and nothing is written)."""
    prog, rnd = _round(pid, rid)  # the object check before anything is read
    if not form.validate_on_submit():
        return invalid(form, lambda: round_page(pid, rid))
    try:
        change(rnd)
    except ProgrammeError as exc:
        return refuse(exc, ".round_page", pid=prog.id, rid=rnd.id)
    flash(ok, "ok")
    return _back(prog, rnd)


@bp.post("/<int:pid>/rounds/<int:rid>/filters")
@requires("programme.list")
def round_filters(pid: int, rid: int):
    form = FiltersForm()
    return _adjust(pid, rid, form, lambda rnd: rounds.set_filters(
        rnd, form.filters().to_dict(), current_user), _("Filters saved."))


@bp.post("/<int:pid>/rounds/<int:rid>/criteria")
@requires("programme.list")
def round_criteria(pid: int, rid: int):
    form = CriteriaForm()
    return _adjust(pid, rid, form, lambda rnd: rounds.set_criteria(
        rnd, form.values(), current_user), _("Criteria saved."))


@bp.post("/<int:pid>/rounds/<int:rid>/solve")
@requires("programme.list")
def solve(pid: int, rid: int):
    prog, rnd = _round(pid, rid)
    try:
        rounds.queue(rnd, current_user)
    except RoundBusy as exc:
        refused(exc, tell=False)  # not an error: the round is on its way
        flash(_("This round is already waiting for the solver or being solved."), "ok")
    except ProgrammeError as exc:
        refused(exc)
    else:
        flash(_("Solving requested; this page shows the progress."), "ok")
    return _back(prog, rnd)


@bp.post("/<int:pid>/rounds/<int:rid>/lock")
@requires("programme.list")
def lock(pid: int, rid: int):
    form = PairForm()
    return _adjust(pid, rid, form, lambda rnd: rounds.lock(
        rnd, form.mentee_id.data, form.mentor_id.data, current_user), _("Pair locked."))


@bp.post("/<int:pid>/rounds/<int:rid>/forbid")
@requires("programme.list")
def forbid(pid: int, rid: int):
    form = PairForm()
    return _adjust(pid, rid, form, lambda rnd: rounds.forbid(
        rnd, form.mentee_id.data, form.mentor_id.data, current_user), _("Pair forbidden."))


@bp.post("/<int:pid>/rounds/<int:rid>/clear")
@requires("programme.list")
def clear(pid: int, rid: int):
    form = ClearForm()
    return _adjust(pid, rid, form, lambda rnd: rounds.clear(
        rnd, form.constraint_id.data, current_user), _("Adjustment removed."))


@bp.post("/<int:pid>/rounds/<int:rid>/hand")
@requires("programme.list")
def by_hand(pid: int, rid: int):
    form = ByHandForm()
    return _adjust(pid, rid, form, lambda rnd: rounds.set_by_hand(
        rnd, form.mentee_id.data, form.mentor_id.data, current_user,
        form.override_reason.data or ""), _("Pair set by hand; re-solve to apply."))


@bp.get("/<int:pid>/rounds/<int:rid>/hand/mentors")
@requires("programme.list")
def hand_mentors(pid: int, rid: int):
    """For the mentee in ``?mentee_id=``, what setting each mentor by hand would answer (the
    by-hand form's script marks its mentor list with it): the accepted first, each with the
    refusal's own words. The same decision as the POST (``rounds.hand_verdicts``)."""
    _prog, rnd = _round(pid, rid)  # the object check before anything is read
    mentee_id = request.args.get("mentee_id", type=int)
    if mentee_id is None:
        abort(404)
    try:
        verdicts = rounds.hand_verdicts(rnd, mentee_id)
    except ProgrammeError:
        abort(404)  # not a mentee of this programme
    names = {p.id: p.name for p in review.people({v.mentor_id for v in verdicts}).values()}
    return jsonify({"mentee_id": mentee_id, "mentors": [
        {"id": v.mentor_id, "name": names.get(v.mentor_id, ""), "verdict": v.code,
         "accepted": v.accepted, "text": _("fits") if v.code == "fits" else str(v.message)}
        for v in verdicts]})


@bp.post("/<int:pid>/rounds/<int:rid>/approve")
@requires("programme.list")
def approve(pid: int, rid: int):
    prog, rnd = _round(pid, rid)
    try:
        with committed():  # here, not at the end: a racing double click fails on this commit
            result = rounds.approve(rnd, current_user)
    except ProgrammeError as exc:
        return refuse(exc, ".round_page", pid=prog.id, rid=rnd.id)
    except IntegrityError:  # a racing double click lost on the unique live-pair index
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
    people = review.people({prop.mentee_id, prop.mentor_id})
    mentee, mentor = people[prop.mentee_id], people[prop.mentor_id]
    return render_template(
        "rounds/pair.html", prog=prog, rnd=rnd, prop=prop, mentee=mentee, mentor=mentor,
        reason=pair_reason(prop.reasons),
        mentee_time=local_slot(mentee, prop.weekday_utc, prop.start_minute_utc),
        mentor_time=local_slot(mentor, prop.weekday_utc, prop.start_minute_utc))
