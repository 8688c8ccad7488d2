"""A coordinator opens the programme dashboard on a phone-sized screen: the charts are drawn."""

from __future__ import annotations

import pytest

from mentormatch.extensions import db
from mentormatch.models import ProgrammeCoordinator
from tests import factories as f
from tests.test_reports import build_world

pytestmark = pytest.mark.browser


def test_dashboard_charts_drawn(live_app, page):
    with live_app.app_context():
        world = build_world()
        u = f.user(("coordinator",), email="koord-report@example.go.id")
        db.session.add(ProgrammeCoordinator(programme_id=world["prog"].id, user_id=u.id))
        db.session.commit()
        pid = world["prog"].id
    base = live_app.config["LIVE_URL"]
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("response", lambda r: r.status >= 400 and "favicon" not in r.url
            and errors.append(f"{r.status} {r.url}"))

    page.goto(f"{base}/login")
    page.fill("input[name=email]", "koord-report@example.go.id")
    page.fill("input[name=password]", f.PASSWORD)
    page.click("#login")
    page.wait_for_url(f"{base}/")

    page.goto(f"{base}/programmes/{pid}/reports/")
    page.wait_for_function("window.mmCharts && window.mmCharts.length === 5")
    assert page.locator("#kpi-matched").inner_text() == "66.7 %"
    for chart_id in ("chart-sessions", "chart-invites", "chart-trend", "chart-units",
                     "chart-competencies"):
        painted = page.evaluate(
            """id => { const c = document.getElementById(id);
                       if (!c.width || !c.height) return 0;
                       const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                       let n = 0; for (let i = 3; i < px.length; i += 4) if (px[i]) n++;
                       return n; }""", chart_id)
        assert painted > 100, chart_id
        assert page.evaluate("id => !!Chart.getChart(id)", chart_id)
    # readable on a phone: nothing overflows horizontally
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert not errors, errors

    page.goto(f"{base}/programmes/{pid}/reports/print")
    page.wait_for_function("window.mmCharts && window.mmCharts.length === 5")
    page.emulate_media(media="print")
    assert not page.locator(".report-nav").first.is_visible()
    assert not errors, errors
