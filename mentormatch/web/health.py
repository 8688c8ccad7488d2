"""/healthz: database reachability, schema revision and scheduler leadership, for load balancers."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime

from flask import Blueprint, request
from flask_login import current_user
from sqlalchemy import select, text

from ..extensions import db
from ..models import SchedulerLease
from .access import public

bp = Blueprint("health", __name__)


def _may_see_details() -> bool:
    """Scheduler and outbox state only for admins or a probe on this machine; a load
    balancer elsewhere reads the status code (200/503)."""
    try:
        if ipaddress.ip_address(request.remote_addr or "").is_loopback:
            return True
    except ValueError:
        pass
    return bool(current_user.is_authenticated and current_user.has_role("admin"))


@bp.get("/healthz")
@public
def healthz():
    details = _may_see_details()  # first: a failed probe leaves its transaction unusable
    body, code = _health()
    if not details:
        body = {"status": body["status"]}
    return body, code


def _health() -> tuple[dict, int]:
    body: dict = {"status": "ok"}
    try:
        db.session.execute(text("SELECT 1"))
        body["database"] = "ok"
        lease = db.session.scalar(select(SchedulerLease).where(SchedulerLease.name == "scheduler"))
        if lease is None:
            body["scheduler"] = {"state": "none"}
        else:
            alive = lease.expires_at > datetime.now(UTC)
            body["scheduler"] = {
                "state": "running" if alive else "stale",
                "heartbeat_at": lease.heartbeat_at.isoformat(),
            }
        from ..services.dispatch import outbox_counts

        counts = outbox_counts()  # uncertain: delivery unknown, an admin must look
        body["outbox"] = {k: counts[k] for k in ("pending", "uncertain", "failed")}
    except Exception:  # the point of a health check is to report, not to raise
        # the 503 rolls the failed transaction back (web/transaction.py)
        body.update(status="error", database="unreachable")
        return body, 503
    return body, 200
