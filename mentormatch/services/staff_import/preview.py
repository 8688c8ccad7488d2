"""The check without writing: each valid row matched with the database (new, updated,
unchanged), the changes of the first rows, and ``preview()``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from ...extensions import db
from ...models import AvailabilityWindow, LeaveDate, Location, Person, PersonCompetency, Unit
from .. import zones
from ..catalogue import by_code
from .report import ImportReport
from .rules import Existing, Row
from .validate import validate_file

_PERSON_FIELDS = ("kind", "name", "email", "grade_rank", "grade_label", "position", "job_level",
                  "organisation", "expertise", "mode", "is_priority", "timezone_override")


@dataclass
class Snapshot:
    person: dict[int, dict[str, Any]]
    unit_name: dict[int, str]
    location_name: dict[int, str]
    comps: dict[int, dict[str, tuple[int, int, int | None]]]  # pid -> code -> (pc id, cur, req)
    windows: dict[int, list[tuple[int, int, int]]]
    leaves: dict[int, dict[tuple[date, date], int]]


def chunks(items: list[int], size: int = 900) -> Iterator[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def snapshot(ids: list[int]) -> Snapshot:
    cols = [getattr(Person, f) for f in _PERSON_FIELDS]
    snap = Snapshot({}, {}, {}, {}, {}, {})
    if not ids:
        return snap
    snap.unit_name = dict(db.session.execute(select(Unit.id, Unit.name)).all())
    snap.location_name = dict(db.session.execute(select(Location.id, Location.name)).all())
    codes = {c.id: c.code for c in by_code().values()}
    for chunk in chunks(sorted(ids)):
        query = select(Person.id, Person.unit_id, Person.location_id, Person.supervisor_id,
                       *cols).where(Person.id.in_(chunk))
        for row in db.session.execute(query):
            data = dict(zip(("id", "unit_id", "location_id", "supervisor_id", *_PERSON_FIELDS),
                            row, strict=True))
            snap.person[row[0]] = data
        pcq = select(PersonCompetency.id, PersonCompetency.person_id,
                     PersonCompetency.competency_id, PersonCompetency.current_level,
                     PersonCompetency.required_level).where(PersonCompetency.person_id.in_(chunk))
        for pc_id, pid, cid, cur, req in db.session.execute(pcq):
            snap.comps.setdefault(pid, {})[codes[cid]] = (pc_id, cur, req)
        wq = select(AvailabilityWindow.person_id, AvailabilityWindow.weekday,
                    AvailabilityWindow.start_minute, AvailabilityWindow.end_minute
                    ).where(AvailabilityWindow.person_id.in_(chunk))
        for pid, wd, s, e in db.session.execute(wq):
            snap.windows.setdefault(pid, []).append((wd, s, e))
        lq = select(LeaveDate.id, LeaveDate.person_id, LeaveDate.start_date, LeaveDate.end_date
                    ).where(LeaveDate.person_id.in_(chunk))
        for lid, pid, first, last in db.session.execute(lq):
            snap.leaves.setdefault(pid, {})[(first, last)] = lid
    return snap


def match_person(r: Row, existing: Existing) -> int | None:
    if r.kind == "external":
        return existing.by_email.get(r.key)
    return existing.by_nip.get(r.key)


def has_changes(r: Row, pid: int, snap: Snapshot, supervisor_id: int | None) -> bool:
    return bool(diff_row(r, pid, snap, supervisor_id))


def diff_row(r: Row, pid: int, snap: Snapshot, supervisor_id: int | None) -> list[str]:
    """What an update row changes, as 'field: old → new' (the preview shows it per row)."""
    cur = snap.person[pid]
    out = []
    for name, value in r.values.items():
        old = (cur["email"] or "").lower() if name == "email" else cur.get(name)
        if old != value:
            out.append(f"{name}: {old if old not in (None, '') else '-'} → {value}")
    if r.unit is not None and snap.unit_name.get(cur["unit_id"]) != r.unit:
        out.append(f"unit: {snap.unit_name.get(cur['unit_id']) or '-'} → {r.unit}")
    if r.location is not None and snap.location_name.get(cur["location_id"]) != r.location:
        out.append(f"location: {snap.location_name.get(cur['location_id']) or '-'} → "
                   f"{r.location}")
    if r.supervisor is not None and cur["supervisor_id"] != supervisor_id:
        out.append(f"supervisor: → {r.supervisor}")
    have = snap.comps.get(pid, {})
    for code, (level, req) in r.comps.items():
        old = have.get(code)
        if old is None or old[1] != level or old[2] != req:
            before = f"{old[1]}/{old[2] or '-'}" if old else "-"
            out.append(f"{code}: {before} → {level}/{req or '-'}")
    if r.windows is not None and sorted(snap.windows.get(pid, [])) != r.windows:
        out.append(f"availability: {len(snap.windows.get(pid, []))} → {len(r.windows)}")
    if r.leaves is not None and sorted(snap.leaves.get(pid, {})) != r.leaves:
        out.append(f"leave: {len(snap.leaves.get(pid, {}))} → {len(r.leaves)}")
    return out


Checked = tuple[list[Row], Existing | None, Snapshot | None, dict[int, bool]]


def check_file(data: bytes, filename: str, report: ImportReport,
               progress: Callable[[int], None] | None = None) -> Checked:
    """Validate, then count new / updated / unchanged rows and sample the first ones:
    (rows, the database's people, their snapshot, file row -> changes anything)."""
    rows, existing, _cols = validate_file(data, filename, report, progress)
    if report.issues or existing is None:
        return rows, existing, None, {}
    ids = [pid for pid in (match_person(r, existing) for r in rows) if pid is not None]
    snap = snapshot(ids)
    changed: dict[int, bool] = {}
    diffs: dict[int, list[str]] = {}
    for i, r in enumerate(rows):
        pid = match_person(r, existing)
        if pid is None:
            report.new += 1
            continue
        sup = existing.by_nip.get(r.supervisor) if r.supervisor else None
        if r.supervisor and sup is None:
            changed[r.row] = True  # supervisor is new in this file
            if i < SAMPLE_ROWS:
                diffs[r.row] = [f"supervisor: → {r.supervisor}"]
        elif i < SAMPLE_ROWS:  # the sampled rows say what changes
            diffs[r.row] = diff_row(r, pid, snap, sup)
            changed[r.row] = bool(diffs[r.row])
        else:
            changed[r.row] = has_changes(r, pid, snap, sup)
        if changed[r.row]:
            report.updated += 1
        else:
            report.unchanged += 1
    # the sample agrees with the counts: new / update (with its changes) / unchanged
    report.sample = [sample_row(r, existing, changed, diffs) for r in rows[:SAMPLE_ROWS]]
    return rows, existing, snap, changed


SAMPLE_ROWS = 10


def sample_row(r: Row, existing: Existing, changed: dict[int, bool] | None = None,
            diffs: dict[int, list[str]] | None = None) -> dict[str, Any]:
    matched = match_person(r, existing) is not None
    return {
        "row": r.row, "name": r.values.get("name", ""), "nip": r.key if r.kind != "external"
        else "", "kind": r.kind, "grade": r.values.get("grade_label") or "",
        "unit": r.unit or "", "location": r.location or "",
        "zone": zones.LABELS.get(r.timezone or "", r.timezone or ""),
        "zone_source": r.zone_source or "",
        "competencies": len(r.comps), "windows": len(r.windows or ()),
        "action": ("update" if (changed or {}).get(r.row) else "unchanged") if matched
        else "new",
        "changes": (diffs or {}).get(r.row, []),
    }


def preview(data: bytes, filename: str, locale: str = "id",
            progress: Callable[[int], None] | None = None,
            default_zone: str | None = None) -> ImportReport:
    """Validate and count; writes nothing. ``default_zone``: the zone the coordinator chose
    for rows whose zone nothing in the file tells."""
    report = ImportReport(filename=filename, locale=locale)
    report.default_zone = default_zone if default_zone in zones.LABELS else None
    check_file(data, filename, report, progress)
    return report
