"""In a real browser on a phone screen: the mentee logs a session, the mentor confirms it,
and the mentee's JP total changes."""

from __future__ import annotations

from datetime import date

import pytest

from mentormatch.extensions import db
from mentormatch.models import Pair, Programme
from tests import factories as f

pytestmark = pytest.mark.browser


def _login(page, base, email):
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", f.PASSWORD)
    page.click("#login")
    page.wait_for_url(f"{base}/")


def test_log_confirm_jp(live_app, page):
    with live_app.app_context():
        prog = Programme(name="Mentoring 2026", start_date=date(2026, 1, 1),
                         end_date=date(2026, 12, 31))
        db.session.add(prog)
        mentor = f.person("Budi Mentor", grade=12)
        mentee = f.person("Sari Mentee", grade=8, levels={"KOM": 2}, required={"KOM": 4})
        pair = Pair(programme=prog, mentor_id=mentor.id, mentee_id=mentee.id, status="active",
                    focus=["KOM"])
        db.session.add(pair)
        f.user(("mentor",), person_row=mentor)
        f.user(("mentee",), person_row=mentee)
        db.session.commit()
        pair_id, mentor_email, mentee_email = pair.id, mentor.email, mentee.email
    base = live_app.config["LIVE_URL"]

    _login(page, base, mentee_email)
    page.goto(f"{base}/mentee")
    assert page.locator("#jp-total").inner_text() == "0"
    page.click(f"#log-session-{pair_id}")
    page.fill("input[name=duration_minutes]", "90")
    page.fill("textarea[name=topics]", "Komunikasi dengan pemangku kepentingan")
    page.check("input[name=competency]")
    page.fill("textarea[name=notes]", "Latihan presentasi")
    page.locator("input[name=action_text]").first.fill("Siapkan slide")
    page.click("#save-log")
    page.wait_for_selector("#log-facts")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.click("#logout")

    _login(page, base, mentor_email)
    page.goto(f"{base}/mentor")
    page.locator("#pending-logs a").first.click()
    page.click("#confirm-log")
    page.wait_for_selector("#credited")
    page.click("#logout")

    _login(page, base, mentee_email)
    page.goto(f"{base}/mentee")
    assert page.locator("#jp-total").inner_text() == "2"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
