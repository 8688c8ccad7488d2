"""The solver's codes in the reader's words: pair rules, "why this pair", why a mentee stayed
unmatched. The solver and the database hold codes with parameters only; these functions word
them in the current request's language (Bahasa Indonesia by default, English available) when a
page, export or message shows them, so a language switch needs no re-solve."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from solver.schema import WEEKDAYS

from ..models import Competency
from . import catalogue, timefmt


def rule_labels() -> dict[str, Any]:
    """Hard rules (solver names) as coordinators read them."""
    return {
        "grade": _l("Minimum grade difference"),
        "supervisor": _l("No direct supervisor"),
        "no_repeat": _l("No repeat of an earlier pair"),
        "same_city_in_person": _l("In person only within one city"),
        "mode": _l("Session mode (online / in person)"),
        "forbids": _l("Forbidden pair"),
        "common_slot": _l("Common free time"),
        "sessions_per_day": _l("Sessions per day"),
    }


def rule_names(rules: list[str]) -> LazyString:
    """The rules' names, joined, in the reader's language (evaluated when shown)."""
    def join() -> str:
        labels = rule_labels()
        return ", ".join(str(labels.get(r, _l("another rule"))) for r in rules)

    return LazyString(join)


def _locale() -> str:
    return "en" if str(get_locale() or "id").startswith("en") else "id"


def pair_reason(reasons: list[dict[str, Any]] | None,
                codes: Mapping[str, Competency] | None = None) -> str:
    """A proposal's reason codes (``solver.scoring.reason_codes``, and ``manual`` with the
    coordinator's note for a hand-set pair) as one line; competency codes by their names.
    ``codes``: the competencies by code, when the caller words many reasons at once."""
    reasons = reasons or []
    locale = _locale()
    codes = codes if codes is not None else catalogue.by_code()
    parts: list[str] = []
    gaps = []
    for r in reasons:
        if r.get("code") == "gap":
            comp = codes.get(str(r.get("competency")))
            name = comp.name(locale) if comp else str(r.get("competency"))
            gaps.append(f"{name} {r.get('from')}\u2192{r.get('to')}")
    if gaps:
        parts.append(_("closes the gap in %(gaps)s", gaps=_(" and ").join(gaps)))
    for r in reasons:
        code = r.get("code")
        if code == "no_gap":
            parts.append(_("closes no competency gap"))
        elif code == "common_time":
            wd = WEEKDAYS.index(str(r.get("weekday")))
            parts.append(_("both free %(day)s %(time)s %(tz)s", day=timefmt.weekday_name(wd),
                           time=r.get("time"), tz=r.get("tz")))
        elif code == "preference":
            parts.append(_("mentee's choice #%(rank)s", rank=r.get("rank")))
        elif code == "same_city":
            parts.append(_("same city, in person"))
        elif code == "online":
            parts.append(_("online session"))
    line = "; ".join(parts)
    manual = next((r for r in reasons if r.get("code") == "manual"), None)
    if manual is not None:
        return str(_("set by hand (%(why)s); %(reasons)s", why=manual.get("note") or "",
                     reasons=line))
    return line


def unmatched_labels() -> dict[str, Any]:
    """``solver.schema.UNMATCHED_REASONS`` as the reader says them (counts per reason)."""
    return {"no_eligible_mentor": _l("No eligible mentor"),
            "capacity_taken": _l("Mentor capacity exhausted"),
            "no_common_time": _l("No common free time"),
            "time_limit": _l("The solver's time limit ended before this mentee was placed")}


def unmatched_reason(reason: str, params: Mapping[str, Any] | None = None) -> str:
    """Why one mentee stayed unmatched, with the solver's figures where they help the
    reader: how many mentors pass every rule, and how many of them still had room."""
    text = str(unmatched_labels().get(reason, _l("Other")))
    p = params or {}
    eligible, room = p.get("eligible"), p.get("with_room")
    if reason == "capacity_taken" and eligible:
        text += " " + _("(%(n)d eligible mentor(s), all full)", n=int(eligible))
    elif reason == "no_common_time" and eligible and room:
        text += " " + _("(%(room)d eligible mentor(s) with room, no common start left)",
                        room=int(room))
        if p.get("day_limit"):
            text += " " + _("(%(n)d at their sessions-per-day limit)", n=int(p["day_limit"]))
    return text
