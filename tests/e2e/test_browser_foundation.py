"""A person logs in as coordinator, mentor and mentee in a real browser on a phone-sized screen,
on the demo data (the README's first command seeds the same)."""

from __future__ import annotations

import pytest

from mentormatch.extensions import db
from mentormatch.models import Person, User
from mentormatch.services.demo import DEMO_PASSWORD, seed_demo
from tests.helpers import browser_login

pytestmark = pytest.mark.browser


def _fits(page) -> bool:
    page.wait_for_load_state()  # a click may still be navigating: measure the page it leads to
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_roles_in_browser(live_app, page):
    with live_app.app_context(), live_app.test_request_context(
            base_url=live_app.config["LIVE_URL"]):
        logins = seed_demo(mentors=10, mentees=24)
        db.session.commit()
        by_role = {roles: email for email, roles in logins.items()}
        mentor_email, mentee_email = by_role["mentor"], by_role["mentee"]
        mentor_person = db.session.query(User).filter_by(email=mentor_email).one().person_id
        stranger = db.session.query(Person).filter(Person.id != mentor_person,
                                                   Person.kind == "pns").order_by(
            Person.id.desc()).first().id
        people_total = db.session.query(Person).count()
    base = live_app.config["LIVE_URL"]

    browser_login(page, base, "koordinator@demo.go.id", DEMO_PASSWORD)
    assert page.locator("h1").inner_text().startswith("Selamat datang")
    assert page.locator("#my-programmes li").count() == 2
    page.click("nav >> text=Pegawai")
    page.wait_for_selector("#people")
    assert page.locator("#people tbody tr").count() == min(people_total, 50)
    page.select_option("select[name=city]", "Palu")
    page.click("button:has-text('Saring')")
    page.locator("#people tbody tr").first.wait_for()
    page.locator("#people tbody a").first.click()
    page.wait_for_selector("#competency-chart")
    assert "WITA" in page.content()
    assert _fits(page)  # nothing overflows the phone screen horizontally
    page.click("#nav-programmes")
    page.click("text=Mentoring ASN Pemprov 2026/2027")
    page.wait_for_selector("#report-link")
    assert _fits(page)
    page.click("#logout")

    browser_login(page, base, mentor_email, DEMO_PASSWORD)
    page.click("#nav-mentor")  # "Mentee saya": the demo mentor has mentees with history
    page.wait_for_selector("text=Mentee saya")
    assert _fits(page)
    resp = page.goto(f"{base}/people/{stranger}")
    assert resp.status == 404  # another person's page: not even its existence
    page.goto(f"{base}/")
    page.click("#logout")

    browser_login(page, base, mentee_email, DEMO_PASSWORD)
    assert page.locator("nav >> text=Pegawai").count() == 0  # no staff menu for a mentee
    page.click("#nav-mentee")
    assert _fits(page)
    page.click("nav >> text=Profil saya")
    page.wait_for_selector("#availability")
    page.click("#logout")

    browser_login(page, base, "admin@demo.go.id", DEMO_PASSWORD)
    page.click("button:has-text('EN')")
    page.wait_for_selector("text=People and competency profiles")
    page.click("#nav-users")
    page.wait_for_selector("#users")
