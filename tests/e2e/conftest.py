"""Browser tests: a live server in a thread and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import shutil
import threading

import pytest
from werkzeug.serving import make_server

from mentormatch import create_app
from mentormatch.extensions import db
from tests.conftest import make_settings

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def _serve(folder):
    """The app on a loopback port in a thread, with its own SQLite database."""
    app = create_app(make_settings(f"sqlite:///{folder / 'live.db'}"))
    app.instance_path = str(folder / "instance")
    with app.app_context():
        from mentormatch.services.catalogue import sync_competencies

        db.create_all()
        sync_competencies()
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config["LIVE_URL"] = f"http://127.0.0.1:{server.server_port}"
    yield app
    server.shutdown()
    thread.join(timeout=10)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def live_app(tmp_path):
    yield from _serve(tmp_path)


@pytest.fixture(scope="module")
def module_app(tmp_path_factory):
    """One live app for a whole test module (the journeys share it; each seeds its own people)."""
    yield from _serve(tmp_path_factory.mktemp("journeys"))


@pytest.fixture(scope="module")
def module_solver(module_app):
    """The scheduler's solve job in a thread next to the module's app, always running."""
    from mentormatch.jobs.solves import run_solves

    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            with module_app.app_context():
                try:
                    run_solves(worker="e2e-journeys")
                finally:
                    db.session.remove()
            stop.wait(0.2)

    thread = threading.Thread(target=loop, name="e2e-journey-solves", daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(timeout=30)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone screen
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    yield pg
    context.close()
