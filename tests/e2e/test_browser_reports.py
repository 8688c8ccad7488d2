"""A coordinator opens the programme dashboard on a phone-sized screen (390 x 844): the five
charts are drawn (painted canvas pixels), nothing overflows the screen; the printable report
keeps its charts drawn under print media and hides the navigation."""

from __future__ import annotations

import pytest

from mentormatch.extensions import db
from mentormatch.models import ProgrammeCoordinator
from tests import factories as f
from tests.helpers import browser_login
from tests.reports.test_reports import build_world

pytestmark = pytest.mark.browser

CHARTS = ("chart-sessions", "chart-invites", "chart-trend", "chart-units", "chart-competencies")
PAINTED = """id => { const c = document.getElementById(id);
  if (!c || !c.width || !c.height) return 0;
  const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0; for (let i = 3; i < px.length; i += 4) if (px[i]) n++;
  return n; }"""


def _assert_drawn(page):
    for chart_id in CHARTS:
        assert page.evaluate(PAINTED, chart_id) > 100, chart_id
        assert page.evaluate("id => !!Chart.getChart(id)", chart_id)


def test_dashboard_charts_drawn_on_a_phone_and_in_print(live_app, page):
    with live_app.app_context():
        world = build_world()
        u = f.user(("coordinator",), email="koord-report@example.go.id")
        db.session.add(ProgrammeCoordinator(programme_id=world["prog"].id, user_id=u.id))
        db.session.commit()
        pid = world["prog"].id
    base = live_app.config["LIVE_URL"]
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: msg.type == "error"  # failed loads: see "response"
            and not msg.text.startswith("Failed to load resource") and errors.append(msg.text))
    page.on("response", lambda r: r.status >= 400 and "favicon" not in r.url
            and errors.append(f"{r.status} {r.url}"))
    browser_login(page, base, "koord-report@example.go.id")

    page.goto(f"{base}/programmes/{pid}/reports/")
    assert page.viewport_size == {"width": 390, "height": 844}
    page.wait_for_function("window.mmCharts && window.mmCharts.length === 5")
    assert page.locator("#kpi-matched").inner_text() == "50 %"  # Indonesian: 50 %, 92,5 %
    _assert_drawn(page)
    # readable on a phone: the page itself never scrolls sideways (wide tables scroll inside)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    for chart_id in CHARTS:
        box = page.locator(f"#{chart_id}").bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 391, chart_id
    assert not errors, errors

    page.goto(f"{base}/programmes/{pid}/reports/print")
    page.wait_for_function("window.mmCharts && window.mmCharts.length === 5")
    page.emulate_media(media="print")
    page.wait_for_timeout(200)  # Chart.js redraws on the resize the print layout causes
    assert not page.locator(".report-nav").first.is_visible()
    assert not page.locator("#print-report").is_visible()
    assert page.locator("#kpis").is_visible() and page.locator("#by-unit").is_visible()
    _assert_drawn(page)
    page.emulate_media(media="screen")
    assert not errors, errors
