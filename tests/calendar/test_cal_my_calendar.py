"""The "My calendar" page reads a fixed number of SQL statements, however many series the
person attends (it used to read each series' answers and pair one by one)."""


from mentormatch.extensions import db
from tests import factories as f
from tests.helpers import recorded_statements
from tests.sessions.test_invites import make_series


def _statements(client) -> int:
    with recorded_statements() as seen:
        assert client.get("/calendar/feed").status_code == 200
    return len(seen)


def test_calendar_page_has_no_n_plus_one(app, client):
    first = make_series()
    mentee = first.pair.mentee
    mentee.feed_token = "t" * 40
    f.login(client, f.user(("mentee",), person_row=mentee))
    db.session.commit()
    _statements(client)  # warm: one-time reads (catalogue...)
    one = _statements(client)
    for _ in range(3):  # the same person attends three more series
        other = make_series()
        other.attendees[1].person_id = mentee.id
    db.session.commit()
    html = client.get("/calendar/feed").get_data(as_text=True)
    assert html.count('<article class="card" id="series-') == 4
    assert _statements(client) == one


def _feed_statements(client, token: str) -> tuple[int, str]:
    with recorded_statements() as seen:
        resp = client.get(f"/feed/{token}.ics")
    assert resp.status_code == 200
    return len(seen), resp.get_data(as_text=True)


def test_subscription_feed_has_no_n_plus_one(app, client):
    """The calendar client's feed reads a fixed number of statements, however many series."""
    first = make_series()
    mentee = first.pair.mentee
    mentee.feed_token = "f" * 40
    db.session.commit()
    _feed_statements(client, mentee.feed_token)  # warm: one-time reads (catalogue...)
    one, _ics = _feed_statements(client, mentee.feed_token)
    for _ in range(3):  # the same person attends three more series
        other = make_series()
        other.attendees[1].person_id = mentee.id
    db.session.commit()
    many, ics = _feed_statements(client, mentee.feed_token)
    assert ics.count("BEGIN:VEVENT") >= 4
    assert many == one, (one, many)
