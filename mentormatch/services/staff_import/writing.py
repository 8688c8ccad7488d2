"""``apply()``: check, then write every row or none with bulk statements in the caller's
transaction (services flush, never commit)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, cast

from flask_babel import lazy_gettext as _l
from sqlalchemy import Table, bindparam, delete, insert, select, update

from ...extensions import db
from ...models import Actor, AvailabilityWindow, LeaveDate, Location, Person, PersonCompetency, Unit
from ...models.base import Base
from .. import audit, zones
from ..catalogue import by_code
from ..errors import ServiceError
from .cells import city_of
from .preview import Snapshot, check_file, chunks, match_person
from .report import ImportReport
from .rules import Existing, Row


class ImportRefused(ServiceError):
    """A confirmed import that writes nothing: the upload is gone, the file went stale, or a
    parallel import of the same people won (the caller rolls back)."""

    messages = {
        "gone": _l("This upload was already imported or has expired. Nothing was imported "
                   "again."),
        "concurrent": _l("Someone else imported staff at the same moment; nothing was "
                         "imported. Upload the file again to see the current state."),
        "stale": _l("The file is no longer valid; nothing was imported."),
    }


def apply(data: bytes, filename: str, actor: Actor, locale: str = "id",
          progress: Callable[[int], None] | None = None,
          default_zone: str | None = None) -> ImportReport:
    """Validate, then write everything or nothing (the caller commits)."""
    report = ImportReport(filename=filename, locale=locale)
    report.default_zone = default_zone if default_zone in zones.LABELS else None
    rows, existing, snap, changed = check_file(data, filename, report, progress)
    if report.issues or existing is None or snap is None:
        return report
    write_rows(rows, existing, snap, changed)
    audit.record(actor, "people.import", None, filename=filename, **report.summary())
    db.session.flush()
    report.applied = True
    return report


def _table(model: type[Base]) -> Table:
    """The model's Core table (bulk statements, without the ORM's per-row work)."""
    return cast(Table, model.__table__)


def write_rows(rows: list[Row], existing: Existing, snap: Snapshot,
               changed: dict[int, bool]) -> None:
    """Every valid row, with bulk statements (a row that changes nothing is not written)."""
    db.session.flush()
    units, locs = _places(rows)
    ids = _people(rows, existing, changed, units, locs)
    _supervisors(rows, existing, changed, ids)
    _details(rows, snap, changed, ids)
    db.session.flush()
    db.session.expire_all()


def _places(rows: list[Row]) -> tuple[dict[str, int], dict[str, int]]:
    """Units and locations on demand: (unit name -> id, lower location name -> id)."""
    session = db.session
    units = {name: uid for uid, name in session.execute(select(Unit.id, Unit.name))}
    new_units = sorted({r.unit for r in rows if r.unit and r.unit not in units})
    if new_units:
        session.execute(insert(_table(Unit)), [{"name": n} for n in new_units])
        units = {name: uid for uid, name in session.execute(select(Unit.id, Unit.name))}
    locs = {name.lower(): lid for lid, name in session.execute(select(Location.id, Location.name))}
    new_locs: dict[str, dict[str, str]] = {}
    for r in rows:
        if r.location and r.location.lower() not in locs:
            new_locs.setdefault(r.location.lower(), {
                "name": r.location, "city": city_of(r.location),
                "timezone": r.timezone or "Asia/Jakarta"})
    if new_locs:
        session.execute(insert(_table(Location)), list(new_locs.values()))
        locs = {n.lower(): lid for lid, n in session.execute(select(Location.id, Location.name))}
    return units, locs


def _person_values(r: Row, units: dict[str, int], locs: dict[str, int]) -> dict[str, Any]:
    values = {k: v for k, v in r.values.items() if k != "kind" or v is not None}
    values["kind"] = r.kind
    if r.kind == "external":
        values["nip"] = None
    else:
        values["nip"] = r.key
    if r.unit is not None:
        values["unit_id"] = units[r.unit]
    if r.location is not None:
        values["location_id"] = locs[r.location.lower()]
    return values


def _people(rows: list[Row], existing: Existing, changed: dict[int, bool],
            units: dict[str, int], locs: dict[str, int]) -> dict[int, int]:
    """New people inserted, changed ones updated: file row -> person id."""
    session = db.session
    new_rows = [r for r in rows if match_person(r, existing) is None]
    ids: dict[int, int] = {}  # file row -> person id
    if new_rows:
        params = [_person_values(r, units, locs) for r in new_rows]
        keys = set().union(*(p.keys() for p in params))
        params = [{k: p.get(k) for k in keys} for p in params]
        for p in params:
            if p.get("mode") is None:
                p["mode"] = "either"
            if p.get("is_priority") is None:
                p["is_priority"] = False
        # Plain executemany (INSERT .. RETURNING in parameter order runs row by row on SQLite),
        # then one read-back of the ids by the natural keys.
        session.execute(insert(_table(Person)), params)
        back_nip: dict[str, int] = {}
        back_email: dict[str, int] = {}
        for pid, nip, email in session.execute(select(Person.id, Person.nip, Person.email)):
            if nip:
                back_nip[nip] = pid
            back_email[email.lower()] = pid
        for r in new_rows:
            ids[r.row] = back_email[r.key] if r.kind == "external" else back_nip[r.key]
    updates: list[dict[str, Any]] = []
    for r in rows:
        known = match_person(r, existing)
        if known is None:
            continue
        ids[r.row] = known
        if changed.get(r.row):
            updates.append({"id": known, **_person_values(r, units, locs)})
    for group in group_by_keys(updates):
        session.execute(update(Person), group)
    return ids


def _supervisors(rows: list[Row], existing: Existing, changed: dict[int, bool],
                 ids: dict[int, int]) -> None:
    """Supervisors, once everybody has an id (one Core executemany: the ORM bulk path runs
    a statement per row)."""
    nip_to_id = dict(existing.by_nip)
    nip_to_id.update({r.key: ids[r.row] for r in rows if r.kind != "external"})
    sup_updates = [{"b_id": ids[r.row], "b_sup": nip_to_id[r.supervisor]}
                   for r in rows if r.supervisor and (r.row not in changed or changed[r.row])]
    if sup_updates:
        table = _table(Person)
        db.session.execute(
            update(table).where(table.c.id == bindparam("b_id"))
            .values(supervisor_id=bindparam("b_sup")),
            sup_updates,
        )


def _details(rows: list[Row], snap: Snapshot, changed: dict[int, bool],
             ids: dict[int, int]) -> None:
    """Competency levels, availability windows and leave: only what differs is written."""
    session = db.session
    codes = by_code()
    pc_insert: list[dict[str, Any]] = []
    pc_update: list[dict[str, Any]] = []
    win_delete: list[int] = []
    win_insert: list[dict[str, Any]] = []
    leave_delete: list[int] = []
    leave_insert: list[dict[str, Any]] = []
    for r in rows:
        if r.row in changed and not changed[r.row]:
            continue
        pid = ids[r.row]
        have = snap.comps.get(pid, {})
        for code, (level, req) in r.comps.items():
            old = have.get(code)
            if old is None:
                pc_insert.append({"person_id": pid, "competency_id": codes[code].id,
                                  "current_level": level, "required_level": req,
                                  "baseline_level": None})
            elif (old[1], old[2]) != (level, req):
                pc_update.append({"id": old[0], "current_level": level, "required_level": req})
        if r.windows is not None and sorted(snap.windows.get(pid, [])) != r.windows:
            if pid in snap.windows:
                win_delete.append(pid)
            win_insert.extend({"person_id": pid, "weekday": d, "start_minute": s,
                               "end_minute": e} for d, s, e in r.windows)
        if r.leaves is not None:
            old_leaves = snap.leaves.get(pid, {})
            wanted = set(r.leaves)
            leave_delete.extend(lid for span, lid in old_leaves.items() if span not in wanted)
            leave_insert.extend({"person_id": pid, "start_date": s, "end_date": e,
                                 "reason": None, "created_at": None}
                                for s, e in r.leaves if (s, e) not in old_leaves)
    for chunk in chunks(win_delete):
        session.execute(delete(AvailabilityWindow).where(
            AvailabilityWindow.person_id.in_(chunk)))
    for chunk in chunks(leave_delete):
        session.execute(delete(LeaveDate).where(LeaveDate.id.in_(chunk)))
    if pc_update:
        session.execute(update(PersonCompetency), pc_update)
    if pc_insert:
        session.execute(insert(_table(PersonCompetency)), pc_insert)
    if win_insert:
        session.execute(insert(_table(AvailabilityWindow)), win_insert)
    if leave_insert:
        session.execute(insert(_table(LeaveDate)), leave_insert)


def group_by_keys(rows: list[dict[str, Any]]) -> Iterable[list[dict[str, Any]]]:
    groups: dict[frozenset[str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(frozenset(row), []).append(row)
    return groups.values()
