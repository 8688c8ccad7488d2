"""E-mail templates: gettext only (no per-language branches), and every one renders in both
languages - Bahasa Indonesia by default, English on request - with its subject line first."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from jinja2 import ChainableUndefined

from mentormatch.services.mailer import render_email

EMAIL_DIR = Path(__file__).resolve().parents[2] / "templates" / "email"
NAMES = sorted(p.stem for p in EMAIL_DIR.glob("*.txt"))


def test_every_text_template_has_its_html_twin_and_no_language_branches():
    assert NAMES, "no e-mail templates found"
    for name in NAMES:
        assert (EMAIL_DIR / f"{name}.html").is_file(), name
        for ext in ("txt", "html"):
            source = (EMAIL_DIR / f"{name}.{ext}").read_text()
            assert "locale == 'en'" not in source and 'locale == "en"' not in source, name
            assert "_(" in source, f"{name}.{ext} has no translatable text"
        assert (EMAIL_DIR / f"{name}.txt").read_text().startswith("Subject:"), name


class _Loose(ChainableUndefined):
    """Missing variables (and helpers passed in the context) render as empty."""

    def __call__(self, *args, **kwargs):
        return self

    def __int__(self):
        return 0

    __index__ = __int__

    def __float__(self):
        return 0.0


@pytest.fixture
def loose(app):
    """Render with any missing variable standing in as an empty value: the point here is the
    text mechanics of every template, whatever context its service passes."""
    original = app.jinja_env.undefined
    app.jinja_env.undefined = _Loose  # looked up at render time: no cache to clear
    try:
        with app.test_request_context():
            yield
    finally:
        app.jinja_env.undefined = original


@pytest.mark.parametrize("name", NAMES)
def test_renders_in_both_languages(loose, name):
    subject_id, text_id, html_id = render_email(name, "id")
    subject_en, text_en, html_en = render_email(name, "en")
    assert subject_id and subject_en, name
    assert "{{" not in text_id + html_id and "{%" not in text_id + html_id
    # the Indonesian catalogue covers the template: the two renderings differ
    assert (subject_id, text_id) != (subject_en, text_en), f"{name}: not translated"
    assert '<html lang="id"' in html_id or "lang" not in html_id


def _person(name, tz="Asia/Jakarta", locale="id"):
    return SimpleNamespace(name=name, timezone=tz, locale=locale)


PAIR = SimpleNamespace(mentor=_person("Budi"), mentee=_person("Sari"),
                       programme=SimpleNamespace(name="Mentoring Kominfo"))


@pytest.mark.parametrize("locale,expected", [
    ("id", ["Pengingat: sesi mentoring 24 jam lagi", "Yth. Sari,", "Tautan pertemuan"]),
    ("en", ["Reminder: mentoring session in 24 hours", "Dear Sari,", "Meeting link"]),
])
def test_reminder_in_each_language(app, locale, expected):
    with app.test_request_context():
        subject, text, html = render_email(
            "reminder", locale, person=PAIR.mentee, pair=PAIR, hours=24,
            series=SimpleNamespace(meeting_url="https://meet.example.go.id/x"),
            start_local="Selasa, 2 Mar 2027 09:00 WIB")
    rendered = f"{subject}\n{text}"
    for piece in expected:
        assert piece in rendered
    assert "https://meet.example.go.id/x" in html


@pytest.mark.parametrize("locale,expected", [
    ("id", ["Undangan belum dijawab (1)", "Yth. Budi,",
            "Budi (mentor), pasangan Budi & Sari: belum dijawab selama 9 hari, "
            "diundang Senin, 22 Feb 2027 09:00 WIB.", "Buka pasangan P: https://x/p"]),
    ("en", ["Unanswered invitations (1)", "Dear Budi,",
            "Budi (mentor), pair Budi & Sari: unanswered for 9 days, "
            "invited Monday, 22 Feb 2027 09:00 WIB.", "Open the pairs of P: https://x/p"]),
])
def test_escalation_in_each_language(app, locale, expected):
    row = {"attendee": SimpleNamespace(person=PAIR.mentor, role="mentor"), "pair": PAIR,
           "days": 9, "since": ("Senin" if locale == "id" else "Monday")
           + ", 22 Feb 2027 09:00 WIB"}
    with app.test_request_context():
        subject, text, _html = render_email(
            "escalate", locale, user=SimpleNamespace(person=PAIR.mentor, email="k@x"), count=1,
            groups=[{"programme": SimpleNamespace(name="P"), "rows": [row],
                     "link": "https://x/p"}])
    for piece in expected:
        assert piece in f"{subject}\n{text}"


def test_html_escapes_names_but_keeps_the_text(app):
    evil = SimpleNamespace(mentor=_person("<b>Budi</b>"), mentee=_person("Sari & Co"),
                           programme=SimpleNamespace(name="P"))
    with app.test_request_context():
        _s, text, html = render_email("decline_notice", "id", pair=evil)
    assert "<b>Budi</b>" in text  # plain text is plain
    assert "&lt;b&gt;Budi&lt;/b&gt;" in html and "Sari &amp; Co" in html
