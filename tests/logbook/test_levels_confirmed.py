"""Self-assessed and confirmed levels are kept apart (issue 13.5): a mentee raising their own
level is recorded as a self-assessment; the coordinator's competency report changes only with
the mentor's confirmed level."""

from __future__ import annotations

import re

from mentormatch.extensions import db
from mentormatch.models import PersonCompetency, ProgrammeCoordinator
from mentormatch.services.catalogue import by_code
from tests import factories as f
from tests.helpers import csrf_from
from tests.logbook.test_logbook import make_pair


def _report(client, prog_id: int) -> str:
    """The report page, without what differs per login (the session's CSRF token)."""
    html = client.get(f"/programmes/{prog_id}/reports/competencies").get_data(as_text=True)
    return re.sub(r'name="csrf_token" value="[^"]*"', "", re.sub(r"\s+", " ", html))


def _record(client, pair, level: int) -> None:
    token = csrf_from(client, f"/pairs/{pair.id}")
    r = client.post(f"/pairs/{pair.id}/levels", data={
        "csrf_token": token, "competency_id": by_code()["KOM"].id, "new_level": level,
        "note": "Presentasi lancar"})
    assert r.status_code == 302


def test_self_assessment_does_not_move_the_report(client, app):
    pair = make_pair()  # the mentee's Komunikasi: 2 of a required 4
    mentor = f.user(("mentor",), person_row=pair.mentor)
    mentee = f.user(("mentee",), person_row=pair.mentee)
    coord = f.user(("coordinator",))
    db.session.add(ProgrammeCoordinator(programme_id=pair.programme_id, user_id=coord.id))
    db.session.commit()
    f.login(client, coord)
    before = _report(client, pair.programme_id)

    f.login(client, mentee)
    assert 'id="self-assessment-note"' in client.get(f"/pairs/{pair.id}").get_data(as_text=True)
    _record(client, pair, 4)
    page = client.get(f"/pairs/{pair.id}").get_data(as_text=True)
    assert "penilaian diri" in page
    kom = db.session.query(PersonCompetency).filter_by(
        person_id=pair.mentee_id, competency_id=by_code()["KOM"].id).one()
    db.session.refresh(kom)
    assert kom.current_level == 2
    f.login(client, coord)
    assert _report(client, pair.programme_id) == before

    f.login(client, mentor)
    _record(client, pair, 3)
    db.session.refresh(kom)
    assert kom.current_level == 3
    f.login(client, coord)
    assert _report(client, pair.programme_id) != before
    assert "dikonfirmasi mentor" in client.get(f"/pairs/{pair.id}").get_data(as_text=True)
