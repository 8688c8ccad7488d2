"""The dashboard's figures, computed once and shared by the workers for a short while.

The figures of a large programme take a few hundred milliseconds of database time (aggregates
over tens of thousands of sessions) and are the same for every coordinator of the programme, so
they are kept in the app's cache (Redis with several workers, else this process) under the
programme's id: a view reads them only after its access check for that programme, so nobody
reaches another programme's figures through the cache.

Freshness: every commit that wrote to a table the figures count (through the ORM, the app's or
the scheduler's) replaces the cache's *generation* token, and cached figures are read under the
current token only, so the next dashboard after such a commit is computed afresh in every
worker. `[reports] cache_seconds` (60 s by default) bounds what no commit announces: the passing
of time (upcoming -> awaiting, "no session for 30 days") and writes made outside the app.
"""

from __future__ import annotations

import logging
import secrets
from itertools import chain
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.orm import Session as OrmSession

from ...extensions import cache
from ...models import Programme
from ...settings import settings
from .alerts import alerts_summary
from .dashboard import dashboard
from .progress import competency_progress

log = logging.getLogger(__name__)

#: the tables the dashboard, competency progress and alert counts read
REPORT_TABLES = frozenset({
    "attendee", "competency", "feedback", "location", "pair", "participant", "person",
    "person_competency", "programme", "session", "session_log", "session_series", "unit",
})
_GENERATION = "reports:generation"
_DIRTY = "mentormatch.reports_dirty"


def figures(programme: Programme) -> dict[str, Any]:
    """{"data": dashboard, "progress": competency progress, "alerts": alert counts} of the
    programme; from the cache when fresh. The caller has checked the viewer's access."""
    ttl = settings().reports.cache_seconds
    if ttl <= 0:
        return _compute(programme)
    try:
        key = f"reports:{_generation()}:{programme.id}"
        found = cache.get(key)
    except Exception:  # noqa: BLE001 - an unreachable cache costs speed, never the page
        log.warning("report cache unavailable; computing the figures", exc_info=True)
        return _compute(programme)
    if isinstance(found, dict):
        return found
    value = _compute(programme)
    try:
        cache.set(key, value, timeout=ttl)
    except Exception:  # noqa: BLE001
        log.warning("report cache unavailable; figures not kept", exc_info=True)
    return value


def _compute(programme: Programme) -> dict[str, Any]:
    return {"data": dashboard(programme), "progress": competency_progress(programme),
            "alerts": alerts_summary(programme)}


def _generation() -> str:
    token = cache.get(_GENERATION)
    if not token:
        token = secrets.token_hex(8)
        # add: a token another worker set in the meantime wins (both are fresh)
        if not cache.add(_GENERATION, token, timeout=0):
            token = cache.get(_GENERATION) or token
    return str(token)


def invalidate() -> None:
    """Make every cached figure stale (a new generation; old entries expire by themselves).
    A random token, not a counter: a token the store evicted or lost can never come back."""
    cache.set(_GENERATION, secrets.token_hex(8), timeout=0)


# ---------------------------------------------------------------- write tracking

def _touches_reports(objects: Any) -> bool:
    for obj in objects:
        table = getattr(type(obj), "__tablename__", None)
        if table in REPORT_TABLES:
            return True
    return False


def _after_flush(session: OrmSession, _context: Any) -> None:
    if _touches_reports(chain(session.new, session.dirty, session.deleted)):
        session.info[_DIRTY] = True


def _on_execute(state: ORMExecuteState) -> None:
    """Bulk INSERT / UPDATE / DELETE statements run through the session bypass the flush."""
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in REPORT_TABLES:
            state.session.info[_DIRTY] = True


def _after_commit(session: OrmSession) -> None:
    if not session.info.pop(_DIRTY, False) or not has_app_context():
        return
    if "cache" not in current_app.extensions:
        return
    try:
        invalidate()
    except Exception:  # noqa: BLE001 - the commit is done; cached figures expire anyway
        log.warning("report cache unavailable; figures expire after [reports] cache_seconds",
                    exc_info=True)


def _after_rollback(session: OrmSession) -> None:
    session.info.pop(_DIRTY, None)


_registered = False


def init_app(app: Flask) -> None:
    """Track writes on every ORM session of this process (once: apps share the Session
    class); each commit invalidates the cache of the app whose context it runs in."""
    global _registered
    if _registered:
        return
    event.listen(OrmSession, "after_flush", _after_flush)
    event.listen(OrmSession, "do_orm_execute", _on_execute)
    event.listen(OrmSession, "after_commit", _after_commit)
    event.listen(OrmSession, "after_rollback", _after_rollback)
    _registered = True
