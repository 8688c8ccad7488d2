"""The programme page and the round review stay light on a large round: a page of rows (50),
counts for the rest, search / sort / paging done in the database, pick lists narrowed by a
search, and a fixed number of SQL statements whatever the round's size."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import insert

from mentormatch.extensions import db
from mentormatch.models import Participant, Person, Proposal, Round, UnmatchedMentee
from mentormatch.services import programmes, rounds
from tests import factories as f
from tests.helpers import recorded_statements


def _round(n_mentees: int, n_unmatched: int = 0):
    """A solved round: n mentees proposed to n/3 mentors (bulk inserts), a coordinator."""
    coord = f.user(("coordinator",))
    unit, loc = f.unit(), f.location()
    now = datetime.now(UTC)
    n_mentors = -(-n_mentees // 3)
    first = (db.session.query(db.func.max(Person.id)).scalar() or 0) + 1
    total = n_mentees + n_unmatched + n_mentors
    db.session.execute(insert(Person), [{
        "id": first + i, "kind": "pns", "nip": f"1985031220100{1 + i % 2}{first + i:04d}",
        "name": f"Pegawai {i:04d}", "email": f"p{first + i}@example.go.id", "unit_id": unit.id,
        "location_id": loc.id, "grade_rank": 8 if i < n_mentees + n_unmatched else 13,
        "mode": "either", "locale": "id", "is_priority": False, "active": True,
        "created_at": now, "updated_at": now} for i in range(total)])
    mentees = [first + i for i in range(n_mentees + n_unmatched)]
    mentors = [first + n_mentees + n_unmatched + i for i in range(n_mentors)]
    prog = programmes.create(coord, name="Besar", start_date=date(2026, 1, 5),
                             end_date=date(2026, 12, 31))
    prog.preferences_enabled = True
    db.session.execute(insert(Participant), [
        {"programme_id": prog.id, "person_id": p, "role": "mentee", "is_priority": False,
         "active": True} for p in mentees] + [
        {"programme_id": prog.id, "person_id": p, "role": "mentor", "capacity": 3,
         "is_priority": False, "active": True} for p in mentors])
    rnd = rounds.create(prog, coord, name="Putaran")
    db.session.execute(insert(Proposal), [{
        "round_id": rnd.id, "mentee_id": mentees[i], "mentor_id": mentors[i // 3],
        "weekday_utc": 1, "start_minute_utc": 120, "score": float(i), "mode": "online",
        "breakdown": {}, "reasons": [
            {"code": "gap", "competency": "INT" if i == 7 else "KOM", "from": 1, "to": 3},
            {"code": "common_time", "weekday": "Tue", "time": "09:00", "tz": "WIB"}],
        "manual": False} for i in range(n_mentees)])
    if n_unmatched:
        db.session.execute(insert(UnmatchedMentee), [
            {"round_id": rnd.id, "mentee_id": mentees[n_mentees + i],
             "reason": "capacity_taken" if i % 2 else "no_eligible_mentor"}
            for i in range(n_unmatched)])
    db.session.execute(Round.__table__.update().where(Round.__table__.c.id == rnd.id)
                       .values(status="solved"))
    db.session.commit()
    return coord, prog, rnd


def _statements(client, path: str) -> tuple[int, str]:
    with recorded_statements() as seen:
        resp = client.get(path)
    assert resp.status_code == 200, resp.get_data(as_text=True)[-800:]
    return len(seen), resp.get_data(as_text=True)


def _rows(html: str) -> list[str]:
    body = html.split('id="proposals"')[1].split("</tbody>")[0]
    return re.findall(r"<tr data-mentee=\"\d+\" data-mentor=\"\d+\"[^>]*>\s*<td[^>]*>([^<]+)</td>",
                      body)


def test_round_review_pages_searches_and_sorts_in_the_database(client):
    coord, prog, rnd = _round(260, n_unmatched=70)
    f.login(client, coord)
    url = f"/programmes/{prog.id}/rounds/{rnd.id}"
    n, html = _statements(client, url)
    rows = _rows(html)
    assert len(rows) == 50 and rows[0] == "Pegawai 0259"  # best score first
    assert 'id="n-proposals">260<' in html and 'rel="next"' in html
    assert 'id="n-unmatched">70<' in html and html.count("— ") <= 50 + 5
    reasons = html.split('id="unmatched-reasons">')[1].split("</p>")[0]
    assert "Kapasitas mentor sudah penuh: 35" in reasons  # counts per reason, all 70
    assert "Tidak ada mentor yang memenuhi syarat: 35" in reasons
    assert "Menampilkan 1–50 dari 260" in html  # Indonesian by default
    assert len(html.encode()) < 150 * 1024
    # the last page, sorted by mentee name: rows 251-260
    last = _rows(client.get(url, query_string={"sort": "mentee", "page": 6})
                 .get_data(as_text=True))
    assert last == [f"Pegawai {i:04d}" for i in range(250, 260)]
    # a search reaches rows that are not on the first page, and keeps its filter in paging
    found = client.get(url, query_string={"q": "pegawai 001"}).get_data(as_text=True)
    assert sorted(_rows(found)) == [f"Pegawai {i:04d}" for i in range(10, 20)]
    # the reason, in words: a competency it names (stored as its code), in either language
    for q in ("integritas", "Integrity"):
        assert _rows(client.get(url, query_string={"q": q})
                     .get_data(as_text=True)) == ["Pegawai 0007"]
    assert "menutup gap Komunikasi 1→3; sama-sama luang Selasa 09:00 WIB" in html
    # many mentees: the hand-set form asks for a search first, then lists the matches only
    assert 'id="pick-hint"' in html and 'id="by-hand"' not in html
    picked = client.get(url, query_string={"find_mentee": "Pegawai 000",
                                           "find_mentor": "pegawai 033"}).get_data(as_text=True)
    form = picked.split('id="by-hand"')[1].split("</form>")[0]
    assert form.count("<option") == 10 + 10  # Pegawai 0000-0009, mentors Pegawai 0330-0339
    assert n <= 25, n


def test_round_review_statement_count_does_not_grow_with_the_round(client, app):
    coord, prog, small = _round(12)
    f.login(client, coord)
    few, _ = _statements(client, f"/programmes/{prog.id}/rounds/{small.id}")
    _c, prog2, big = _round(300, n_unmatched=40)
    db.session.add(programmes_coordinator(prog2.id, coord.id))
    db.session.commit()
    many, html = _statements(client, f"/programmes/{prog2.id}/rounds/{big.id}")
    assert len(_rows(html)) == 50
    # same queries for 12 or 300 proposals (+2: the unmatched list and its counts appear)
    assert many <= few + 2, (few, many)


def programmes_coordinator(programme_id: int, user_id: int):
    from mentormatch.models import ProgrammeCoordinator

    return ProgrammeCoordinator(programme_id=programme_id, user_id=user_id)


def test_programme_page_pages_mentors_and_narrows_pick_lists(client):
    coord, prog, _rnd = _round(630)  # 210 mentors
    f.login(client, coord)
    url = f"/programmes/{prog.id}"
    n, html = _statements(client, url)
    assert 'id="n-mentors">210<' in html and 'id="n-mentees">630<' in html
    mentor_list = html.split('id="mentor-list"')[1].split("</details>")[0]
    assert mentor_list.count("data-mentor=") == 50 and 'rel="next"' in mentor_list
    assert 'id="pick-hint"' in html and 'name="mentee_id"' not in html
    assert len(html.encode()) < 150 * 1024
    assert n <= 20, n
    found = client.get(url, query_string={"mq": "pegawai 083"}).get_data(as_text=True)
    mentor_list = found.split('id="mentor-list"')[1].split("</details>")[0]
    assert mentor_list.count("data-mentor=") == 10  # Pegawai 0830-0839, all mentors
    last = client.get(url, query_string={"mpage": 5}).get_data(as_text=True)
    assert last.split('id="mentor-list"')[1].split("</details>")[0].count("data-mentor=") == 10
    picked = client.get(url, query_string={"find_mentee": "pegawai 012",
                                           "find_mentor": "pegawai 08"}).get_data(as_text=True)
    assert picked.split('name="mentee_id"')[1].split("</select>")[0].count("<option") == 10


@pytest.mark.parametrize("page", ["0", "999", "abc", "-1"])
def test_out_of_range_pages_show_a_valid_page(client, page):
    coord, prog, rnd = _round(60)
    f.login(client, coord)
    resp = client.get(f"/programmes/{prog.id}/rounds/{rnd.id}", query_string={"page": page})
    assert resp.status_code == 200 and len(_rows(resp.get_data(as_text=True))) in (10, 50)
