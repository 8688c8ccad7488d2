"""A coordinator runs a matching round in a real browser: programme, participants by filter,
round, background solve, reasons, lock, forbid, re-solve, approve."""

from __future__ import annotations

import pytest

from mentormatch.extensions import db
from mentormatch.models import Pair
from tests import factories as f

pytestmark = pytest.mark.browser
TUE = ((1, 9 * 60, 12 * 60),)


def _solve(page):
    page.click("#solve")
    page.wait_for_selector("#round-status[data-status=solved]", timeout=60_000)


def test_coordinator_runs_a_round(live_app, page):
    with live_app.app_context():
        coord = f.user(("coordinator",), email="koord@example.go.id")
        for i in range(2):
            f.person(f"Mentor {i}", grade=13, levels={"KOM": 4, "INT": 4}, windows=TUE)
        for i in range(3):
            f.person(f"Mentee {i}", grade=8, levels={"KOM": 1, "INT": 2},
                     required={"KOM": 3, "INT": 3}, windows=TUE)
        db.session.commit()
        email = coord.email
    base = live_app.config["LIVE_URL"]

    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", f.PASSWORD)
    page.click("#login")
    page.wait_for_url(f"{base}/")

    # 1. programme
    page.goto(f"{base}/programmes/new")
    page.fill("input[name=name]", "Mentoring Kominfo 2026")
    page.fill("input[name=start_date]", "2026-01-05")
    page.fill("input[name=end_date]", "2026-06-30")
    page.click("#save-programme")
    page.wait_for_selector("#programme-name")
    assert page.inner_text("#programme-name") == "Mentoring Kominfo 2026"

    # 2. participants by filter, counted before adding
    form = "#participant-filter"
    page.select_option(f"{form} select[name=role]", "mentee")
    page.fill(f"{form} input[name=grade_max]", "8")
    page.click("#preview")
    page.wait_for_selector("#preview-count")
    assert page.inner_text("#preview-count").startswith("3 ")
    page.click("#add")
    page.wait_for_selector("#n-mentees:text('3')")
    page.select_option(f"{form} select[name=role]", "mentor")
    page.fill(f"{form} input[name=grade_max]", "")
    page.fill(f"{form} input[name=grade_min]", "13")
    page.click("#preview")
    page.click("#add")
    page.wait_for_selector("#n-mentors:text('2')")

    # 3. a round with a filter; counts shown before solving
    page.fill("#new-round input[name=name]", "Putaran 1")
    page.select_option("#new-round select[name=gap_in]", "KOM")
    page.click("#create-round")
    page.wait_for_selector("#counts")
    assert page.inner_text("#c-mentees") == "3" and page.inner_text("#c-mentors") == "2"

    # 4. solve in the background; the page polls and shows the result
    _solve(page)
    rows = page.locator("#proposals tbody tr")
    assert rows.count() == 3
    reason = rows.first.locator(".reason").inner_text()
    assert "Komunikasi" in reason and "WIB" in page.inner_text("#proposals")
    assert "OPTIMAL" in page.inner_text("#stats") or "FEASIBLE" in page.inner_text("#stats")

    # 5. lock one pair, forbid another, re-solve
    first = rows.nth(0)
    locked = (first.get_attribute("data-mentee"), first.get_attribute("data-mentor"))
    first.locator("button.lock").click()
    page.wait_for_selector("#constraints li[data-kind=lock]")
    second = page.locator(f"#proposals tbody tr:not([data-mentee='{locked[0]}'])").first
    forbidden = (second.get_attribute("data-mentee"), second.get_attribute("data-mentor"))
    second.locator("button.forbid").click()
    page.wait_for_selector("#constraints li[data-kind=forbid]")
    _solve(page)
    assert page.locator(
        f"#proposals tr[data-mentee='{locked[0]}'][data-mentor='{locked[1]}']").count() == 1
    assert page.locator(
        f"#proposals tr[data-mentee='{forbidden[0]}'][data-mentor='{forbidden[1]}']"
    ).count() == 0

    # 6. approve: pairs are published once
    page.click("#approve")
    page.wait_for_selector("#approved")
    assert page.inner_text("#round-status") == "approved"
    with live_app.app_context():
        assert db.session.query(Pair).count() == 3
