"""Staff import over HTTP: access, preview, confirm once, template downloads."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
from flask import g
from sqlalchemy import func, select

from mentormatch.extensions import db as _db
from mentormatch.models import Person
from tests import factories
from tests.helpers import csrf_in
from tests.people.test_staff_import import GOOD, csv_bytes, with_value


@pytest.fixture
def web(app):
    return app.test_client()


def people() -> int:
    _db.session.rollback()
    return _db.session.scalar(select(func.count()).select_from(Person))


def coordinator(web):
    u = factories.user(("coordinator",))
    _db.session.commit()
    factories.login(web, u)
    page = web.get("/people/import/")
    assert page.status_code == 200
    return csrf_in(page.text)


def upload(web, csrf, data: bytes, name: str = "staff.csv"):
    return web.post("/people/import/preview",
                    data={"csrf_token": csrf, "file": (io.BytesIO(data), name)},
                    content_type="multipart/form-data")


def test_anonymous_is_sent_to_login(web):
    for url in ("/people/import/", "/people/import/template.xlsx"):
        response = web.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert web.post("/people/import/confirm", data={"token": "x" * 32}).status_code in (302, 400)


def test_mentee_is_refused(web):
    u = factories.user(("mentee",))
    _db.session.commit()
    factories.login(web, u)
    assert web.get("/people/import/").status_code == 403
    assert web.get("/people/import/template.csv").status_code == 403


def test_preview_then_confirm_once(web, app):
    csrf = coordinator(web)
    response = upload(web, csrf, csv_bytes(GOOD))
    assert response.status_code == 200
    assert 'id="count-new">2<' in response.text
    token = re.search(r'name="token" value="([^"]+)"', response.text).group(1)
    assert token not in str(web.get_cookie("session"))
    assert people() == 0  # preview writes nothing
    form = {"csrf_token": csrf, "token": token}
    response = web.post("/people/import/confirm", data=form, follow_redirects=True)
    assert response.status_code == 200 and people() == 2
    # The same confirm again (double click, back button): nothing more is imported.
    response = web.post("/people/import/confirm", data=form, follow_redirects=True)
    assert response.status_code == 200 and people() == 2
    assert "already imported" in response.text or "sudah diimpor" in response.text


def test_preview_shows_rows_and_ignored_columns(web):
    csrf = coordinator(web)
    head = list(csv_bytes(GOOD).decode().splitlines()[0].split(";")) + ["Agama"]
    rows = [r + ["Islam"] for r in GOOD]
    response = upload(web, csrf, csv_bytes(rows, head))
    assert response.status_code == 200
    assert 'id="import-sample"' in response.text and "Siti Rahmawati" in response.text
    assert "Agama" in response.text and "diabaikan" in response.text


def test_confirm_works_on_another_worker_and_only_for_the_uploader(web, app, database_url):
    """The upload waits in the database: a confirm served by another process (a second app
    on the same database stands for another gunicorn worker or machine) finds it; another
    coordinator's session cannot use the token."""
    from mentormatch import create_app
    from tests.conftest import FreshClient, make_settings

    csrf = coordinator(web)
    token = re.search(r'name="token" value="([^"]+)"',
                      upload(web, csrf, csv_bytes(GOOD)).text).group(1)
    intruder = factories.user(("coordinator",), email="lain@example.go.id")
    _db.session.commit()
    other_app = create_app(make_settings(database_url))
    other_app.config["SECRET_KEY"] = app.config["SECRET_KEY"]  # one deployment, one secret
    other_app.test_client_class = FreshClient
    intruder_id = intruder.get_id()  # load it here: inside other_app its engine would be used
    _db.session.rollback()
    with other_app.app_context():
        worker2 = other_app.test_client()
        worker2.set_cookie("session", web.get_cookie("session").value)
        intruder_client = other_app.test_client()
        with intruder_client.session_transaction() as sess:
            sess["_user_id"] = intruder_id
        page = intruder_client.get("/people/import/")
        icsrf = csrf_in(page.text)
        r = intruder_client.post("/people/import/confirm", data={"csrf_token": icsrf,
                                                                 "token": token})
        assert r.status_code == 302
        r = worker2.post("/people/import/confirm", data={"csrf_token": csrf, "token": token})
        assert r.status_code == 302 and r.headers["Location"].endswith("/people/import/")
        _db.session.remove()
        _db.engine.dispose()
    assert people() == 2


def _language(web, csrf, locale: str) -> None:
    web.post("/language", data={"csrf_token": csrf, "locale": locale, "next": "/people/import/"})
    # The `app` fixture keeps one app context (and so one `g`) for the whole test, and
    # Flask-Babel caches the request's locale on `g`: forget it as a new request would.
    g.pop("_flask_babel", None)


def test_preview_lists_every_error_in_the_users_language(web):
    csrf = coordinator(web)
    _language(web, csrf, "en")
    rows = with_value("Golongan", "V/a")
    rows[1][0] = "198503122010013001"
    response = upload(web, csrf, csv_bytes(rows))
    assert response.status_code == 422
    assert "Invalid grade" in response.text and "Gender digit" in response.text
    assert 'name="token"' not in response.text
    _language(web, csrf, "id")
    response = upload(web, csrf, csv_bytes(rows))
    assert "Golongan tidak valid" in response.text
    assert people() == 0


def test_rejects_other_file_types_and_bad_tokens(web):
    csrf = coordinator(web)
    assert upload(web, csrf, b"hello", "notes.pdf").status_code == 400
    response = web.post("/people/import/confirm",
                        data={"csrf_token": csrf, "token": "../../etc/passwd"})
    assert response.status_code == 302


def test_csrf_is_required(web):
    coordinator(web)
    response = web.post("/people/import/preview",
                        data={"file": (io.BytesIO(csv_bytes(GOOD)), "staff.csv")},
                        content_type="multipart/form-data")
    assert response.status_code == 400


def test_template_downloads(web):
    coordinator(web)
    response = web.get("/people/import/template.xlsx")
    assert response.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(response.data))
    assert [c.value for c in wb.active[1]][:3] == ["NIP", "Nama", "Email"]
    response = web.get("/people/import/template.csv")
    assert response.status_code == 200 and response.data.startswith(b"\xef\xbb\xbfNIP;Nama")


def test_update_preview_shows_old_to_new_and_agrees_with_counts(web):
    """Re-importing with one change: that row says what changes (old → new), the other row
    says 'unchanged', like the counts above."""
    csrf = coordinator(web)
    token = re.search(r'name="token" value="([^"]+)"',
                      upload(web, csrf, csv_bytes(GOOD)).text).group(1)
    web.post("/people/import/confirm", data={"csrf_token": csrf, "token": token})
    html = upload(web, csrf, csv_bytes(with_value("Jabatan", "Analis Kebijakan"))).text
    assert 'id="count-updated">1<' in html and 'id="count-unchanged">1<' in html
    sample = html.split('id="import-sample"', 1)[1].split("</table>", 1)[0]
    assert sample.count('data-action="update"') == 1
    assert sample.count('data-action="unchanged"') == 1
    assert "position: Analis → Analis Kebijakan" in sample
