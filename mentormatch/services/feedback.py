"""Feedback after each logged session, mid / end evaluations, ending a pair early, and the
certificate of mentoring hours. Services flush, never commit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from flask import current_app, has_request_context, render_template
from flask_babel import force_locale
from sqlalchemy import select

from ..extensions import db
from ..models import (
    Evaluation,
    Feedback,
    Pair,
    Person,
    ProgrammeCoordinator,
    SessionLog,
    SessionSeries,
    User,
    utcnow,
)
from . import audit, jp, mailer
from .logbook import LogError, confirmed_logs, rule_for

STAGES = ("mid", "end")

# The default evaluation: the BerAKHLAK core values (SE Menpan 20/2021) and the programme's aims.
DEFAULT_QUESTIONS: list[dict[str, str]] = [
    {"key": "berorientasi_pelayanan", "kind": "rating",
     "en": "The mentoring strengthened my service orientation (Berorientasi Pelayanan).",
     "id": "Mentoring memperkuat orientasi pelayanan saya (Berorientasi Pelayanan)."},
    {"key": "akuntabel", "kind": "rating",
     "en": "It helped me work accountably (Akuntabel).",
     "id": "Mentoring membantu saya bekerja secara akuntabel (Akuntabel)."},
    {"key": "kompeten", "kind": "rating",
     "en": "It improved my competence (Kompeten).",
     "id": "Mentoring meningkatkan kompetensi saya (Kompeten)."},
    {"key": "harmonis", "kind": "rating",
     "en": "We worked together respectfully (Harmonis).",
     "id": "Kami bekerja sama dengan saling menghargai (Harmonis)."},
    {"key": "loyal", "kind": "rating",
     "en": "It strengthened my commitment to the organisation (Loyal).",
     "id": "Mentoring memperkuat komitmen saya pada organisasi (Loyal)."},
    {"key": "adaptif", "kind": "rating",
     "en": "It helped me adapt to change (Adaptif).",
     "id": "Mentoring membantu saya beradaptasi dengan perubahan (Adaptif)."},
    {"key": "kolaboratif", "kind": "rating",
     "en": "It encouraged collaboration (Kolaboratif).",
     "id": "Mentoring mendorong kolaborasi (Kolaboratif)."},
    {"key": "usefulness", "kind": "rating",
     "en": "Overall, the mentoring was useful.",
     "id": "Secara keseluruhan, mentoring ini bermanfaat."},
    {"key": "relevance", "kind": "rating",
     "en": "The sessions were relevant to my daily work.",
     "id": "Sesi-sesinya relevan dengan pekerjaan sehari-hari saya."},
    {"key": "time_burden", "kind": "rating",
     "en": "The time the mentoring took was reasonable next to my duties.",
     "id": "Waktu yang dibutuhkan wajar dibandingkan tugas saya."},
    {"key": "comment", "kind": "text",
     "en": "What should be improved?", "id": "Apa yang perlu diperbaiki?"},
]


def questions() -> list[dict[str, str]]:
    """Configured questions (`[evaluation] questions = [...]`) or the default set."""
    configured = current_app.config["MM"].get("evaluation", {}).get("questions")
    return list(configured) if configured else DEFAULT_QUESTIONS


def question_text(q: dict[str, str], locale: str) -> str:
    return q.get("id" if locale == "id" else "en") or q.get("en") or q["key"]


# -- feedback ------------------------------------------------------------------------------

def give_feedback(log: SessionLog, person: Person, rating: int, comment: str | None, *,
                  actor: Any = None) -> tuple[Feedback, bool]:
    pair = db.session.get(Pair, log.pair_id)
    if pair.member_role(person.id) is None:
        raise LogError("not_member")
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise LogError("bad_rating")
    existing = db.session.scalar(select(Feedback).where(Feedback.log_id == log.id,
                                                        Feedback.author_id == person.id))
    if existing is not None:
        return existing, False
    fb = Feedback(log_id=log.id, author_id=person.id, rating=rating,
                  comment=(comment or "").strip()[:2000] or None)
    db.session.add(fb)
    db.session.flush()
    audit.record(actor, "feedback.give", fb, programme_id=pair.programme_id)
    return fb, True


# -- evaluations ---------------------------------------------------------------------------

def submit_evaluation(pair: Pair, person: Person, stage: str, answers: dict[str, Any], *,
                      actor: Any = None) -> tuple[Evaluation, bool]:
    if pair.member_role(person.id) is None:
        raise LogError("not_member")
    if stage not in STAGES:
        raise LogError("bad_stage")
    clean: dict[str, Any] = {}
    for q in questions():
        value = answers.get(q["key"])
        if q.get("kind", "rating") == "rating":
            try:
                number = int(value)
            except (TypeError, ValueError):
                raise LogError("answer_all") from None
            if not 1 <= number <= 5:
                raise LogError("answer_all")
            clean[q["key"]] = number
        else:
            clean[q["key"]] = (str(value or "")).strip()[:2000]
    existing = db.session.scalar(select(Evaluation).where(
        Evaluation.pair_id == pair.id, Evaluation.author_id == person.id,
        Evaluation.stage == stage))
    if existing is not None:
        return existing, False
    ev = Evaluation(pair_id=pair.id, author_id=person.id, stage=stage, answers=clean)
    db.session.add(ev)
    db.session.flush()
    audit.record(actor, "evaluation.submit", ev, programme_id=pair.programme_id, stage=stage)
    return ev, True


def evaluations_of(pair: Pair, person: Person) -> dict[str, Evaluation]:
    rows = db.session.scalars(select(Evaluation).where(Evaluation.pair_id == pair.id,
                                                       Evaluation.author_id == person.id))
    return {e.stage: e for e in rows}


# -- ending a pair early -------------------------------------------------------------------

def _render(name: str, locale: str, **ctx: Any) -> tuple[str, str, str]:
    """Like mailer.render_email, for this blueprint's own e-mail templates; outside a request
    (a job, a test) a throwaway request context is pushed for the context processors."""
    if not has_request_context():
        with current_app.test_request_context(
                base_url=current_app.config["MM"]["app"]["base_url"]):
            return _render(name, locale, **ctx)
    with force_locale(locale):
        text = render_template(f"participants/email/{name}.txt", locale=locale, **ctx)
        html = render_template(f"participants/email/{name}.html", locale=locale, **ctx)
    subject, _, body = text.partition("\n")
    return subject.removeprefix("Subject:").strip(), body.lstrip("\n"), html


def coordinator_users(pair: Pair) -> list[User]:
    return list(db.session.scalars(
        select(User).join(ProgrammeCoordinator, ProgrammeCoordinator.user_id == User.id)
        .where(ProgrammeCoordinator.programme_id == pair.programme_id)))


def end_pair(pair: Pair, person: Person, reason: str, *, actor: Any = None) -> Pair:
    """End a pair early: status 'ended', future sessions cancelled, coordinators e-mailed."""
    role = pair.member_role(person.id)
    if role is None:
        raise LogError("not_member")
    if pair.status not in ("invited", "active"):
        raise LogError("pair_inactive")
    reason = (reason or "").strip()
    if not reason:
        raise LogError("reason_required")
    pair.status, pair.ended_at, pair.end_reason = "ended", utcnow(), reason[:1000]
    db.session.flush()
    series_rows = db.session.scalars(select(SessionSeries).where(
        SessionSeries.pair_id == pair.id, SessionSeries.status == "active"))
    for series in series_rows:
        from . import invites

        invites.cancel_series(series, actor=actor)
    for coord in coordinator_users(pair):
        locale = coord.locale or (coord.person.locale if coord.person else "id")
        subject, text, html = _render("pair_ended", locale, pair=pair, by=person, role=role,
                                      reason=pair.end_reason)
        msg = mailer.build_message(coord.email, subject, text, html)
        mailer.enqueue(msg, kind="pair_ended", dedupe_key=f"pair_ended:{pair.id}:{coord.id}")
    audit.record(actor, "pair.end", pair, programme_id=pair.programme_id, by_role=role,
                 reason=pair.end_reason)
    return pair


# -- certificate ---------------------------------------------------------------------------

@dataclass
class CertificateLine:
    pair: Pair
    role: str
    sessions: int = 0
    minutes: int = 0
    jp: Decimal = Decimal(0)
    first: date | None = None
    last: date | None = None
    logs: list[SessionLog] = field(default_factory=list)


def certificate(person: Person, year: int | None = None) -> tuple[list[CertificateLine], int,
                                                                  Decimal]:
    """Confirmed mentoring per pair (optionally one calendar year): hours and JP."""
    lines: dict[int, CertificateLine] = {}
    for log, pair in confirmed_logs(person.id, year=year):
        line = lines.get(pair.id)
        if line is None:
            line = lines[pair.id] = CertificateLine(pair, pair.member_role(person.id) or "")
        line.sessions += 1
        line.minutes += log.credited_minutes
        line.first = min(line.first or log.held_on, log.held_on)
        line.last = max(line.last or log.held_on, log.held_on)
        line.logs.append(log)
    for line in lines.values():
        line.jp = jp.minutes_to_jp(line.minutes, rule_for(line.pair))
    ordered = sorted(lines.values(), key=lambda ln: (ln.first or date.min, ln.pair.id))
    return ordered, sum(ln.minutes for ln in ordered), sum((ln.jp for ln in ordered), Decimal(0))
