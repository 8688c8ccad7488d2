"""The dashboard's figures are computed once and then served from the cache (a handful of SQL
statements instead of dozens), per programme behind the access check, and every committed write
to the data they count - a coordinator's action over HTTP, an ORM commit, a bulk UPDATE, a
commit in another worker sharing the Redis cache - shows on the very next dashboard."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import event, update

from mentormatch import create_app
from mentormatch.extensions import cache, db
from mentormatch.models import Participant, Programme
from mentormatch.services import reports
from tests import factories as f
from tests.conftest import make_settings
from tests.helpers import csrf_from, set_settings
from tests.reports.test_reports import NOW, world  # noqa: F401  (fixture)
from tests.reports.test_reports_web import _coordinator, clock  # noqa: F401  (autouse fixture)


class _Count:
    """SQL statements sent while the block runs."""

    def __enter__(self):
        self.n = 0
        event.listen(db.engine, "before_cursor_execute", self._seen)
        return self

    def _seen(self, *_a, **_k):
        self.n += 1

    def __exit__(self, *exc):
        event.remove(db.engine, "before_cursor_execute", self._seen)


def _dashboard(client, programme) -> tuple[int, str]:
    with _Count() as count:
        resp = client.get(f"/programmes/{programme.id}/reports/")
    assert resp.status_code == 200
    return count.n, resp.get_data(as_text=True)


def _participants(html: str) -> int:
    return int(re.search(r'id="kpi-participants">(\d+)<', html).group(1))


def test_second_dashboard_comes_from_the_cache(world, client):  # noqa: F811
    prog = world["prog"]
    f.login(client, _coordinator(prog))
    first, html1 = _dashboard(client, prog)
    second, html2 = _dashboard(client, prog)
    assert first >= 20  # the aggregates
    assert second <= 5  # the user, the programme, the access check: no aggregate
    assert _participants(html1) == _participants(html2) == 5
    token = re.compile(r'name="csrf_token" value="[^"]*"')
    assert token.sub("", html1) == token.sub("", html2)  # the same page


def test_cache_is_per_programme_behind_the_access_check(world, client):  # noqa: F811
    prog, other = world["prog"], world["other"]
    coord_a, coord_b = _coordinator(prog), _coordinator(other)
    f.login(client, coord_a)
    assert _participants(_dashboard(client, prog)[1]) == 5  # now cached
    f.login(client, coord_b)
    assert client.get(f"/programmes/{prog.id}/reports/").status_code == 404
    assert _participants(_dashboard(client, other)[1]) == 2  # its own figures, not A's
    f.login(client, coord_a)
    assert client.get(f"/programmes/{other.id}/reports/").status_code == 404


def test_a_coordinators_write_shows_on_the_next_dashboard(world, client):  # noqa: F811
    prog, m1 = world["prog"], world["m1"]
    f.login(client, _coordinator(prog))
    assert _participants(_dashboard(client, prog)[1]) == 5
    token = csrf_from(client, f"/programmes/{prog.id}")
    resp = client.post(f"/programmes/{prog.id}/mentors/{m1.id}/withdraw",
                       data={"csrf_token": token, "reason": "pindah tugas"})
    assert resp.status_code == 302
    assert _participants(_dashboard(client, prog)[1]) == 4  # m1 withdrew


def test_orm_commits_and_bulk_updates_invalidate(world, client):  # noqa: F811
    prog, e2, e3 = world["prog"], world["e2"], world["e3"]
    f.login(client, _coordinator(prog))
    assert _participants(_dashboard(client, prog)[1]) == 5
    # a job's ORM write (as the scheduler commits it)
    part = db.session.query(Participant).filter_by(programme_id=prog.id, person_id=e3.id).one()
    part.active = False
    db.session.commit()
    assert _participants(_dashboard(client, prog)[1]) == 4
    # a bulk UPDATE through the session (no flush of objects)
    db.session.execute(update(Participant).where(Participant.programme_id == prog.id,
                                                 Participant.person_id == e2.id)
                       .values(active=False))
    db.session.commit()
    assert _participants(_dashboard(client, prog)[1]) == 3
    # a write to a table the figures do not read keeps them
    f.user(("mentee",))
    db.session.commit()
    assert _dashboard(client, prog)[0] <= 5


def test_cache_seconds_zero_keeps_nothing(world, client, app):  # noqa: F811
    set_settings(app, reports={"cache_seconds": 0})
    prog = world["prog"]
    f.login(client, _coordinator(prog))
    assert _dashboard(client, prog)[0] >= 20
    assert _dashboard(client, prog)[0] >= 20


def test_workers_sharing_redis_see_each_others_writes(world, database_url, tmp_path):  # noqa: F811
    """Two app instances (as two gunicorn workers) with the cache in Redis: a commit in one
    makes the other compute the figures afresh; a read in one serves the other."""
    prog_id, e3_id = world["prog"].id, world["e3"].id
    prefix = f"mm-test-{uuid.uuid4().hex[:8]}"
    apps = [create_app(make_settings(database_url, app={
        "cache_storage_uri": "redis://127.0.0.1:6379/14", "ratelimit_key_prefix": prefix}))
        for _ in range(2)]

    def participants(app) -> tuple[int, int]:
        with app.app_context(), _Count() as count:
            prog = db.session.get(Programme, prog_id)
            n = reports.figures(prog)["data"]["overall"]["participants"]
            db.session.remove()
        return n, count.n

    try:
        n, statements = participants(apps[0])
        assert n == 5 and statements >= 15
        n, statements = participants(apps[1])  # computed by the other worker
        assert n == 5 and statements <= 2
        with apps[1].app_context():
            db.session.execute(update(Participant).where(Participant.programme_id == prog_id,
                                                         Participant.person_id == e3_id)
                               .values(active=False))
            db.session.commit()
            db.session.remove()
        n, statements = participants(apps[0])
        assert n == 4 and statements >= 15
    finally:
        for app in apps:
            with app.app_context():
                cache.clear()
                db.engine.dispose()
