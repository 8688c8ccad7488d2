"""A coordinator runs a matching round in a real browser: programme, participants by filter,
round with a filter that leaves someone out, background solve with its progress, reasons,
lock, forbid (the round turns stale), re-solve, approve; invites and series are created.

The live server runs in this process and there is no scheduler here, so a thread runs the
same run_solves job the scheduler would (only when the test lets it, so the queued state can
be seen first)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from mentormatch.extensions import db
from mentormatch.jobs.solves import run_solves
from mentormatch.models import OutboxMessage, Pair, SessionSeries
from tests import factories as f
from tests.helpers import browser_login

pytestmark = pytest.mark.browser
TUE = ((1, 9 * 60, 12 * 60),)


@pytest.fixture
def solver_job(live_app):
    """The solve job in a background thread; it runs while the returned event is set."""
    go, stop = threading.Event(), threading.Event()

    def loop() -> None:
        while not stop.is_set():
            if go.is_set():
                with live_app.app_context():
                    try:
                        run_solves(worker="e2e")
                    finally:
                        db.session.remove()
            stop.wait(0.2)

    thread = threading.Thread(target=loop, name="e2e-solves", daemon=True)
    thread.start()
    yield go
    stop.set()
    thread.join(timeout=30)


def _solve(page, go):
    """Click (re-)solve, see the queued progress, let the job run, wait for the result."""
    go.clear()
    page.click("#solve")
    page.wait_for_selector("#round-status[data-status=queued]")
    assert page.is_visible("#progress")
    assert page.inner_text("#p-phase") == "Menunggu giliran dihitung"
    assert page.is_disabled("#solve")
    go.set()
    page.wait_for_selector("#round-status[data-status=solved]", timeout=60_000)
    assert page.is_hidden("#progress")


def test_coordinator_runs_a_round(live_app, page, solver_job):
    with live_app.app_context():
        coord = f.user(("coordinator",), email="koord@example.go.id")
        for i in range(2):
            f.person(f"Mentor {i}", grade=13, levels={"KOM": 4, "INT": 4}, windows=TUE)
        for i in range(3):
            f.person(f"Mentee {i}", grade=8, levels={"KOM": 1, "INT": 2},
                     required={"KOM": 3, "INT": 3}, windows=TUE)
        f.person("Mentee tanpa gap KOM", grade=8, levels={"KOM": 3, "INT": 1},
                 required={"KOM": 3, "INT": 3}, windows=TUE)
        db.session.commit()
        email = coord.email
    base = live_app.config["LIVE_URL"]

    browser_login(page, base, email)

    # 1. programme (the JP rule comes prefilled from the configuration)
    page.goto(f"{base}/programmes/new")
    assert page.input_value("input[name=jp_minutes_per_jp]") == "45"
    page.fill("input[name=name]", "Mentoring Kominfo 2026")
    page.fill("input[name=start_date]", "2026-01-05")
    page.fill("input[name=end_date]", "2027-06-30")
    page.click("#save-programme")
    page.wait_for_selector("#programme-name")
    assert page.inner_text("#programme-name") == "Mentoring Kominfo 2026"

    # 2. participants by filter, counted before adding
    form = "#participant-filter"
    page.select_option(f"{form} select[name=role]", "mentee")
    page.select_option(f"{form} select[name=grade_max]", "8")
    page.click("#preview")
    page.wait_for_selector("#preview-count")
    assert page.inner_text("#preview-count").startswith("4 ")
    page.click("#add")
    page.wait_for_selector("#n-mentees:text('4')")
    page.select_option(f"{form} select[name=role]", "mentor")
    page.select_option(f"{form} select[name=grade_max]", "")
    page.select_option(f"{form} select[name=grade_min]", "13")
    page.click("#preview")
    page.click("#add")
    page.wait_for_selector("#n-mentors:text('2')")

    # 3. a round whose filter (gap in Komunikasi) leaves one mentee out; counts first
    page.fill("#new-round input[name=name]", "Putaran 1")
    page.select_option("#new-round select[name=gap_in]", "KOM")
    page.click("#create-round")
    page.wait_for_selector("#counts")
    assert page.inner_text("#c-mentees") == "3" and page.inner_text("#c-mentors") == "2"
    assert page.inner_text("#round-status") == "Draf"

    # 4. solve in the background: queued progress first, then the result
    _solve(page, solver_job)
    rows = page.locator("#proposals tbody tr")
    assert rows.count() == 3
    assert "Mentee tanpa gap KOM" not in page.inner_text("#proposals")
    reason = rows.first.locator(".reason").inner_text()
    assert "Komunikasi" in reason and "WIB" in page.inner_text("#proposals")
    assert page.inner_text("#s-status") in ("optimal", "baik, belum terbukti optimal")
    assert page.is_visible("#approve")

    # 5. lock one pair (already proposed: no re-solve needed), forbid another (stale)
    first = rows.nth(0)
    locked = (first.get_attribute("data-mentee"), first.get_attribute("data-mentor"))
    first.locator("button.lock").click()
    page.wait_for_selector("#constraints li[data-kind=lock]")
    assert page.get_attribute("#round-status", "data-status") == "solved"
    second = page.locator(f"#proposals tbody tr:not([data-mentee='{locked[0]}'])").first
    forbidden = (second.get_attribute("data-mentee"), second.get_attribute("data-mentor"))
    second.locator("button.forbid").click()
    page.wait_for_selector("#constraints li[data-kind=forbid]")
    assert page.get_attribute("#round-status", "data-status") == "stale"
    assert page.is_visible("#stale") and page.locator("#approve").count() == 0

    # 6. re-solve: the lock is kept, the forbidden pair is gone
    _solve(page, solver_job)
    assert page.locator(
        f"#proposals tr[data-mentee='{locked[0]}'][data-mentor='{locked[1]}']").count() == 1
    assert page.locator(
        f"#proposals tr[data-mentee='{forbidden[0]}'][data-mentor='{forbidden[1]}']"
    ).count() == 0
    assert page.locator("#proposals tbody tr").count() == 3

    # 7. approve: pairs, series and invitations are published once
    page.click("#approve")  # asks first, with the counts
    page.wait_for_selector("#confirm-dialog[open]")
    assert "3 pasangan" in page.inner_text("#confirm-dialog")
    page.click("#confirm-yes")
    page.wait_for_selector("#approved")
    assert page.inner_text("#round-status") == "Disetujui"
    assert page.locator("#published tbody tr").count() == 3
    with live_app.app_context():
        assert db.session.scalar(select(func.count(Pair.id))) == 3
        assert db.session.scalar(select(func.count(SessionSeries.id))) == 3
        invites = db.session.scalar(select(func.count(OutboxMessage.id)).where(
            OutboxMessage.kind == "itip_request"))
        assert invites == 6  # mentor and mentee of each pair
        pairs = db.session.scalars(select(Pair)).all()
        assert (int(forbidden[0]), int(forbidden[1])) not in {
            (p.mentee_id, p.mentor_id) for p in pairs}
        db.session.remove()


def test_by_hand_mentor_list_says_who_fits(live_app, page, tmp_path):
    """Picking a mentee marks every mentor in the by-hand form: the fitting one first, the
    others with the words the refusal would use; the coordinator picks the fitting one."""
    from datetime import date

    from mentormatch.models import Participant
    from mentormatch.services import programmes, rounds

    wed = ((2, 9 * 60, 12 * 60),)
    with live_app.app_context():
        coord = f.user(("coordinator",), email="koord@example.go.id")
        prog = programmes.create(coord, name="Mentoring", start_date=date(2026, 1, 5),
                                 end_date=date(2027, 6, 30))
        full = f.person("Ani Penuh", grade=13, levels={"KOM": 4}, windows=TUE)
        fit = f.person("Budi Santoso", grade=13, levels={"KOM": 4}, windows=TUE)
        wednesday = f.person("Citra Rabu", grade=13, levels={"KOM": 4}, windows=wed)
        andi = f.person("Andi", grade=8, levels={"KOM": 1}, required={"KOM": 3}, windows=TUE)
        dewi = f.person("Dewi Lestari", grade=8, levels={"KOM": 1}, required={"KOM": 3},
                        windows=TUE)
        for role, person in (("mentor", full), ("mentor", fit), ("mentor", wednesday),
                             ("mentee", andi), ("mentee", dewi)):
            db.session.add(Participant(programme_id=prog.id, person_id=person.id, role=role,
                                       capacity=1 if person is full else None))
        rnd = rounds.create(prog, coord, name="Putaran 1")
        db.session.flush()
        rounds.set_by_hand(rnd, andi.id, full.id, coord)  # Ani's one place is taken
        db.session.commit()
        email, url = coord.email, f"/programmes/{prog.id}/rounds/{rnd.id}"
        dewi_id, fit_id, andi_id = str(dewi.id), str(fit.id), str(andi.id)
    base = live_app.config["LIVE_URL"]
    browser_login(page, base, email)
    page.goto(f"{base}{url}")
    page.click("summary:has-text('Tetapkan pasangan secara manual')")
    options = page.locator("#by-hand select[name=mentor_id] option")

    def marked(mentee_id: str) -> list[str]:
        page.select_option("#by-hand select[name=mentee_id]", mentee_id)
        page.wait_for_selector(f"#by-hand[data-marked='{mentee_id}']")
        return [options.nth(i).inner_text() for i in range(options.count())]

    # Andi's own lock with Ani does not count against Ani: both fit him, in name order
    assert marked(andi_id)[:2] == ["Ani Penuh — cocok", "Budi Santoso — cocok"]
    texts = marked(dewi_id)
    assert texts[0] == "Budi Santoso — cocok"
    assert "Ani Penuh — Mentor tidak punya tempat lagi." in texts
    assert "Citra Rabu — Kedua orang ini tidak punya waktu luang bersama." in texts
    assert page.input_value("#by-hand select[name=mentor_id]") == fit_id
    assert page.is_visible("#by-hand-note")
    # the long reasons stay on a phone's screen
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(tmp_path / "by-hand.png"), full_page=True)
    page.select_option("#by-hand select[name=mentor_id]", fit_id)
    page.click("#by-hand button[type=submit]")
    page.wait_for_selector("#constraints li[data-kind=lock]:has-text('Dewi Lestari')")
    assert "Budi Santoso" in page.inner_text(
        "#constraints li[data-kind=lock]:has-text('Dewi Lestari')")
