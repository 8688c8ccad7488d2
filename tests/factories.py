"""Small row factories for tests."""

from __future__ import annotations

import itertools

from mentormatch.extensions import db
from mentormatch.models import AvailabilityWindow, Location, Person, PersonCompetency, Unit
from mentormatch.services import accounts
from mentormatch.services.catalogue import by_code

_seq = itertools.count(1)
PASSWORD = "rahasia-123456"


def location(name: str = "Padang (Pauh)", city: str = "Padang", tz: str = "Asia/Jakarta"):
    row = db.session.query(Location).filter_by(name=name).one_or_none()
    if row is None:
        row = Location(name=name, city=city, timezone=tz)
        db.session.add(row)
        db.session.flush()
    return row


def unit(name: str = "Dinas Kominfo"):
    row = db.session.query(Unit).filter_by(name=name).one_or_none()
    if row is None:
        row = Unit(name=name)
        db.session.add(row)
        db.session.flush()
    return row


def nip(n: int | None = None, gender: int = 1) -> str:
    n = n or next(_seq)
    return f"19850312201001{gender}{n % 1000 or 1:03d}"[:18]


def person(name: str | None = None, *, grade: int = 9, levels: dict | None = None,
           required: dict | None = None, loc=None, unit_name: str = "Dinas Kominfo",
           windows=((1, 9 * 60, 12 * 60),), **kw) -> Person:
    n = next(_seq)
    p = Person(
        kind=kw.pop("kind", "pns"), nip=kw.pop("nip", f"198503122010011{n % 1000:03d}"),
        name=name or f"Pegawai {n}", email=kw.pop("email", f"pegawai{n}@example.go.id"),
        grade_rank=grade, unit=unit(unit_name), location=loc or location(), **kw,
    )
    codes = by_code()
    for code, level in (levels or {}).items():
        p.competencies.append(PersonCompetency(
            competency=codes[code], current_level=level,
            required_level=(required or {}).get(code)))
    for wd, start, end in windows:
        p.availability.append(AvailabilityWindow(weekday=wd, start_minute=start, end_minute=end))
    db.session.add(p)
    db.session.flush()
    return p


def user(roles=("coordinator",), *, person_row: Person | None = None, email: str | None = None):
    email = email or (person_row.email if person_row else f"user{next(_seq)}@example.go.id")
    return accounts.create_user(email, list(roles), password=PASSWORD, person=person_row)


def login(client, u) -> None:
    with client.session_transaction() as sess:
        sess["_user_id"] = u.get_id()
        sess["_fresh"] = True


def series(pair, first_start_utc, *, count: int | None = None, interval_weeks: int | None = None,
           is_holiday=None):
    """A pair's series as a round's approval creates it (invites.create_series_many), without
    sending the invitations; ``interval_weeks`` sets the programme's rhythm first."""
    from mentormatch.models import SessionSeries
    from mentormatch.services import invites

    if interval_weeks:
        pair.programme.interval_weeks = interval_weeks
    (sid,) = invites.create_series_many([invites.NewSeries(pair, first_start_utc, count=count)],
                                        actor=None, invite=False, is_holiday=is_holiday)
    return db.session.get(SessionSeries, sid)
