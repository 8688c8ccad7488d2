"""Shared helpers for tests/calendar: three independent readings of one .ics."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import icalendar
import vobject
from dateutil.rrule import rrulestr

from mentormatch.calendar import Attendee, SeriesSpec

JS_DIR = Path(__file__).resolve().parents[1] / "js"
ORGANIZER = "program@mentormatch.example.go.id"


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_spec(tzid: str, first_start: datetime, **kw) -> SeriesSpec:
    defaults = dict(
        uid="series-1@mentormatch.example.go.id",
        sequence=0,
        summary="Sesi mentoring: Kerja Sama",
        organizer_email=ORGANIZER,
        organizer_name="Program MentorMatch BKPSDM",
        tzid=tzid,
        first_start=first_start,
        duration=timedelta(hours=1),
        interval_weeks=2,
        count=6,
        description="Fokus kompetensi: Kerja Sama (3 → 4), Komunikasi",
        location="https://meet.example.go.id/abc",
        url="https://meet.example.go.id/abc",
        attendees=(
            Attendee("Mentor.Satu@Example.go.id", "Dr. Ŝiti Nurhaliza, M.Si", "REQ-PARTICIPANT"),
            Attendee("mentee@example.go.id", "Made Wíjaya", "REQ-PARTICIPANT"),
        ),
        dtstamp=datetime(2026, 11, 1, 3, 0, tzinfo=UTC),
    )
    defaults.update(kw)
    return SeriesSpec(**defaults)


def icaljs(ics: bytes) -> dict:
    """Run Mozilla ical.js (tests/js/expand.cjs). Fails loudly when node/ical.js is missing."""
    node = shutil.which("node")
    assert node, "node is required for the ical.js checks (install nodejs)"
    assert (JS_DIR / "node_modules" / "ical.js").is_dir(), (
        "ical.js missing: run `npm ci --prefix tests/js`"
    )
    with tempfile.NamedTemporaryFile(suffix=".ics") as fh:
        fh.write(ics)
        fh.flush()
        proc = subprocess.run(
            [node, str(JS_DIR / "expand.cjs"), fh.name],
            capture_output=True,
            timeout=60,
            check=False,
            cwd=JS_DIR,
        )
    assert proc.returncode == 0, proc.stderr.decode()
    return json.loads(proc.stdout)


def _expand(dtstart: datetime, rrule_text: str | None, exdates: list[datetime]) -> list[str]:
    if not rrule_text:
        return [iso(dtstart)]
    # dateutil expands in the wall clock of dtstart's tzinfo, as RFC 5545 requires.
    rule = rrulestr(rrule_text, dtstart=dtstart)
    ex = {e.astimezone(UTC) for e in exdates}
    return [iso(d) for d in rule if d.astimezone(UTC) not in ex]


def icalendar_view(ics: bytes) -> list[dict]:
    cal = icalendar.Calendar.from_ical(ics)
    out = []
    for ev in cal.walk("VEVENT"):
        start = ev.decoded("DTSTART")
        rr = ev.get("RRULE")
        exd: list[datetime] = []
        raw = ev.get("EXDATE")
        for group in raw if isinstance(raw, list) else ([raw] if raw is not None else []):
            exd += [d.dt for d in group.dts]
        rid = ev.decoded("RECURRENCE-ID") if ev.get("RECURRENCE-ID") is not None else None
        occ = _expand(start, rr.to_ical().decode() if rr and rid is None else None, exd)
        out.append(
            {
                "uid": str(ev["UID"]),
                "recurrence_id": iso(rid) if rid else None,
                "start": iso(start),
                "end": iso(ev.decoded("DTEND")),
                "occurrences": occ,
            }
        )
    return out


def vobject_view(ics: bytes) -> list[dict]:
    cal = vobject.readOne(ics.decode("utf-8"))
    out = []
    for ev in getattr(cal, "vevent_list", []):
        rid = ev.recurrence_id.value if hasattr(ev, "recurrence_id") else None
        if hasattr(ev, "rrule") and rid is None:
            occ = [iso(d) for d in ev.getrruleset(addRDate=True)]
        else:
            occ = [iso(ev.dtstart.value)]
        out.append(
            {
                "uid": ev.uid.value,
                "recurrence_id": iso(rid) if rid else None,
                "start": iso(ev.dtstart.value),
                "end": iso(ev.dtend.value),
                "occurrences": occ,
            }
        )
    return out


def vtimezone_offsets(ics: bytes, instants: list[datetime]) -> dict[str, list[str]]:
    """Offsets our VTIMEZONEs give (read back by icalendar's to_tz) at the given instants."""
    cal = icalendar.Calendar.from_ical(ics)
    out = {}
    for vtz in cal.walk("VTIMEZONE"):
        tz = vtz.to_tz()
        out[str(vtz["TZID"])] = [str(i.astimezone(tz).utcoffset()) for i in instants]
    return out


def three_views(ics: bytes) -> tuple[list[dict], list[dict], list[dict]]:
    keys = ("uid", "recurrence_id", "start", "end", "occurrences")
    js = [{k: e[k] for k in keys} for e in icaljs(ics)["events"]]
    return icalendar_view(ics), vobject_view(ics), js
