"""What the round page promises is what is true: an approved round shows its own
participants (not the programme's current state), a round with no proposal cannot be approved
and does not boast a match quality, and the approval question says how many sessions the
pairs will really get before the programme ends."""

from __future__ import annotations

import re
from datetime import date, timedelta

from mentormatch.extensions import db
from mentormatch.models import Pair, Round
from mentormatch.services import rounds
from mentormatch.services.rounds import RoundError
from tests import factories as f
from tests.helpers import csrf_from
from tests.rounds.test_rounds import setup_programme, solve_now


def _text(client, url: str) -> str:
    db.session.rollback()
    return client.get(url).get_data(as_text=True)


def _count(html: str, key: str) -> str | None:
    m = re.search(rf'id="c-{key}">(\d+)<', html)
    return m.group(1) if m else None


def _one_mentor_full(client):
    """One mentor with one place, three mentees: the first round pairs one mentee and is
    approved; the follow-up round selects the other two and can pair nobody."""
    coord, prog, mentors, mentees = setup_programme(n_mentors=1, n_mentees=3,
                                                    default_capacity=1)
    first = solve_now(rounds.create(prog, coord, name="Putaran 1"), coord)
    assert len(first.proposals) == 1
    f.login(client, coord)
    base = f"/programmes/{prog.id}/rounds"
    token = csrf_from(client, f"{base}/{first.id}")
    r = client.post(f"{base}/{first.id}/approve", data={"csrf_token": token})
    assert r.status_code == 302
    second = solve_now(rounds.create(prog, coord, name="Putaran 2 (susulan)",
                                     kind="rematch"), coord)
    assert second.proposals == [] and second.stats["mentees"] == 2
    return coord, prog, first.id, second.id, base, token


def test_approved_round_shows_its_own_participants(client, app):
    _coord, _prog, first, second, base, _token = _one_mentor_full(client)
    html = _text(client, f"{base}/{first}")
    # as solved: three mentees, one mentor with one free place, no pair to keep
    assert (_count(html, "mentees"), _count(html, "mentors"), _count(html, "places"),
            _count(html, "kept")) == ("3", "1", "1", None), html
    assert "1 dari 3 mentee mendapat mentor" in html
    # the follow-up draft shows the programme as it is now: two gaps, the pair kept
    html = _text(client, f"{base}/{second}")
    assert (_count(html, "mentees"), _count(html, "places"), _count(html, "kept")) == \
        ("2", "0", "1")


def test_an_approved_round_solved_before_counts_were_stored_uses_its_stats(client, app):
    _coord, _prog, first, _second, base, _token = _one_mentor_full(client)
    rnd = db.session.get(Round, first)
    rnd.stats = {k: v for k, v in rnd.stats.items() if k != "counts"}
    db.session.commit()
    html = _text(client, f"{base}/{first}")
    assert (_count(html, "mentees"), _count(html, "places"), _count(html, "kept")) == \
        ("3", None, None)


def test_round_with_no_proposal_cannot_be_approved(client, app):
    coord, _prog, _first, second, base, token = _one_mentor_full(client)
    html = _text(client, f"{base}/{second}")
    assert "0 dari 2 mentee mendapat mentor" in html
    assert 'id="approve-form"' not in html and "data-confirm-title" not in html
    assert re.search(r'<button type="button" id="approve" disabled', html)
    assert "Tidak ada yang dapat disetujui" in html
    # the service refuses too, over HTTP and directly, and nothing changes
    page = client.post(f"{base}/{second}/approve", data={"csrf_token": token},
                       follow_redirects=True).get_data(as_text=True)
    assert "tidak mempunyai usulan pasangan" in page
    db.session.rollback()
    rnd = db.session.get(Round, second)
    assert rnd.status == "solved"
    try:
        rounds.approve(rnd, coord)
    except RoundError as exc:
        assert exc.code == "nothing_to_approve"
    else:
        raise AssertionError("an empty round was approved")
    db.session.rollback()
    assert db.session.get(Round, second).status == "solved"
    assert db.session.query(Pair).count() == 1


def test_match_quality_is_about_the_pairs_made(client, app):
    _coord, _prog, first, second, base, token = _one_mentor_full(client)
    html = _text(client, f"{base}/{second}")  # nobody matched: no quality figure at all
    assert 'id="stats"' in html and "kualitas kecocokan" not in html
    html = _text(client, f"{base}/{first}")  # one of three: the quality of the pairs made
    assert "kualitas kecocokan pasangan yang terbentuk:" in html
    html = _text(client, f"{base}/{first}?q=Mentee")  # the search box keeps its own words
    assert 'name="q" value="Mentee"' in html
    client.post("/language", data={"csrf_token": token, "locale": "en", "next": "/"})
    html = _text(client, f"{base}/{first}")
    assert "match quality of the pairs made:" in html


def test_every_mentee_matched_keeps_the_plain_quality(client, app):
    coord, prog, _mentors, _mentees = setup_programme()
    rnd = solve_now(rounds.create(prog, coord, name="R"), coord)
    f.login(client, coord)
    html = _text(client, f"/programmes/{prog.id}/rounds/{rnd.id}")
    assert "Semua mentee mendapat mentor" in html
    assert "kualitas kecocokan" in html and "pasangan yang terbentuk" not in html


def test_approval_question_tells_the_sessions_that_really_fit(client, app):
    # the programme ends about five weeks from now: six fortnightly sessions cannot all fit
    end = date.today() + timedelta(days=36)
    coord, prog, _mentors, _mentees = setup_programme(session_count=6, interval_weeks=2)
    prog.end_date = end
    db.session.commit()
    rnd = solve_now(rounds.create(prog, coord, name="R"), coord)
    f.login(client, coord)
    url = f"/programmes/{prog.id}/rounds/{rnd.id}"
    html = _text(client, url)
    m = re.search(r'data-confirm-text="[^"]*\(6 sesi; (\d+) pasangan mendapat lebih sedikit '
                  r'\((\d+)(?:–(\d+))?\) karena program berakhir lebih dulu\)', html)
    assert m, re.search(r'data-confirm-text="[^"]*"', html)
    promised_short, fewest = int(m.group(1)), int(m.group(2))
    most = int(m.group(3) or fewest)
    result = rounds.approve(db.session.get(Round, rnd.id), coord)
    db.session.commit()
    assert len(result.short) == promised_short == 3  # what the question said, it did
    assert min(n for _p, n in result.short) == fewest
    assert max(n for _p, n in result.short) == most
    assert 0 < fewest <= most < 6


def test_approval_question_without_shortfall_names_the_planned_sessions(client, app):
    coord, prog, _mentors, _mentees = setup_programme(session_count=6)
    rnd = solve_now(rounds.create(prog, coord, name="R"), coord)
    f.login(client, coord)
    html = _text(client, f"/programmes/{prog.id}/rounds/{rnd.id}")
    assert "setiap pasangan (6 sesi): total 6 e-mail" in html
