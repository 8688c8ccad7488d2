"""One definition of upcoming (issue 13.3): only sessions still to come are upcoming; a past
session without a log is awaiting its log and, after `missed_after_days`, missed - also in a
series whose pair was declined or ended since."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from mentormatch.extensions import db
from mentormatch.jobs.tasks import mark_missed
from mentormatch.models import ProgrammeCoordinator, Session
from mentormatch.services import invites, reports
from tests import factories as f
from tests.sessions.test_invites import make_pair, no_holiday


def _series(pair, first: datetime, count: int):
    series = f.series(pair, first, count=count, is_holiday=no_holiday)
    db.session.flush()
    return series


def _tuesday(weeks_ago: int) -> datetime:
    day = (datetime.now(UTC) - timedelta(weeks=weeks_ago)).date()
    day += timedelta(days=(1 - day.weekday()) % 7)
    return datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)


def _figures(client, prog_id: int) -> tuple[int, int, int]:
    html = client.get(f"/programmes/{prog_id}/reports/").get_data(as_text=True)
    get = lambda i: int(re.search(rf'id="{i}">(\d+)<', html).group(1))  # noqa: E731
    return get("kpi-upcoming"), get("kpi-awaiting"), int(
        re.search(r'id="kpi-sessions">(\d+) / (\d+)<', html).group(2))


def test_past_sessions_are_never_upcoming_and_declined_pairs_get_missed(client, app):
    # a pair whose mentor declined after three sessions: 6 fortnightly sessions from ~6 weeks ago
    declined = make_pair()
    declined.status = "active"
    s1 = _series(declined, _tuesday(6), 6)
    past = [s for s in s1.sessions if s.start_at < datetime.now(UTC)]
    assert len(past) == 3
    past[0].status = "held"
    db.session.commit()
    invites.cancel_series(s1, actor=None)
    declined.status = "declined"
    # a live pair of the same programme: one past unlogged session, two to come
    mentor = f.person("Mentor Dua", grade=12)
    mentee = f.person("Mentee Dua", grade=8)
    from mentormatch.models import Pair
    live = Pair(programme_id=declined.programme_id, mentor_id=mentor.id, mentee_id=mentee.id,
                status="active")
    db.session.add(live)
    db.session.flush()
    _series(live, _tuesday(1) - timedelta(weeks=1), 3)
    coord = f.user(("coordinator",))
    db.session.add(ProgrammeCoordinator(programme_id=declined.programme_id, user_id=coord.id))
    db.session.commit()
    f.login(client, coord)

    upcoming, awaiting, planned = _figures(client, declined.programme_id)
    future = db.session.scalars(select(Session).where(
        Session.start_at > datetime.now(UTC), Session.status == "scheduled")).all()
    assert upcoming == len(future) >= 1
    assert awaiting == 2 + 1  # two past of the declined pair, one of the live pair
    assert planned == 1 + awaiting + upcoming  # held + awaiting + upcoming

    # the missed-marking job reaches the declined pair's past sessions too
    marked = mark_missed(now=datetime.now(UTC))
    assert marked >= 2
    db.session.expire_all()
    states = [s.status for s in db.session.scalars(select(Session).where(
        Session.series_id == s1.id).order_by(Session.start_at))]
    assert states[:3] == ["held", "missed", "missed"]
    assert states[3:] == ["cancelled"] * 3
    figures = reports.dashboard(db.session.get(type(declined.programme), declined.programme_id))
    assert figures["overall"]["sessions_upcoming"] == len(future)
