"""Rendering a page costs what the page needs: the translation catalogue is looked up once per
request (not once per string, a few hundred times a page), and a language switch still shows
the very next page in the new language."""

from __future__ import annotations

import flask_babel

from tests import factories as f
from tests.helpers import csrf_from
from tests.rounds.test_review_pages import _round


def test_translations_looked_up_once_per_page_and_language_switch_applies(client, monkeypatch):
    coord, prog, rnd = _round(60)
    f.login(client, coord)
    url = f"/programmes/{prog.id}/rounds/{rnd.id}"
    client.get(url)
    calls = [0]
    lookup = flask_babel.Domain.get_translations

    def counted(self):
        calls[0] += 1
        return lookup(self)

    monkeypatch.setattr(flask_babel.Domain, "get_translations", counted)
    html = client.get(url).get_data(as_text=True)
    assert "Menampilkan 1–50 dari 60" in html  # Indonesian by default
    assert html.count("<tr") > 50  # a page with many translated strings ...
    assert calls[0] <= 2, calls[0]  # ... looked up once (templates and Python code alike)
    token = csrf_from(client, "/")
    client.post("/language", data={"csrf_token": token, "locale": "en", "next": "/"})
    html = client.get(url).get_data(as_text=True)
    assert "Showing 1–50 of 60" in html and "Menampilkan" not in html


def test_round_review_counts_in_one_statement(client):
    """The selection's counts (mentees, mentors, free places, kept pairs) come from one
    statement: 15 statements here (19 before), whatever the round's size."""
    from tests.rounds.test_review_pages import _statements

    coord, prog, rnd = _round(120, n_unmatched=10)
    f.login(client, coord)
    url = f"/programmes/{prog.id}/rounds/{rnd.id}"
    client.get(url)
    n, html = _statements(client, url)
    assert 'id="n-proposals">120<' in html
    assert n <= 15, n


def test_signed_in_user_and_roles_loaded_in_one_statement(client):
    """Every page loads the signed-in user: account, person and roles come in one statement
    (the roles used to follow in a second one on every request)."""
    from tests.rounds.test_review_pages import _statements

    user = f.user(("coordinator",))
    f.login(client, user)
    client.get("/")
    n, html = _statements(client, "/")
    assert user.email in html or "Keluar" in html  # signed in
    assert n == 1, n  # the user with person and roles (no programme yet: nothing else)


def test_a_new_worker_loads_compiled_templates(tmp_path, database_url, monkeypatch):
    """Templates compiled by one process are kept in the instance folder: the next process
    (another gunicorn worker, a restart) loads them without compiling."""
    import jinja2

    from mentormatch import create_app
    from tests.conftest import make_settings

    settings = make_settings(database_url, app={"instance_path": str(tmp_path / "inst")})
    first = create_app(settings)
    first.jinja_env.get_template("rounds/round.html")
    assert list((tmp_path / "inst" / "template-cache").iterdir())
    compiled = []
    real = jinja2.Environment.compile

    def counting(self, *a, **k):
        compiled.append(a[1] if len(a) > 1 else k.get("name"))
        return real(self, *a, **k)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    second = create_app(settings)
    second.jinja_env.get_template("rounds/round.html")
    assert "rounds/round.html" not in compiled, compiled
