"""Every message kind read by icalendar, vobject and Mozilla ical.js: same UTC instants."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
import icalendar
import pytest
from cal_helpers import ORGANIZER, icaljs, iso, make_spec, three_views, vtimezone_offsets

from mentormatch.calendar import (
    FeedSeries,
    OccurrenceOverride,
    build_cancel,
    build_feed,
    build_occurrence_request,
    build_reply,
    build_request,
    plan_occurrences,
)

WIB, WITA = ZoneInfo("Asia/Jakarta"), ZoneInfo("Asia/Makassar")

CASES = {
    # WIB mentor's series; the WITA mentee sees 10:00 (one hour later on the wall clock).
    "wib": ("Asia/Jakarta", datetime(2027, 1, 11, 9, 0, tzinfo=WIB)),
    "wita": ("Asia/Makassar", datetime(2027, 1, 11, 10, 0, tzinfo=WITA)),
    "wit": ("Asia/Jayapura", datetime(2027, 1, 11, 11, 0, tzinfo=ZoneInfo("Asia/Jayapura"))),
    # Sydney: DST starts first Sunday of October (2027-10-03).
    "sydney": (
        "Australia/Sydney",
        datetime(2027, 9, 6, 12, 0, tzinfo=ZoneInfo("Australia/Sydney")),
    ),
    # Amsterdam across the March (2027-03-28) and October (2027-10-31) changes.
    "amsterdam_mar": (
        "Europe/Amsterdam",
        datetime(2027, 3, 1, 8, 0, tzinfo=ZoneInfo("Europe/Amsterdam")),
    ),
    "amsterdam_oct": (
        "Europe/Amsterdam",
        datetime(2027, 10, 4, 8, 0, tzinfo=ZoneInfo("Europe/Amsterdam")),
    ),
}


def expected_utc(spec) -> list[str]:
    return [iso(s) for s in spec.occurrence_starts()]


def assert_agree(ics: bytes, expected: dict[str | None, list[str]]) -> None:
    py, vo, js = three_views(ics)
    assert py == vo == js, (py, vo, js)
    got = {e["recurrence_id"]: e["occurrences"] for e in js}
    assert got == expected


@pytest.mark.parametrize("case", sorted(CASES))
def test_request_series_all_parsers_agree(case):
    tzid, start = CASES[case]
    spec = make_spec(tzid, start)
    ics = build_request(spec)
    assert_agree(ics, {None: expected_utc(spec)})
    # Local wall-clock hour is kept across DST changes.
    hours = {s.astimezone(ZoneInfo(tzid)).hour for s in spec.occurrence_starts()}
    assert hours == {start.hour}


def test_wib_and_wita_see_same_instant_and_their_own_hour():
    a = make_spec("Asia/Jakarta", datetime(2027, 1, 11, 9, 0, tzinfo=WIB))
    b = make_spec("Asia/Makassar", datetime(2027, 1, 11, 10, 0, tzinfo=WITA))
    assert (
        icaljs(build_request(a))["events"][0]["occurrences"]
        == icaljs(build_request(b))["events"][0]["occurrences"]
    )
    first = datetime.fromisoformat(expected_utc(a)[0])
    assert first.astimezone(WIB).hour == 9 and first.astimezone(WITA).hour == 10


def test_dst_series_really_changes_utc_hour():
    tzid, start = CASES["sydney"]
    spec = make_spec(tzid, start)
    utc_hours = [
        datetime.fromisoformat(s).hour
        for s in icaljs(build_request(spec))["events"][0]["occurrences"]
    ]
    assert utc_hours[0] == 2 and utc_hours[-1] == 1  # AEST +10 -> AEDT +11


@pytest.mark.parametrize(
    "tzid",
    [
        "Australia/Sydney",
        "Europe/Amsterdam",
        "Asia/Jakarta",
        "America/Sao_Paulo",
        "America/New_York",
        "Pacific/Auckland",
    ],
)
def test_vtimezone_matches_zoneinfo(tzid):
    start = datetime(2027, 1, 4, 9, 0, tzinfo=ZoneInfo(tzid))
    spec = make_spec(tzid, start, interval_weeks=1, count=52)
    ics = build_request(spec)
    assert b"RDATE" not in ics
    probes = [start + timedelta(days=d, hours=h) for d in range(0, 400, 3) for h in (0, 13)]
    got = vtimezone_offsets(ics, probes)[tzid]
    assert got == [str(p.astimezone(ZoneInfo(tzid)).utcoffset()) for p in probes]
    assert_agree(ics, {None: expected_utc(spec)})


def test_fixed_offset_zone_is_single_standard():
    ics = build_request(make_spec(*CASES["wita"]))
    vtz = icalendar.Calendar.from_ical(ics).walk("VTIMEZONE")[0]
    subs = [c.name for c in vtz.subcomponents]
    assert subs == ["STANDARD"]
    assert vtz.subcomponents[0]["TZOFFSETTO"].td == timedelta(hours=8)


def _holiday_2027() -> date:
    h = holidays.country_holidays("ID", categories=("public", "government"), years=2027)
    # A cuti bersama (government category) on a weekday, from the package itself.
    cuti = holidays.country_holidays("ID", categories=("government",), years=2027)
    days = sorted(d for d in cuti if d.weekday() < 5 and d in h)
    assert days, "holidays package has no weekday cuti bersama in 2027"
    return days[0]


def test_holiday_skipped_with_exdate_and_series_extended():
    day = _holiday_2027()
    # Series every week at 09:00 WIB, second session lands on the holiday.
    first = datetime.combine(day - timedelta(weeks=1), datetime.min.time(), WIB).replace(hour=9)
    plan = plan_occurrences(first, 1, 5, "Asia/Jakarta")
    assert len(plan.starts) == 5
    assert day in {s.date() for s in plan.skipped}
    assert plan.rrule_count == 5 + len(plan.skipped)
    spec = make_spec(
        "Asia/Jakarta", plan.dtstart, interval_weeks=1, count=plan.rrule_count, exdates=plan.exdates
    )
    ics = build_request(spec)
    assert b"EXDATE;TZID=Asia/Jakarta" in ics
    expected = [iso(s) for s in plan.starts]
    assert expected_utc(spec) == expected
    assert_agree(ics, {None: expected})
    h = holidays.country_holidays("ID", categories=("public", "government"))
    assert not any(s.date() in h for s in plan.starts)


def test_plan_never_starts_on_a_holiday():
    day = _holiday_2027()
    first = datetime.combine(day, datetime.min.time(), WIB).replace(hour=9)
    plan = plan_occurrences(first, 2, 3, WIB)
    assert plan.leading_skipped and plan.dtstart.date() != day
    assert len(plan.starts) == 3


def test_occurrence_request():
    tzid, start = CASES["amsterdam_mar"]
    spec = make_spec(tzid, start)
    rid = spec.occurrence_starts()[2]
    new_start = rid + timedelta(days=1, hours=2)
    ics = build_occurrence_request(spec, rid, new_start, new_start + timedelta(hours=1), 1)
    assert b"METHOD:REQUEST" in ics and b"RECURRENCE-ID;TZID=Europe/Amsterdam" in ics
    assert_agree(ics, {iso(rid): [iso(new_start)]})
    assert icaljs(ics)["events"][0]["sequence"] == 1
    with pytest.raises(ValueError):
        build_occurrence_request(spec, rid, new_start, new_start + timedelta(hours=1), 0)
    with pytest.raises(ValueError):
        build_occurrence_request(
            spec, rid + timedelta(minutes=5), new_start, new_start + timedelta(hours=1), 2
        )


def test_cancel_series_and_occurrence():
    tzid, start = CASES["sydney"]
    spec = make_spec(tzid, start, sequence=2)
    whole = build_cancel(spec)
    assert b"METHOD:CANCEL" in whole and b"STATUS:CANCELLED" in whole
    assert icaljs(whole)["events"][0]["sequence"] == 3
    assert_agree(whole, {None: expected_utc(spec)})
    rid = spec.occurrence_starts()[4]
    one = build_cancel(spec, rid)
    js = icaljs(one)["events"][0]
    assert js["status"] == "CANCELLED" and js["sequence"] == 3
    assert_agree(one, {iso(rid): [iso(rid)]})
    with pytest.raises(ValueError):
        build_cancel(spec, sequence=2)


def test_reply_series_and_occurrence():
    tzid, start = CASES["wib"]
    spec = make_spec(tzid, start)
    ics = build_reply(spec, "MAILTO:Mentor.Satu@example.go.id", "accepted")
    js = icaljs(ics)
    assert js["method"] == "REPLY"
    assert js["events"][0]["attendees"] == [
        {
            "email": "mentor.satu@example.go.id",
            "partstat": "ACCEPTED",
            "cn": "Dr. Ŝiti Nurhaliza, M.Si",
        }
    ]
    assert_agree(ics, {None: expected_utc(spec)})
    rid = spec.occurrence_starts()[1]
    one = build_reply(spec, "mentee@example.go.id", "DECLINED", recurrence_id=rid)
    assert_agree(one, {iso(rid): [iso(rid)]})
    with pytest.raises(ValueError):
        build_reply(spec, "mentee@example.go.id", "NEEDS-ACTION")


def test_request_fields():
    spec = make_spec(*CASES["wib"])
    cal = icalendar.Calendar.from_ical(build_request(spec))
    assert str(cal["METHOD"]) == "REQUEST"
    ev = cal.walk("VEVENT")[0]
    assert str(ev["UID"]) == spec.uid
    assert ev["DTSTAMP"].to_ical().endswith(b"Z")
    assert ev["RRULE"].to_ical() == b"FREQ=WEEKLY;COUNT=6;INTERVAL=2"
    assert str(ev["ORGANIZER"]) == f"mailto:{ORGANIZER}"
    atts = ev["ATTENDEE"]
    assert len(atts) == 2
    for a in atts:
        assert a.params["PARTSTAT"] == "NEEDS-ACTION"
        assert a.params["RSVP"] == "TRUE"
        assert a.params["ROLE"] == "REQ-PARTICIPANT"
    assert "Kerja Sama" in str(ev["DESCRIPTION"])
    assert [str(t["TZID"]) for t in cal.walk("VTIMEZONE")] == ["Asia/Jakarta"]


def test_feed_with_overrides_and_cancelled_occurrence():
    a = make_spec(*CASES["wib"])
    b = make_spec(*CASES["amsterdam_oct"], uid="series-2@mentormatch.example.go.id")
    moved_rid = a.occurrence_starts()[1]
    moved_start = moved_rid + timedelta(hours=3)
    cancelled_rid = b.occurrence_starts()[3]
    feed = build_feed(
        [
            FeedSeries(
                a,
                (OccurrenceOverride(moved_rid, moved_start, moved_start + timedelta(hours=1), 1),),
            ),
            FeedSeries(b, (OccurrenceOverride(cancelled_rid, cancelled=True),)),
        ],
        name="Sesi saya",
    )
    assert b"METHOD" not in feed
    js = icaljs(feed)
    assert js["method"] is None
    assert sorted(js["timezones"]) == ["Asia/Jakarta", "Europe/Amsterdam"]
    py, vo, jsv = three_views(feed)
    assert py == vo == [{k: e[k] for k in py[0]} for e in js["events"]] == jsv
    by = {(e["uid"], e["recurrence_id"]): e["occurrences"] for e in jsv}
    assert by[(a.uid, None)] == expected_utc(a)
    assert by[(a.uid, iso(moved_rid))] == [iso(moved_start)]
    assert by[(b.uid, None)] == [iso(s) for s in b.occurrence_starts() if s != cancelled_rid]


def test_dtstamp_is_utc_and_now_by_default():
    spec = make_spec(*CASES["wib"], dtstamp=None)
    ev = icalendar.Calendar.from_ical(build_request(spec)).walk("VEVENT")[0]
    stamp = ev.decoded("DTSTAMP")
    assert stamp.tzinfo is not None and stamp.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - stamp) < timedelta(minutes=1)
