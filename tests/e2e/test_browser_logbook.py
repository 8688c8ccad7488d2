"""In a real browser on a phone screen (390 px): the mentee logs a session, the mentor confirms
it, the mentee's JP total changes; mentor home, pair page and certificate fit the screen."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from mentormatch.extensions import db
from mentormatch.models import Pair, Programme, ProgrammeCoordinator, Session, SessionSeries, utcnow
from tests import factories as f
from tests.helpers import browser_login

pytestmark = pytest.mark.browser

LONG = "https://drive.example.go.id/laporan/" + "rencana-aksi-" * 12  # one unbroken word
FITS = "document.documentElement.scrollWidth <= window.innerWidth + 1"


def test_log_confirm_jp_and_phone_widths(live_app, page):
    today = utcnow().date()
    with live_app.app_context():
        # The programme ended yesterday: logs are still accepted (grace) and certificates ready.
        prog = Programme(name="Mentoring Kecamatan Mulyorejo " + "Terpadu" * 6,
                         start_date=today - timedelta(days=100), end_date=today - timedelta(days=1))
        db.session.add(prog)
        mentor = f.person("Budi Mentor", grade=12)
        mentee = f.person("Sari Mentee", grade=8, levels={"KOM": 2}, required={"KOM": 4},
                          loc=f.location("Palu", "Palu", "Asia/Makassar"))
        pair = Pair(programme=prog, mentor_id=mentor.id, mentee_id=mentee.id, status="active",
                    focus=["KOM"], created_at=datetime.combine(prog.start_date, time(1), UTC))
        db.session.add(pair)
        db.session.flush()
        series = SessionSeries(pair_id=pair.id, uid=f"e2e-{pair.id}@test", tzid="Asia/Jakarta",
                               first_start=utcnow() + timedelta(days=3), duration_minutes=60,
                               interval_weeks=2, count=1)
        start = (utcnow() + timedelta(days=3)).replace(microsecond=0)
        series.sessions.append(Session(recurrence_id=start, start_at=start,
                                       end_at=start + timedelta(hours=1)))
        db.session.add(series)
        f.user(("mentor",), person_row=mentor)
        f.user(("mentee",), person_row=mentee)
        coord = f.user(("coordinator",))
        db.session.add(ProgrammeCoordinator(programme_id=prog.id, user_id=coord.id))
        db.session.commit()
        pair_id, mentor_email, mentee_email = pair.id, mentor.email, mentee.email
    base = live_app.config["LIVE_URL"]

    browser_login(page, base, mentee_email)
    page.goto(f"{base}/mentee")
    assert page.locator("#jp-total").inner_text() == "0"
    assert "WITA" in page.locator("#upcoming").inner_text()  # the mentee's own zone
    page.click(f"#log-session-{pair_id}")
    page.fill("input[name=duration_minutes]", "90")
    page.fill("textarea[name=topics]", f"Komunikasi dengan pemangku kepentingan {LONG}")
    page.check("input[name=competency]")
    page.fill("textarea[name=notes]", "Latihan presentasi")
    page.locator("input[name=action_text]").first.fill("Siapkan slide")
    page.click("#save-log")
    page.wait_for_selector("#log-facts")
    assert page.evaluate(FITS)
    page.click("#logout")

    browser_login(page, base, mentor_email)
    page.goto(f"{base}/mentor")
    assert "WIB" in page.locator("#upcoming").inner_text()
    assert page.evaluate(FITS), "mentor home overflows a 390 px screen"
    page.locator("#pending-logs a").first.click()
    page.click("#confirm-log")
    page.wait_for_selector("#credited")
    assert page.evaluate(FITS)
    page.goto(f"{base}/pairs/{pair_id}")
    page.wait_for_selector("#progress-chart .bar.before")
    assert page.evaluate(FITS), "pair page overflows a 390 px screen"
    page.click("#logout")

    browser_login(page, base, mentee_email)
    page.goto(f"{base}/mentee")
    assert page.locator("#jp-total").inner_text() == "2"
    assert page.evaluate(FITS)
    page.click("#certificate-link")
    page.wait_for_selector("#certificate")
    assert "2 JP" in page.locator("#certificate-total").inner_text()
    assert page.evaluate(FITS), "certificate overflows a 390 px screen"
    assert page.locator("#certificate-pdf").get_attribute("href").startswith("/certificate.pdf")


def test_picking_a_session_sets_its_date(live_app, page, tmp_path):
    """The newcomer's report: the form shows today; choosing a session held weeks ago sets the
    date field to that session's date, and the saved log carries it. The session, now logged,
    is no longer offered."""
    from babel.dates import format_date

    from mentormatch.calendar.holidays import holiday_name

    held = utcnow().date() - timedelta(days=21)
    while held.weekday() >= 5 or holiday_name(held):
        held -= timedelta(days=1)
    with live_app.app_context():
        prog = Programme(name="Mentoring Kota Palu", start_date=held - timedelta(days=30),
                         end_date=utcnow().date() + timedelta(days=60))
        db.session.add(prog)
        mentor = f.person("Budi Mentor", grade=12)
        mentee = f.person("Sari Mentee", grade=8, levels={"KOM": 2}, required={"KOM": 4})
        pair = Pair(programme=prog, mentor_id=mentor.id, mentee_id=mentee.id, status="active",
                    focus=["KOM"], created_at=datetime.combine(prog.start_date, time(1), UTC))
        db.session.add(pair)
        db.session.flush()
        start = datetime.combine(held, time(3), UTC)  # 10:00 WIB
        series = SessionSeries(pair_id=pair.id, uid=f"e2e-pick-{pair.id}@test",
                               tzid="Asia/Jakarta", first_start=start, duration_minutes=60,
                               interval_weeks=2, count=1)
        series.sessions.append(Session(recurrence_id=start, start_at=start,
                                       end_at=start + timedelta(hours=1)))
        db.session.add(series)
        f.user(("mentee",), person_row=mentee)
        db.session.commit()
        pair_id, mentee_email, session_id = pair.id, mentee.email, series.sessions[0].id
    base = live_app.config["LIVE_URL"]

    browser_login(page, base, mentee_email)
    page.goto(f"{base}/pairs/{pair_id}/logs/new")
    day = page.locator("input[name=held_on]")
    assert day.input_value() != held.isoformat()  # today, as the newcomer saw it
    page.select_option("select[name=session_id]", str(session_id))
    assert day.input_value() == held.isoformat()
    page.fill("input[name=duration_minutes]", "60")
    page.fill("textarea[name=topics]", "Menyusun rencana aksi")
    page.screenshot(path=str(tmp_path / "log-form-session-picked.png"), full_page=True)
    page.click("#save-log")
    page.wait_for_selector("#log-facts")
    assert format_date(held, "d MMM yyyy", locale="id_ID") in page.locator(
        "#log-facts").inner_text()
    page.goto(f"{base}/pairs/{pair_id}/logs/new")
    assert page.locator(f"select[name=session_id] option[value='{session_id}']").count() == 0
