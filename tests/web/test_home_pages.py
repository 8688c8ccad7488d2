"""The mentor's and the mentee's homes read what they show in a fixed number of SQL
statements, whatever the number of pairs (no statement per pair, session or goal)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event

from mentormatch.extensions import db
from mentormatch.models import utcnow
from tests import factories as f
from tests.logbook.test_logbook import make_pair, make_session, person, programme


def _statements(client, path: str) -> tuple[int, str]:
    count = [0]

    def seen(*_a, **_k):
        count[0] += 1

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        resp = client.get(path)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert resp.status_code == 200, resp.get_data(as_text=True)[-800:]
    return count[0], resp.get_data(as_text=True)


def _mentor_with(n: int):
    prog = programme()
    mentor = person("Asia/Jakarta", grade=12, levels={"KOM": 4})
    pairs = [make_pair(prog=prog, mentor=mentor) for _ in range(n)]
    for pair in pairs:
        make_session(pair, utcnow() + timedelta(days=3))  # upcoming
        make_session(pair, utcnow() - timedelta(days=2))  # held or not? (to mark)
    user = f.user(("mentor",), person_row=mentor)
    db.session.commit()
    return user, pairs


def test_mentor_home_statements_do_not_grow_with_pairs(client):
    counts = []
    for n in (1, 4):
        user, pairs = _mentor_with(n)
        f.login(client, user)
        _statements(client, "/mentor")  # warm: first-request lookups
        count, html = _statements(client, "/mentor")
        for pair in pairs:
            assert pair.mentee.name in html
        counts.append(count)
    assert counts[0] == counts[1], counts
