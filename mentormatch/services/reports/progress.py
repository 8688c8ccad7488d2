"""Evaluation averages and competency progress (baseline vs now) of a programme's mentees."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Float, case, cast, func, select, true
from sqlalchemy.dialects.postgresql import JSONB

from ...extensions import db
from ...models import (
    Competency,
    Evaluation,
    Pair,
    Participant,
    Person,
    PersonCompetency,
    Programme,
    Unit,
)
from ..feedback import STAGES, questions
from .common import NONE_LABEL, dialect

# ---------------------------------------------------------------- evaluations

def evaluation_summary(programme: Programme) -> dict[str, Any]:
    """Average of every numeric (rating) evaluation question per stage (mid / end) and author
    side, and how many evaluations were submitted. Free-text answers are never read here."""
    keys = [q.key for q in questions() if q.kind == "rating"]
    role = case((Evaluation.author_id == Pair.mentor_id, "mentor"), else_="mentee")
    here = (Evaluation.pair_id == Pair.id) & (Pair.programme_id == programme.id)
    counts: dict[tuple[str, str], int] = {
        (stage, side): n for stage, side, n in db.session.execute(
            select(Evaluation.stage, role, func.count(Evaluation.id)).join(Pair, here)
            .group_by(Evaluation.stage, role))}
    averages: dict[tuple[str, str], dict[str, float | None]] = defaultdict(dict)
    if keys:
        stmt = _answer_averages(keys, role, here)
        answers: Iterable[Any]
        if dialect() == "postgresql":  # one row per (stage, side), a column per question
            answers = ((stage, side, key, avg) for stage, side, *avgs in db.session.execute(stmt)
                       for key, avg in zip(keys, avgs, strict=True))
        else:  # one row per (stage, side, question)
            answers = db.session.execute(stmt)
        for stage, side, key, avg in answers:
            averages[(stage, side)][key] = round(float(avg), 2) if avg is not None else None
    rows = [{"key": k, **{f"{stage}_{side}": averages.get((stage, side), {}).get(k)
                          for stage in STAGES for side in ("mentee", "mentor")}} for k in keys]
    return {"rows": rows, "counts": {f"{s}_{r}": counts.get((s, r), 0)
                                     for s in STAGES for r in ("mentee", "mentor")},
            "total": sum(counts.values())}


def _answer_averages(keys: list[str], role: Any, here: Any) -> Any:
    """Averages of the numeric answers, each stored document parsed once: on PostgreSQL cast to
    jsonb once in a materialised CTE, one row per (stage, side) with a column per question; on
    SQLite one json_each per document, one row per (stage, side, question). Only numbers are
    averaged (answers to a question that was once "text" stay out)."""
    if dialect() == "postgresql":
        docs = (select(Evaluation.stage.label("stage"), role.label("side"),
                       cast(Evaluation.answers, JSONB).label("doc"))
                .select_from(Evaluation).join(Pair, here)
                .cte("evaluation_docs").prefix_with("MATERIALIZED"))
        averages = [func.avg(case((func.jsonb_typeof(docs.c.doc[key]) == "number",
                                   cast(docs.c.doc[key].astext, Float)))) for key in keys]
        return select(docs.c.stage, docs.c.side, *averages).group_by(docs.c.stage, docs.c.side)
    answers = func.json_each(Evaluation.answers).table_valued("key", "value", "type")
    return (select(Evaluation.stage, role, answers.c.key, func.avg(answers.c.value))
            .select_from(Evaluation).join(Pair, here).join(answers, true())
            .where(answers.c.key.in_(keys), answers.c.type.in_(("integer", "real")))
            .group_by(Evaluation.stage, role, answers.c.key))


# ---------------------------------------------------------------- competency progress

def competency_progress(programme: Programme) -> dict[str, Any]:
    """Levels at the start (baseline) vs now per competency for the programme's mentees,
    for the whole programme and per unit. Gap = max(0, required - level)."""
    pid = programme.id
    baseline = func.coalesce(PersonCompetency.baseline_level, PersonCompetency.current_level)
    required = PersonCompetency.required_level
    gap_start = case((required > baseline, required - baseline), else_=0)
    gap_now = case((required > PersonCompetency.current_level,
                    required - PersonCompetency.current_level), else_=0)
    mentees = (select(Participant.person_id)
               .where(Participant.programme_id == pid, Participant.role == "mentee",
                      Participant.active.is_(True)))
    # grouped by integer keys; names are looked up afterwards (a few dozen rows)
    stmt = (
        select(PersonCompetency.competency_id, Person.unit_id, func.count(PersonCompetency.id),
               func.sum(baseline), func.sum(PersonCompetency.current_level), func.sum(gap_start),
               func.sum(gap_now))
        .join(Person, Person.id == PersonCompetency.person_id)
        .where(PersonCompetency.person_id.in_(mentees))
        .group_by(PersonCompetency.competency_id, Person.unit_id)
    )
    competencies = {c.id: c for c in db.session.scalars(select(Competency))}
    units = dict(db.session.execute(select(Unit.id, Unit.name)).all())
    overall: dict[str, dict[str, Any]] = {}
    per_unit: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for comp_id, unit_id, n, s_base, s_now, g_start, g_now in db.session.execute(stmt):
        comp = competencies[comp_id]
        row = {"code": comp.code, "name_id": comp.name_id, "name_en": comp.name_en, "n": int(n),
               "base": int(s_base or 0), "now": int(s_now or 0),
               "gap_start": int(g_start or 0), "gap_now": int(g_now or 0)}
        total = overall.setdefault(comp.code, {**row, "n": 0, "base": 0, "now": 0,
                                               "gap_start": 0, "gap_now": 0})
        for key in ("n", "base", "now", "gap_start", "gap_now"):
            total[key] += row[key]
        per_unit[units.get(unit_id, NONE_LABEL)].append(_progress_row(row))
    rows = [_progress_row(r) for r in sorted(overall.values(), key=lambda r: r["code"])]
    by_unit = {k: sorted(v, key=lambda r: r["code"]) for k, v in sorted(per_unit.items())}
    return {"rows": rows, "units": by_unit}


def _progress_row(r: dict[str, Any]) -> dict[str, Any]:
    n = r["n"]
    return {
        **r,
        "avg_base": round(r["base"] / n, 2) if n else None,
        "avg_now": round(r["now"] / n, 2) if n else None,
        "closure_pct": (round(100.0 * (r["gap_start"] - r["gap_now"]) / r["gap_start"], 1)
                        if r["gap_start"] else None),
    }
