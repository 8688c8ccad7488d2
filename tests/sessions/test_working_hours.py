"""Working hours have one definition (issue 13.8): `[working_hours]` with its breaks (37.5 h a
week, Perpres 21/2023) is what the solver gets through the bridge and what the app checks; dated
overrides (Ramadan hours) are shipped and an admin adds the next one."""

from __future__ import annotations

import re
from datetime import date

import pytest

from mentormatch.extensions import db
from mentormatch.models import WorkingHoursOverride
from mentormatch.services import logbook, rounds, session_times, solver_bridge
from mentormatch.services.participant_errors import LogError
from tests import factories as f
from tests.helpers import csrf_from, set_settings
from tests.rounds.test_rounds import setup_programme, solve_now
from tests.sessions.test_participants_times import at, make_pair, make_session


def test_default_week_is_37_5_hours_with_both_breaks(app):
    spans = session_times.working_spans()
    assert spans[1] == [(450, 720), (780, 960)]  # Tue 07:30-12:00, 13:00-16:00
    assert spans[4] == [(450, 690), (780, 990)]  # Fri 07:30-11:30, 13:00-16:30 (Jumat)
    assert session_times.weekly_minutes() == 37.5 * 60


def test_solver_reads_the_apps_hours(app):
    # an agency whose day starts at 10:00: the solver may not use 08:00-10:00 any more
    set_settings(app, working_hours={"mon_thu": ["10:00", "16:00"]})
    coord, prog, mentors, mentees = setup_programme(n_mentors=1, n_mentees=1)
    for p in (*mentors, *mentees):
        p.availability[0].start_minute, p.availability[0].end_minute = 8 * 60, 10 * 60
    db.session.commit()
    rnd = rounds.create(prog, coord, name="R")
    cfg = solver_bridge.solver_config(rnd)
    assert cfg.working_hours[1] == ((600, 720), (780, 960))
    rnd = solve_now(rnd, coord)
    assert rnd.proposals == []  # free only 08:00-10:00, outside the agency's hours


def test_ramadan_override_shipped_and_added_by_an_admin(client, app):
    # shipped: Ramadan 1447 H (2026) hours are shorter
    ramadan = session_times.working_spans(date(2026, 3, 3))
    assert ramadan[1] == [(480, 720), (750, 900)]  # 08:00-12:00, 12:30-15:00
    assert session_times.working_spans(date(2026, 3, 24))[1] == [(450, 720), (780, 960)]
    admin = f.user(("admin",))
    db.session.commit()
    f.login(client, admin)
    token = csrf_from(client, "/admin/working-hours")
    form = {"csrf_token": token, "name": "Ramadan 1448 H", "from": "2027-02-08",
            "to": "2027-03-09", "mon_thu_start": "08:00", "mon_thu_end": "15:00",
            "mon_thu_break_start": "12:00", "mon_thu_break_end": "12:30",
            "fri_start": "08:00", "fri_end": "15:30", "fri_break_start": "11:30",
            "fri_break_end": "12:30"}
    bad = client.post("/admin/working-hours", data={**form, "mon_thu_end": "07:00"},
                      follow_redirects=True).get_data(as_text=True)
    assert "Setiap hari kerja harus berakhir setelah dimulai" in bad
    assert db.session.query(WorkingHoursOverride).count() == 0
    page = client.post("/admin/working-hours", data=form, follow_redirects=True)
    html = page.get_data(as_text=True)
    assert "Ramadan 1448 H" in html and "Ramadan 1447 H" in html
    assert re.search(r'id="regular-hours">37.5<', html)
    again = client.post("/admin/working-hours", data=form, follow_redirects=True)
    assert "tumpang tindih" in again.get_data(as_text=True)
    assert db.session.query(WorkingHoursOverride).count() == 1
    # a mentor's proposal at 15:00 on a Ramadan Tuesday is outside that day's hours
    pair = make_pair(start=date(2027, 1, 1), end=date(2027, 12, 31), mentee_tz="Asia/Jakarta")
    session = make_session(pair, start=at(date(2027, 2, 2), 9))
    now = at(date(2027, 1, 20), 9)
    with pytest.raises(LogError) as err:
        logbook.propose_time(session, pair.mentor, at(date(2027, 2, 16), 15), now=now)
    assert err.value.code == "outside_working_hours"
    with app.test_request_context():
        assert "15:00" in err.value.message() and "08:00–12:00" in err.value.message()
    logbook.propose_time(session, pair.mentor, at(date(2027, 3, 16), 15), now=now)  # normal day


def test_only_admins_manage_working_hours(client, app):
    coord = f.user(("coordinator",))
    db.session.commit()
    f.login(client, coord)
    assert client.get("/admin/working-hours").status_code == 403
