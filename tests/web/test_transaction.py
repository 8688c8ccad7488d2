"""The request's one commit path (mentormatch/web/transaction.py): how an answer settles the
unit of work, and the named ``committed()`` block. "Stored" is read on a connection of its own,
so a write the session merely holds does not count."""

from __future__ import annotations

import pytest
from flask import Response
from sqlalchemy import func, select

from mentormatch.extensions import db
from mentormatch.models import Unit
from mentormatch.services.errors import ServiceError
from mentormatch.web.transaction import committed, refused, settle


def _stored(name: str) -> bool:
    with db.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(Unit).where(Unit.name == name)) == 1


def _write(name: str) -> None:
    db.session.add(Unit(name=name))
    db.session.flush()


@pytest.mark.parametrize(("method", "status", "stays"), [
    ("POST", 200, True), ("POST", 302, True), ("DELETE", 204, True),
    ("POST", 400, False), ("POST", 422, False), ("POST", 500, False),
    ("GET", 404, False), ("GET", 503, False),
])
def test_the_answer_settles_the_request(app, method, status, stays):
    with app.test_request_context("/", method=method):
        _write("Dinas A")
        settle(Response(status=status))
        assert _stored("Dinas A") is stays
        assert (db.session.scalar(select(Unit).where(Unit.name == "Dinas A")) is not None) \
            is stays


def test_a_successful_get_commits_nothing(app):
    with app.test_request_context("/", method="GET"):
        _write("Dinas B")
        settle(Response(status=200))
        assert not _stored("Dinas B")
    db.session.rollback()


def test_a_refusal_rolls_back_even_with_a_successful_answer(app):
    with app.test_request_context("/", method="POST"):
        _write("Dinas C")
        refused(ServiceError("no"), tell=False)
        _write("Dinas D")  # written after the refusal: still not committed
        settle(Response(status=302))
        assert not _stored("Dinas C") and not _stored("Dinas D")


def test_committed_commits_at_its_point_even_when_the_answer_is_an_error(app):
    with app.test_request_context("/", method="POST"):
        with committed():
            _write("Dinas E")
        assert _stored("Dinas E")  # before the request ends
        _write("Dinas F")
        settle(Response(status=409))
        assert _stored("Dinas E") and not _stored("Dinas F")


def test_committed_rolls_back_a_failed_block_and_reraises(app):
    with app.test_request_context("/", method="POST"):
        _write("Dinas G")
        with pytest.raises(ServiceError), committed():
            _write("Dinas H")
            raise ServiceError("no")
        assert not _stored("Dinas G") and not _stored("Dinas H")
        assert db.session.scalar(select(func.count()).select_from(Unit)) == 0


def test_committed_rolls_back_a_failed_commit(app):
    with app.test_request_context("/", method="POST"):
        with committed():
            _write("Dinas I")
        db.session.add(Unit(name="Dinas I"))  # the unique name: the commit itself fails
        with pytest.raises(Exception, match="(?i)unique|duplicate"), committed():
            pass
        # the session is usable again (rolled back), and the first write stands
        assert db.session.scalar(select(func.count()).select_from(Unit)) == 1


def test_a_failing_commit_is_answered_by_the_error_handlers(app):
    with app.test_request_context("/people/", method="POST"):
        with committed():
            _write("Dinas J")
        db.session.add(Unit(name="Dinas J"))  # the request's own commit will fail
        answer = settle(Response(status=302))
        assert answer.status_code == 500
        assert "Traceback" not in answer.get_data(as_text=True)
        assert db.session.scalar(select(func.count()).select_from(Unit)) == 1
