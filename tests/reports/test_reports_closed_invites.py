"""Invitations of a declined or ended pair (its series cancelled) no longer count as
unanswered on the dashboard, as on the alert list."""

from __future__ import annotations

from mentormatch.extensions import db
from mentormatch.services import invites, reports
from tests.sessions.test_invites import make_series


def test_cancelled_series_is_not_unanswered(app):
    series = make_series()
    prog = series.pair.programme
    assert reports.dashboard(prog)["overall"]["invites_unanswered"] == 2
    series.pair.status = "ended"
    invites.cancel_series(series, actor=None)
    db.session.commit()
    assert reports.dashboard(prog)["overall"]["invites_unanswered"] == 0
