"""Programme reports: every dashboard figure (overall, by unit / city / grade band, medians per
group, trend) against a hand-computed fixture; alerts; competency progress; evaluations.

The fixture (NOW = 2026-05-01 08:00 UTC; deployment zone Asia/Jakarta, UTC+7):

people            unit     city    grade (band)  role in "Mentoring 2026"
m1 Mentor Satu    Dinas A  Padang  13 (IV)       mentor, capacity 1
m2 Mentor Dua     Dinas B  Palu    12 (III)      mentor AND mentee (counted once)
e1 Mentee Satu    Dinas A  Padang   9 (III)      mentee (English)
e2 Mentee Dua     Dinas B  Palu     5 (II)       mentee
e3 =Mentee Tiga   Dinas A  Padang   3 (I)        mentee (only a declined pair: unmatched)
e5 Mentee Lima    Dinas B  Palu     7 (II)       not a participant, yet has an active pair

pairs: pa m1-e1 active (created 01-20), pb m1-e2 active (04-20), pc m2-e3 declined (01-20),
       pd m2-e5 active (03-20); px m2-e3 in the other programme (never counted).
invitations: pa m1 ACCEPTED +2 h, e1 ACCEPTED +4 h; pb m1 DECLINED +6 h, e2 NEEDS-ACTION since
       04-21; pd e5 ACCEPTED +10 h, m2 NEEDS-ACTION since 04-30 (too recent to chase).
sessions: pa held 02-10, held 02-28 20:00 UTC (= 03-01 local), missed 03-24, not_held 04-07;
       pb cancelled 02-10, scheduled 05-12; pd held 03-25.
logs: pa 02-10 confirmed 100 min (INT, KS; 2 action items, 1 open), pa 03-01 submitted;
       pd 03-25 confirmed 80 min. Programme JP rule: rounding "half" (45 min per JP):
       e1 100 min -> 2.0 JP, e5 80 min -> 1.5 JP (floor of the sum 180 min would give 4).
feedback: mentees 5, 2, 3; mentors 4, 5.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from mentormatch.extensions import db
from mentormatch.models import (
    ActionItem,
    Attendee,
    Evaluation,
    Feedback,
    LogCompetency,
    Pair,
    Participant,
    PersonCompetency,
    Programme,
    Session,
    SessionLog,
    SessionSeries,
)
from mentormatch.services import jp, reports
from mentormatch.services.catalogue import by_code
from tests import factories as f
from tests.helpers import set_settings

NOW = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


def at(y, m, d, h=3):
    return datetime(y, m, d, h, tzinfo=UTC)


def _series(pair, n=1):
    s = SessionSeries(pair_id=pair.id, uid=f"uid-{pair.id}-{n}@test", tzid="Asia/Jakarta",
                      first_start=at(2026, 2, 10), duration_minutes=60, interval_weeks=2,
                      count=6)
    db.session.add(s)
    db.session.flush()
    return s


def _session(series, start, status):
    row = Session(series_id=series.id, recurrence_id=start, start_at=start,
                  end_at=start + timedelta(hours=1), status=status)
    db.session.add(row)
    db.session.flush()
    return row


def build_world():
    """The hand-computed fixture of the module docstring."""
    padang = f.location("Padang (Pauh)", "Padang")
    palu = f.location("Palu", "Palu", "Asia/Makassar")
    m1 = f.person("Mentor Satu", grade=13, unit_name="Dinas A", loc=padang, levels={"INT": 4})
    m2 = f.person("Mentor Dua", grade=12, unit_name="Dinas B", loc=palu)
    e1 = f.person("Mentee Satu", grade=9, unit_name="Dinas A", loc=padang, locale="en")
    e2 = f.person("Mentee Dua", grade=5, unit_name="Dinas B", loc=palu)
    e3 = f.person("=Mentee Tiga", grade=3, unit_name="Dinas A", loc=padang)
    e5 = f.person("Mentee Lima", grade=7, unit_name="Dinas B", loc=palu)
    codes = by_code()
    db.session.add_all([
        PersonCompetency(person_id=e1.id, competency_id=codes["INT"].id, baseline_level=2,
                         current_level=3, required_level=4),
        PersonCompetency(person_id=e2.id, competency_id=codes["INT"].id, baseline_level=None,
                         current_level=2, required_level=4),
    ])
    prog = Programme(name="Mentoring 2026", start_date=date(2026, 1, 1),
                     end_date=date(2026, 12, 31), jp_rule={"rounding": "half"})
    other = Programme(name="Other", start_date=date(2026, 1, 1), end_date=date(2026, 12, 31))
    db.session.add_all([prog, other])
    db.session.flush()
    db.session.add_all([
        Participant(programme_id=prog.id, person_id=m1.id, role="mentor", capacity=1),
        Participant(programme_id=prog.id, person_id=m2.id, role="mentor"),
        Participant(programme_id=prog.id, person_id=m2.id, role="mentee"),
        Participant(programme_id=prog.id, person_id=e1.id, role="mentee"),
        Participant(programme_id=prog.id, person_id=e2.id, role="mentee"),
        Participant(programme_id=prog.id, person_id=e3.id, role="mentee"),
        # the other programme's rows must not leak into the counts
        Participant(programme_id=other.id, person_id=e3.id, role="mentee"),
        Participant(programme_id=other.id, person_id=m2.id, role="mentor"),
    ])
    pa = Pair(programme_id=prog.id, mentor_id=m1.id, mentee_id=e1.id, status="active",
              created_at=at(2026, 1, 20))
    pb = Pair(programme_id=prog.id, mentor_id=m1.id, mentee_id=e2.id, status="active",
              created_at=at(2026, 4, 20))
    pc = Pair(programme_id=prog.id, mentor_id=m2.id, mentee_id=e3.id, status="declined",
              created_at=at(2026, 1, 20))
    pd = Pair(programme_id=prog.id, mentor_id=m2.id, mentee_id=e5.id, status="active",
              created_at=at(2026, 3, 20))
    px = Pair(programme_id=other.id, mentor_id=m2.id, mentee_id=e3.id, status="active",
              created_at=at(2026, 1, 20))
    db.session.add_all([pa, pb, pc, pd, px])
    db.session.flush()
    sa, sb, sd, sx = _series(pa), _series(pb), _series(pd), _series(px)
    inv, inv_d = at(2026, 1, 21, 0), at(2026, 3, 21, 0)
    db.session.add_all([
        Attendee(series_id=sa.id, person_id=m1.id, email=m1.email, role="mentor",
                 partstat="ACCEPTED", invited_at=inv, answered_at=inv + timedelta(hours=2)),
        Attendee(series_id=sa.id, person_id=e1.id, email=e1.email, role="mentee",
                 partstat="ACCEPTED", invited_at=inv, answered_at=inv + timedelta(hours=4)),
        Attendee(series_id=sb.id, person_id=m1.id, email=m1.email, role="mentor",
                 partstat="DECLINED", invited_at=inv, answered_at=inv + timedelta(hours=6)),
        Attendee(series_id=sb.id, person_id=e2.id, email=e2.email, role="mentee",
                 partstat="NEEDS-ACTION", invited_at=at(2026, 4, 21)),
        Attendee(series_id=sd.id, person_id=m2.id, email=m2.email, role="mentor",
                 partstat="NEEDS-ACTION", invited_at=at(2026, 4, 30, 0)),
        Attendee(series_id=sd.id, person_id=e5.id, email=e5.email, role="mentee",
                 partstat="ACCEPTED", invited_at=inv_d, answered_at=inv_d + timedelta(hours=10)),
        Attendee(series_id=sx.id, person_id=e3.id, email=e3.email, role="mentee",
                 partstat="NEEDS-ACTION", invited_at=inv),
    ])
    s1 = _session(sa, at(2026, 2, 10), "held")
    s2 = _session(sa, datetime(2026, 2, 28, 20, 0, tzinfo=UTC), "held")  # 1 March in Jakarta
    _session(sa, at(2026, 3, 24), "missed")
    _session(sa, at(2026, 4, 7), "not_held")
    _session(sb, at(2026, 2, 10), "cancelled")
    _session(sb, at(2026, 5, 12), "scheduled")
    s3 = _session(sd, at(2026, 3, 25), "held")
    _session(sx, at(2026, 2, 10), "held")
    log1 = SessionLog(pair_id=pa.id, session_id=s1.id, author_id=e1.id, held_on=date(2026, 2, 10),
                      duration_minutes=100, topics="SECRET-TOPIC", notes="SECRET-NOTE-1",
                      status="confirmed", credited_minutes=100, confirmed_by_id=m1.id,
                      confirmed_at=at(2026, 2, 11))
    log2 = SessionLog(pair_id=pa.id, session_id=s2.id, author_id=e1.id, held_on=date(2026, 3, 1),
                      duration_minutes=60, topics="Integritas", notes="SECRET-NOTE-2",
                      status="submitted", credited_minutes=0)
    log3 = SessionLog(pair_id=pd.id, session_id=s3.id, author_id=e5.id,
                      held_on=date(2026, 3, 25), duration_minutes=80, topics="Rencana",
                      status="confirmed", credited_minutes=80, confirmed_by_id=m2.id,
                      confirmed_at=at(2026, 3, 26))
    db.session.add_all([log1, log2, log3])
    db.session.flush()
    db.session.add_all([
        LogCompetency(log_id=log1.id, competency_id=codes["KS"].id),
        LogCompetency(log_id=log1.id, competency_id=codes["INT"].id),
        ActionItem(log_id=log1.id, text="SECRET-ACTION", done=True),
        ActionItem(log_id=log1.id, text="Susun rencana", done=False),
        Feedback(log_id=log1.id, author_id=e1.id, rating=5, comment="private words"),
        Feedback(log_id=log1.id, author_id=m1.id, rating=4),
        Feedback(log_id=log2.id, author_id=e1.id, rating=2),
        Feedback(log_id=log3.id, author_id=e5.id, rating=3),
        Feedback(log_id=log3.id, author_id=m2.id, rating=5),
        Evaluation(pair_id=pa.id, author_id=e1.id, stage="mid",
                   answers={"usefulness": 4, "relevance": 5, "comment": "SECRET-EVAL"},
                   submitted_at=at(2026, 3, 15)),
        Evaluation(pair_id=pa.id, author_id=m1.id, stage="mid", answers={"usefulness": 2},
                   submitted_at=at(2026, 3, 16)),
        Evaluation(pair_id=pd.id, author_id=e5.id, stage="mid", answers={"usefulness": 5},
                   submitted_at=at(2026, 3, 17)),
        Evaluation(pair_id=pa.id, author_id=e1.id, stage="end", answers={"usefulness": 3},
                   submitted_at=at(2026, 4, 30)),
    ])
    db.session.flush()
    return {"prog": prog, "other": other, "m1": m1, "m2": m2, "e1": e1, "e2": e2, "e3": e3,
            "e5": e5, "pa": pa, "pb": pb, "pc": pc, "pd": pd, "log1": log1}


@pytest.fixture
def world(app, monkeypatch):
    # the figures as of the fixture's now: upcoming = still to come at NOW
    monkeypatch.setattr(reports.common, "utcnow", lambda: NOW)
    w = build_world()
    db.session.commit()
    return w


def _by(data, dim, label):
    return next(r for r in data["by"][dim] if r["label"] == label)


def _pick(row, *keys):
    return tuple(row[k] for k in keys)


PEOPLE = ("participants", "mentors", "mentees", "matched", "unmatched", "matched_pct")
INVITES = ("invites_accepted", "invites_declined", "invites_unanswered", "median_answer_hours")
SESSIONS = ("sessions_planned", "sessions_held", "sessions_missed", "sessions_cancelled",
            "sessions_upcoming")
WORK = ("logs_confirmed", "logs_submitted", "credited_minutes", "jp_credited")
RATINGS = ("rating_mentee", "rating_mentor", "rating_all")


def test_dashboard_overall(world):
    o = reports.dashboard(world["prog"])["overall"]
    assert _pick(o, *PEOPLE) == (5, 2, 4, 2, 2, 50.0)
    assert _pick(o, *INVITES) == (3, 1, 2, 5.0)  # delays 2, 4, 6, 10 h
    assert o["invites_tentative"] == 0 and o["acceptance_pct"] == 75.0
    assert _pick(o, *SESSIONS) == (6, 3, 2, 1, 1)
    assert o["held_pct"] == 60.0
    assert _pick(o, *WORK) == (2, 1, 180, 3.5)
    assert _pick(o, *RATINGS) == (3.33, 4.5, 3.8)
    assert (o["pairs"], o["pairs_active"]) == (4, 3)


def test_dashboard_jp_agrees_with_the_jp_tally(world):
    """Per mentee, the programme's rule (half JP) rounds their own total, as homes do."""
    data = reports.dashboard(world["prog"])
    for key, expected in (("e1", 2.0), ("e5", 1.5)):
        assert float(jp.person_jp(world[key].id, programme_id=world["prog"].id).jp) == expected
    assert data["overall"]["jp_credited"] == 3.5
    assert (data["minutes_per_jp"], data["rounding"]) == (45, "half")


def test_breakdown_by_unit(world):
    data = reports.dashboard(world["prog"])
    assert [r["label"] for r in data["by"]["unit"]] == ["Dinas A", "Dinas B"]
    a, b = _by(data, "unit", "Dinas A"), _by(data, "unit", "Dinas B")
    assert _pick(a, *PEOPLE) == (3, 1, 2, 1, 1, 50.0)
    assert _pick(b, *PEOPLE) == (2, 1, 2, 1, 1, 50.0)  # m2 is mentor and mentee: one person
    assert _pick(a, *INVITES) == (2, 1, 0, 4.0)  # m1 2 h and 6 h, e1 4 h
    assert _pick(b, *INVITES) == (1, 0, 2, 10.0)  # e5 10 h; e2 and m2 unanswered
    assert _pick(a, *SESSIONS) == (4, 2, 2, 0, 0)
    assert _pick(b, *SESSIONS) == (2, 1, 0, 1, 1)
    assert _pick(a, *WORK) == (1, 1, 100, 2.0)
    assert _pick(b, *WORK) == (1, 0, 80, 1.5)  # e5 is not a participant: still their pair's JP
    assert _pick(a, *RATINGS) == (3.5, 4.0, 3.67)
    assert _pick(b, *RATINGS) == (3.0, 5.0, 4.0)


def test_breakdown_by_city_and_band(world):
    data = reports.dashboard(world["prog"])
    padang, palu = _by(data, "city", "Padang"), _by(data, "city", "Palu")
    assert _pick(padang, *PEOPLE, *INVITES) == (3, 1, 2, 1, 1, 50.0, 2, 1, 0, 4.0)
    assert _pick(palu, *PEOPLE, *INVITES) == (2, 1, 2, 1, 1, 50.0, 1, 0, 2, 10.0)
    assert _pick(palu, *SESSIONS, *WORK) == (2, 1, 0, 1, 1, 1, 0, 80, 1.5)

    assert [r["label"] for r in data["by"]["band"]] == ["I", "II", "III", "IV"]
    one, two, three, four = (_by(data, "band", x) for x in ("I", "II", "III", "IV"))
    assert _pick(one, *PEOPLE) == (1, 0, 1, 0, 1, 0.0)  # e3: only a declined pair
    assert _pick(two, *PEOPLE) == (1, 0, 1, 1, 0, 100.0)  # e2 (e5 is no participant)
    assert _pick(three, *PEOPLE) == (2, 1, 2, 1, 1, 50.0)  # e1, m2
    assert _pick(four, *PEOPLE) == (1, 1, 0, 0, 0, None)  # m1
    assert _pick(one, *INVITES) == (0, 0, 0, None)
    assert _pick(two, *INVITES) == (1, 0, 1, 10.0)  # e5 10 h, e2 open
    assert _pick(three, *INVITES) == (1, 0, 1, 4.0)  # e1 4 h, m2 open
    assert _pick(four, *INVITES) == (1, 1, 0, 4.0)  # m1: 2 h and 6 h
    assert _pick(two, *SESSIONS, *WORK) == (2, 1, 0, 1, 1, 1, 0, 80, 1.5)  # e2 and e5
    assert _pick(three, *SESSIONS, *WORK) == (4, 2, 2, 0, 0, 1, 1, 100, 2.0)  # e1
    assert _pick(two, *RATINGS) == (3.0, 5.0, 4.0)


def test_trend_by_local_month(world):
    trend = {t["month"]: t for t in reports.dashboard(world["prog"])["trend"]}
    assert sorted(trend) == ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05"]
    cols = ("sessions_planned", "sessions_held", "sessions_missed", "sessions_cancelled",
            "logs_confirmed", "credited_minutes", "pairs_created")
    assert _pick(trend["2026-01"], *cols) == (0, 0, 0, 0, 0, 0, 2)
    assert _pick(trend["2026-02"], *cols) == (1, 1, 0, 1, 1, 100, 0)
    # 28 Feb 20:00 UTC is 1 March in Jakarta: counted in March
    assert _pick(trend["2026-03"], *cols) == (3, 2, 1, 0, 1, 80, 1)
    assert _pick(trend["2026-04"], *cols) == (1, 0, 1, 0, 0, 0, 1)
    assert _pick(trend["2026-05"], *cols) == (1, 0, 0, 0, 0, 0, 0)
    assert trend["2026-02"]["credited_hours"] == 1.7
    assert all(isinstance(t[k], int) for t in trend.values() for k in cols)  # "1", not "1.0"


def test_totals_agree_between_dashboard_trend_and_breakdowns(world):
    """'Planned' and every other count have one definition: the headline equals the sum of
    the months and the sum of the groups of each breakdown."""
    data = reports.dashboard(world["prog"])
    o = data["overall"]
    for key in ("sessions_planned", "sessions_held", "sessions_missed", "sessions_cancelled",
                "logs_confirmed", "credited_minutes"):
        assert sum(t[key] for t in data["trend"]) == o[key], key
    assert sum(t["pairs_created"] for t in data["trend"]) == o["pairs"]
    for dim in reports.DIMENSIONS:
        for key in (*SESSIONS, "participants", "mentors", "mentees", "matched",
                    "invites_accepted", "invites_declined", "invites_unanswered",
                    "logs_confirmed", "credited_minutes", "jp_credited", "pairs"):
            assert sum(r[key] for r in data["by"][dim]) == o[key], (dim, key)


def test_empty_programme(app):
    prog = Programme(name="Kosong", start_date=date(2026, 1, 1), end_date=date(2026, 6, 30))
    db.session.add(prog)
    db.session.flush()
    data = reports.dashboard(prog)
    o = data["overall"]
    assert o["participants"] == 0 and o["matched_pct"] is None
    assert o["median_answer_hours"] is None and o["rating_all"] is None
    assert data["trend"] == [] and all(data["by"][d] == [] for d in reports.DIMENSIONS)
    assert reports.competency_progress(prog)["rows"] == []
    assert reports.alerts_summary(prog, now=NOW) == dict.fromkeys(reports.SUMMARY_KEYS, 0)
    assert reports.evaluation_summary(prog)["total"] == 0


def test_competency_progress(world):
    progress = reports.competency_progress(world["prog"])
    (row,) = progress["rows"]  # mentors' levels are not counted
    assert row["code"] == "INT" and row["n"] == 2
    assert (row["avg_base"], row["avg_now"]) == (2.0, 2.5)
    assert (row["gap_start"], row["gap_now"], row["closure_pct"]) == (4, 3, 25.0)
    assert progress["units"]["Dinas A"][0]["closure_pct"] == 50.0
    assert progress["units"]["Dinas B"][0]["closure_pct"] == 0.0


def test_evaluation_averages(world):
    ev = reports.evaluation_summary(world["prog"])
    rows = {r["key"]: r for r in ev["rows"]}
    assert "comment" not in rows  # free text is never averaged (nor shown)
    assert _pick(rows["usefulness"], "mid_mentee", "mid_mentor", "end_mentee", "end_mentor") == (
        4.5, 2.0, 3.0, None)
    assert _pick(rows["relevance"], "mid_mentee", "mid_mentor", "end_mentee") == (5.0, None, None)
    assert ev["counts"] == {"mid_mentee": 2, "mid_mentor": 1, "end_mentee": 1, "end_mentor": 0}
    assert ev["total"] == 4


def test_alert_lists(world):
    prog = world["prog"]
    no30 = reports.alert_rows(prog, "no_session", days=30, now=NOW)
    assert [r.cells["pair_id"] for r in no30] == [world["pa"].id, world["pd"].id]
    assert (no30[0].cells["days"], no30[0].cells["last_held"]) == (61, "2026-03-01")  # local
    assert (no30[1].cells["days"], no30[1].cells["last_held"]) == (37, "2026-03-25")
    assert set(no30[0].person_ids) == {world["e1"].id, world["m1"].id}
    no45 = reports.alert_rows(prog, "no_session", days=45, now=NOW)
    assert [r.cells["pair_id"] for r in no45] == [world["pa"].id]

    # e3 and m2 are unmatched (not "behind"), e5 is no participant; e2 has 0 min, e1 100 min
    behind = reports.alert_rows(prog, "behind_jp", now=NOW)
    assert [r.person_ids for r in behind] == [(world["e2"].id,), (world["e1"].id,)]
    e1 = behind[1].cells
    assert (e1["jp"], e1["expected_jp"], e1["target_jp"], e1["pair_id"]) == (
        2.0, 6.6, 20, world["pa"].id)  # 20 JP x 120/364 days

    unanswered = reports.alert_rows(prog, "unanswered", now=NOW)  # m2's is 1 day old: not yet
    assert [(r.person_ids, r.cells["days"]) for r in unanswered] == [((world["e2"].id,), 10)]
    over = reports.alert_rows(prog, "over_capacity", now=NOW)
    assert [(r.person_ids, r.cells["pairs"], r.cells["capacity"]) for r in over] == [
        ((world["m1"].id,), 2, 1)]
    assert reports.alerts_summary(prog, now=NOW) == {
        "no_session_30": 2, "no_session_45": 1, "behind_jp": 2, "unanswered": 1,
        "over_capacity": 1}


def test_alert_thresholds_come_from_configuration(world, app):
    prog = world["prog"]
    set_settings(app, scheduler={"chase_after_days": 0})
    assert len(reports.alert_rows(prog, "unanswered", now=NOW)) == 2  # m2's now counts too
    set_settings(app, reports={"pace_tolerance": 0.3})  # bar 0.3 x 6.59 JP = 89 min
    behind = reports.alert_rows(prog, "behind_jp", now=NOW)
    assert [r.person_ids for r in behind] == [(world["e2"].id,)]


def test_alert_filters_and_pages(world, app):
    prog = world["prog"]
    unit_b = world["m2"].unit_id
    flt = reports.AlertFilter(unit_id=unit_b)
    assert [r.cells["pair_id"] for r in reports.alert_rows(
        prog, "no_session", now=NOW, flt=flt)] == [world["pd"].id]
    flt = reports.AlertFilter(city="Padang")
    assert [r.cells["pair_id"] for r in reports.alert_rows(
        prog, "no_session", now=NOW, flt=flt)] == [world["pa"].id]
    assert reports.alert_count(prog, "behind_jp", now=NOW, flt=reports.AlertFilter(
        city="Palu")) == 1
    assert reports.alert_count(prog, "behind_jp", now=NOW, flt=reports.AlertFilter(
        city="Nowhere")) == 0

    set_settings(app, reports={"page_size": 1})
    first = reports.alert_page(prog, "no_session", page=1, now=NOW)
    second = reports.alert_page(prog, "no_session", page=2, now=NOW)
    assert (first.total, first.pages, second.page) == (2, 2, 2)
    assert [r.cells["pair_id"] for r in first.rows + second.rows] == [
        world["pa"].id, world["pd"].id]
    assert reports.alert_page(prog, "no_session", page=99, now=NOW).page == 2
    options = reports.filter_options(prog)
    assert [name for _, name in options["units"]] == ["Dinas A", "Dinas B"]
    assert options["cities"] == ["Padang", "Palu"]
