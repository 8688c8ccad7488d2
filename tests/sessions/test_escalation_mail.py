"""The coordinator's mail about unanswered invitations, as it lands in the outbox: one summary
per coordinator and run (not one mail per invitation), each invitation reported once."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta

from mentormatch.extensions import db
from mentormatch.jobs import tasks
from mentormatch.models import Pair, ProgrammeCoordinator
from mentormatch.services import invites
from tests import factories as f
from tests.sessions.test_invites import FIRST, make_pair, no_holiday, outbox


def _more_pairs(prog, n: int) -> list[Pair]:
    pairs = []
    for i in range(n):
        mentor = f.person(f"Mentor Nomor {i}", grade=12)
        mentee = f.person(f"Mentee Nomor {i}", grade=8)
        pair = Pair(programme=prog, mentor_id=mentor.id, mentee_id=mentee.id, status="invited",
                    focus=["KOM"])
        db.session.add(pair)
        db.session.flush()
        pairs.append(pair)
    return pairs


def _invite(pair: Pair, when=None):
    series = f.series(pair, FIRST, is_holiday=no_holiday)
    invites.send_invites(series)
    if when is not None:
        for att in series.attendees:
            att.invited_at = when
    db.session.commit()
    return series


def _texts(kind: str = "escalate") -> list[tuple[str, str, str, str]]:
    out = []
    for row in outbox(kind):
        msg = email.message_from_bytes(row.raw, policy=email.policy.default)
        out.append((row.recipient, str(msg["Subject"]),
                    msg.get_body(("plain",)).get_content(),
                    msg.get_body(("html",)).get_content()))
    return out


def test_one_summary_per_coordinator_and_run(app):
    first = make_pair()
    prog = first.programme
    pairs = [first, *_more_pairs(prog, 4)]
    coord = f.user(("coordinator",), email="koord@example.go.id")
    db.session.add(ProgrammeCoordinator(programme_id=prog.id, user_id=coord.id))
    db.session.commit()
    serieses = [_invite(p) for p in pairs]
    invited = serieses[0].attendees[0].invited_at
    names = [a.person.name for s in serieses for a in s.attendees]
    assert len(names) == 10

    assert tasks.escalate(invited + timedelta(days=7, minutes=1)) == 1
    [(rcpt, subject, text, html)] = _texts()
    assert rcpt == "koord@example.go.id"
    assert subject == "Undangan belum dijawab (10)"
    for name in names:
        assert name in text and name in html
    assert "belum dijawab selama 7 hari, diundang " in text and " WIB." in text
    link = f"http://127.0.0.1/programmes/{prog.id}/pairs?status=invited"
    assert link in text and link in html
    assert "Buka pasangan Mentoring Kominfo 2027" in text

    # the same day again: nothing new
    assert tasks.escalate(invited + timedelta(days=7, hours=1)) == 0
    assert tasks.escalate(invited + timedelta(days=8)) == 0
    assert len(_texts()) == 1

    # a later invitation that stays unanswered is reported, alone, on its own
    late = _more_pairs(prog, 1)[0]
    s = _invite(late, when=invited + timedelta(days=5))
    assert tasks.escalate(invited + timedelta(days=12, hours=1)) == 1
    rows = _texts()
    assert len(rows) == 2
    _r, subject2, text2, _h = rows[1]
    assert subject2 == "Undangan belum dijawab (2)"
    assert all(a.person.name in text2 for a in s.attendees)
    assert names[0] not in text2


def test_in_the_coordinators_language_and_zone(app):
    pair = make_pair()
    coord_person = f.person("Koordinator Timur", locale="en",
                            loc=f.location("L-Jayapura", "Jayapura", "Asia/Jayapura"))
    coord = f.user(("coordinator",), person_row=coord_person)
    coord.locale = "en"
    db.session.add(ProgrammeCoordinator(programme_id=pair.programme_id, user_id=coord.id))
    db.session.commit()
    series = _invite(pair)
    invited = series.attendees[0].invited_at
    assert tasks.escalate(invited + timedelta(days=9)) == 1
    [(_rcpt, subject, text, _html)] = _texts()
    assert subject == "Unanswered invitations (2)"
    assert "Dear Koordinator Timur," in text
    assert ("Budi Mentor (mentor), pair Budi Mentor & Sari Mentee: unanswered for 9 days, "
            "invited " in text)
    assert "Sari Mentee (mentee), pair Budi Mentor & Sari Mentee: unanswered for 9 days" in text
    assert " WIT." in text  # the invitation's time in the coordinator's zone (Jayapura)


def test_a_coordinator_of_two_programmes_gets_one_mail_in_sections(app):
    one, two = make_pair(), make_pair(mentor_tz="Asia/Makassar")
    two.programme.name = "Mentoring BKD 2027"
    coord = f.user(("coordinator",), email="koord@example.go.id")
    other = f.user(("coordinator",), email="koord2@example.go.id")
    db.session.add_all([ProgrammeCoordinator(programme_id=one.programme_id, user_id=coord.id),
                        ProgrammeCoordinator(programme_id=two.programme_id, user_id=coord.id),
                        ProgrammeCoordinator(programme_id=two.programme_id, user_id=other.id)])
    db.session.commit()
    series = _invite(one)
    _invite(two)
    assert tasks.escalate(series.attendees[0].invited_at + timedelta(days=8)) == 2
    by_rcpt = {r[0]: r for r in _texts()}
    assert set(by_rcpt) == {"koord@example.go.id", "koord2@example.go.id"}
    text = by_rcpt["koord@example.go.id"][2]
    assert by_rcpt["koord@example.go.id"][1] == "Undangan belum dijawab (4)"
    assert "\nMentoring Kominfo 2027\n" in text and "\nMentoring BKD 2027\n" in text
    assert f"/programmes/{one.programme_id}/pairs?status=invited" in text
    assert f"/programmes/{two.programme_id}/pairs?status=invited" in text
    assert by_rcpt["koord2@example.go.id"][1] == "Undangan belum dijawab (2)"
    assert "Mentoring Kominfo 2027" not in by_rcpt["koord2@example.go.id"][2]
