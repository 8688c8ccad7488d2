"""JP arithmetic at the edges (pure functions, no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from mentormatch.services import jp

FLOOR = jp.JpRule(45, "floor", 0, 20)
NEAREST = jp.JpRule(45, "nearest", 0, 20)
HALF = jp.JpRule(45, "half", 0, 20)


@pytest.mark.parametrize(("minutes", "floor", "nearest", "half"), [
    (0, 0, 0, 0), (22, 0, 0, 0), (23, 0, 1, 0.5), (44, 0, 1, 0.5), (45, 1, 1, 1),
    (46, 1, 1, 1), (67, 1, 1, 1), (68, 1, 2, 1.5), (89, 1, 2, 1.5), (90, 2, 2, 2),
    (900, 20, 20, 20), (-5, 0, 0, 0),
])
def test_rounding_modes(minutes, floor, nearest, half):
    assert jp.minutes_to_jp(minutes, FLOOR) == Decimal(floor)
    assert jp.minutes_to_jp(minutes, NEAREST) == Decimal(nearest)
    assert jp.minutes_to_jp(minutes, HALF) == Decimal(str(half))


@pytest.mark.parametrize(("duration", "cap", "expected"), [
    (0, 120, 0), (44, 120, 44), (120, 120, 120), (121, 120, 120), (600, 120, 120),
    (600, 0, 600), (-10, 120, 0),
])
def test_cap_per_session(duration, cap, expected):
    assert jp.credited_minutes(duration, jp.JpRule(45, "floor", cap, 20)) == expected


def test_other_minutes_per_jp():
    rule = jp.JpRule(60, "floor", 0, 20)
    assert jp.minutes_to_jp(59, rule) == 0
    assert jp.minutes_to_jp(60, rule) == 1


def test_rule_from_overlays_programme_rule():
    rule = jp.rule_from({"minutes_per_jp": 45, "rounding": "floor", "max_minutes_per_session": 120},
                        {"rounding": "half", "max_minutes_per_session": 90})
    assert rule == jp.JpRule(45, "half", 90, 20)
    # without settings, the shipped [jp] defaults (config/defaults.toml: a 120-minute cap)
    assert jp.rule_from(None) == jp.JpRule(45, "floor", 120, 20)


@pytest.mark.parametrize("bad", [{"minutes_per_jp": 0}, {"rounding": "ceil"},
                                 {"max_minutes_per_session": -1}])
def test_bad_rule_rejected(bad):
    with pytest.raises(ValueError):
        jp.rule_from({}, bad)


# the year boundary (a session counts in the year it was held): test_logbook.test_year_boundary


def test_format_and_progress():
    assert jp.fmt_jp(Decimal("2.0")) == "2"
    assert jp.fmt_jp(Decimal("2.5"), "en") == "2.5"
    assert jp.fmt_jp(Decimal("2.5"), "id") == "2,5"
    assert jp.fmt_jp(Decimal("767.0"), "id") == "767"
    assert jp.fmt_jp(Decimal("20"), "id") == "20"
    assert jp.fmt_jp(Decimal("20")) == "20"
    assert jp.progress_percent(Decimal(5), 20) == 25
    assert jp.progress_percent(Decimal(30), 20) == 100
    assert jp.progress_percent(Decimal(1), 0) == 100


def test_rule_carries_yearly_target():
    assert jp.rule_from({"yearly_target_jp": 20}, {"yearly_target_jp": 12}).yearly_target_jp == 12
    with pytest.raises(ValueError):
        jp.rule_from({}, {"yearly_target_jp": -1})


# -- the one tally (database) -------------------------------------------------------------------

def _confirmed(pair, minutes, held_on, n=1):
    from mentormatch.extensions import db
    from mentormatch.models import SessionLog

    for _ in range(n):
        db.session.add(SessionLog(pair_id=pair.id, author_id=pair.mentee_id, held_on=held_on,
                                  duration_minutes=minutes, topics="t", status="confirmed",
                                  credited_minutes=minutes))
    db.session.flush()


def test_person_jp_sums_per_programme_then_rounds(app):
    from tests.logbook.test_logbook import make_pair, person, programme

    mentor = person(grade=13)
    a = programme(start=date(2026, 1, 1), end=date(2026, 12, 31), name="A")
    b = programme(start=date(2026, 1, 1), end=date(2026, 12, 31), name="B",
                  jp_rule={"minutes_per_jp": 60, "rounding": "half", "yearly_target_jp": 30})
    pairs_a = [make_pair(prog=a, mentor=mentor) for _ in range(3)]
    pair_b = make_pair(prog=b, mentor=mentor)
    for p in pairs_a:
        _confirmed(p, 30, date(2026, 3, 1))  # 3 x 30 = 90 min in A: 2 JP (not 3 x 0)
    _confirmed(pair_b, 50, date(2026, 3, 1))  # 50 min in B at 60/JP, half: 0.5 JP
    _confirmed(pair_b, 45, date(2025, 12, 31))  # another year
    total = jp.person_jp(mentor.id, year=2026)
    lines = {ln.programme_id: ln for ln in total.programmes}
    assert (lines[a.id].minutes, lines[a.id].jp, lines[a.id].sessions) == (90, 2, 3)
    assert (lines[b.id].minutes, lines[b.id].jp) == (50, Decimal("0.5"))
    assert total.jp == Decimal("2.5") and total.minutes == 140 and total.jp_text == "2,5"
    assert total.target == 30  # the highest target of the person's programmes that year
    only_b = jp.person_jp(mentor.id, programme_id=b.id)  # all years: 50 min in 2026 -> 0.5,
    # 45 min in 2025 -> 0.5; the programme's JP is the sum of its years (not 95 min at once)
    assert (only_b.minutes, only_b.jp, only_b.target) == (95, Decimal("1.0"), 30)
    mentee = pairs_a[0].mentee
    assert jp.person_jp(mentee.id, year=2026).jp == 0  # 30 min alone rounds down
    bulk = jp.people_jp(None, year=2026, programme_id=a.id)
    assert bulk[mentor.id].jp == 2 and bulk[mentee.id].minutes == 30
    assert set(bulk) == {mentor.id, *(p.mentee_id for p in pairs_a)}


def test_person_jp_without_logs_uses_programme_or_config_target(app):
    from tests.logbook.test_logbook import make_pair, programme

    pair = make_pair(prog=programme(jp_rule={"yearly_target_jp": 16}))
    year = pair.programme.start_date.year
    assert jp.person_jp(pair.mentee_id, year=year).target == 16
    assert jp.person_jp(pair.mentee_id, year=year).jp == 0
    assert jp.person_jp(10_000, year=year).target == 20  # nobody: the configured default


def test_programme_jp_is_the_sum_of_its_yearly_jp_everywhere(app):
    """One rule: round per person, programme and calendar year; the programme's JP is the sum.
    A programme from December to January: 300 min in 2026 (6 JP), 40 min in 2027 (0 JP) is
    6 JP on the certificate and in the JP export (not the 7 JP of 340 min rounded at once)."""
    import csv
    import io

    from mentormatch.services import certificate, exports, reports
    from tests.logbook.test_logbook import make_pair, programme

    prog = programme(start=date(2026, 11, 2), end=date(2027, 2, 26), name="Lintas tahun")
    pair = make_pair(prog=prog)
    _confirmed(pair, 60, date(2026, 12, 7), n=5)  # 300 min: 6.67 -> 6 JP in 2026
    _confirmed(pair, 40, date(2027, 1, 11))  # 40 min: 0 JP in 2027
    mentee = pair.mentee
    y26, y27 = jp.person_jp(mentee.id, year=2026), jp.person_jp(mentee.id, year=2027)
    assert (y26.jp, y27.jp) == (6, 0)
    whole = jp.person_jp(mentee.id, programme_id=prog.id)
    assert whole.minutes == 340 and whole.jp == y26.jp + y27.jp == 6
    cert = certificate.build(mentee, prog)
    assert cert.jp_text == "6"
    assert reports.dashboard(prog)["overall"]["jp_credited"] == 6  # the mentee's JP
    from mentormatch.extensions import db
    from mentormatch.models import Participant

    db.session.add(Participant(programme_id=prog.id, person_id=mentee.id, role="mentee"))
    db.session.flush()
    behind = reports.alert_rows(prog, "behind_jp", now=datetime(2027, 1, 20, 3, tzinfo=UTC))
    assert [r.cells["jp"] for r in behind if r.person_ids == (mentee.id,)] == [6]  # not 7
    for audience, delimiter, key in (("machine", ",", "jp"), ("people", ";", "JP")):
        body, _mime = exports.export(prog, "jp", "csv", "id", audience=audience)
        table = list(csv.DictReader(io.StringIO("".join(body)[1:]), delimiter=delimiter))
        row = next(r for r in table if r["nip" if audience == "machine" else "NIP"] == mentee.nip)
        assert row[key] == "6", audience
