"""Calendar replies that were not applied (rejected, held for confirmation, failed): who sent
them, when and why - so a coordinator sees what the inbox refused instead of nothing."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db
from ..models import InboundMessage, Pair, ProgrammeCoordinator, SessionSeries
from ..services.replies import describe, outcome_label
from .access import requires

bp = Blueprint("inbound", __name__)

PROBLEMS = ("rejected", "held", "partial", "failed")


@bp.get("/calendar/replies")
@requires("programme.list")
def problems():
    q = (select(InboundMessage).where(InboundMessage.outcome.in_(PROBLEMS))
         .order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc()).limit(200))
    if not current_user.has_role("admin"):
        mine = (select(SessionSeries.id).join(Pair, SessionSeries.pair_id == Pair.id)
                .join(ProgrammeCoordinator,
                      ProgrammeCoordinator.programme_id == Pair.programme_id)
                .where(ProgrammeCoordinator.user_id == current_user.id))
        q = q.where(InboundMessage.series_id.in_(mine))
    rows = list(db.session.scalars(q))
    return render_template("calendar/replies.html", rows=rows, describe=describe,
                           outcome_label=outcome_label)
