"""A person logs in as coordinator, mentor and mentee in a real browser on a phone-sized screen."""

from __future__ import annotations

import pytest

from mentormatch.extensions import db
from mentormatch.models import Person, User
from mentormatch.services.demo import DEMO_PASSWORD, seed_demo

pytestmark = pytest.mark.browser


def _login(page, base, email):
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("#login")
    page.wait_for_url(f"{base}/")


def test_roles_in_browser(live_app, page):
    with live_app.app_context():
        seed_demo(mentors=8, mentees=12)
        db.session.commit()
        mentor = db.session.query(User).filter(User.email.like("%.0@demo.go.id")).one()
        mentor_email, mentor_person = mentor.email, mentor.person_id
        mentee_email = db.session.query(User).filter(User.email.like("%.8@demo.go.id")).one().email
        other = db.session.query(Person).filter(Person.id != mentor_person).first().id
    base = live_app.config["LIVE_URL"]

    _login(page, base, "koordinator@demo.go.id")
    assert page.locator("h1").inner_text().startswith("Selamat datang")
    page.click("text=Pegawai")
    page.wait_for_selector("#people")
    assert page.locator("#people tbody tr").count() == 20
    page.select_option("select[name=city]", "Palu")
    page.click("button:has-text('Saring')")
    page.locator("#people tbody tr").first.wait_for()
    page.locator("#people tbody a").first.click()
    page.wait_for_selector("#competency-chart .bar.current")
    assert "WITA" in page.content()
    # nothing overflows the phone screen horizontally
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.click("#logout")

    _login(page, base, mentor_email)
    page.click("text=Profil saya")
    page.wait_for_selector("#availability")
    resp = page.goto(f"{base}/people/{other}")
    assert resp.status == 404
    page.goto(f"{base}/")
    page.click("#logout")

    _login(page, base, mentee_email)
    assert page.locator("nav >> text=Pegawai").count() == 0  # no staff menu for a mentee
    page.click("text=Profil saya")
    page.wait_for_selector("#competency-chart .bar.required")
    page.click("#logout")

    _login(page, base, "admin@demo.go.id")
    page.click("button:has-text('EN')")
    page.wait_for_selector("text=People and competency profiles")
