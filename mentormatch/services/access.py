"""The one access policy: role checks and object-level checks for every page and API call.

`allowed(user, action, obj)` answers; `ensure` raises `AccessDenied`. Views never test roles
themselves, they call `web.access.guard` which calls this.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import exists, or_, select

from ..extensions import db
from ..models import (
    Pair,
    Participant,
    Person,
    Programme,
    ProgrammeCoordinator,
    SessionLog,
    User,
)

STAFF = ("admin", "coordinator")


class AccessDenied(Exception):
    def __init__(self, action: str, hide: bool = False) -> None:
        super().__init__(action)
        self.action = action
        self.hide = hide  # answer 404 rather than 403 where existence itself is private


def _is_staff(user: User) -> bool:
    return user.has_role(*STAFF)


def coordinates(user: User, programme: Programme | int) -> bool:
    if user.has_role("admin"):
        return True
    if not user.has_role("coordinator"):
        return False
    pid = programme if isinstance(programme, int) else programme.id
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    ProgrammeCoordinator.programme_id == pid,
                    ProgrammeCoordinator.user_id == user.id,
                )
            )
        )
    )


def shares_pair(user: User, person: Person) -> bool:
    """Mentor and mentee of a pair may see each other's profile."""
    me = user.person_id
    if me is None:
        return False
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    or_(
                        (Pair.mentor_id == me) & (Pair.mentee_id == person.id),
                        (Pair.mentee_id == me) & (Pair.mentor_id == person.id),
                    )
                )
            )
        )
    )


def _person_view(user: User, person: Person) -> bool:
    return _is_staff(user) or user.person_id == person.id or shares_pair(user, person)


def _pair_view(user: User, pair: Pair) -> bool:
    return pair.member_role(user.person_id) is not None or coordinates(user, pair.programme_id)


def _log_view(user: User, log: SessionLog) -> bool:
    pair = db.session.get(Pair, log.pair_id)
    return pair is not None and _pair_view(user, pair)


def _certificate_view(user: User, subject: tuple[Person, Programme]) -> bool:
    """A participant's own certificate (as mentee or mentor), or anyone's for the programme's
    coordinators. Whether the person takes part in the programme is the service's check."""
    person, programme = subject
    return user.person_id == person.id or coordinates(user, programme)


def _attends(user: User, series: Any) -> bool:
    return user.person_id is not None and any(
        a.person_id == user.person_id for a in series.attendees)


_POLICY: dict[str, Callable[[User, Any], bool]] = {
    # calendar: an invitee answers for themselves; coordinators see the series' replies
    "series.attend": _attends,
    "series.view": lambda u, s: _attends(u, s) or coordinates(u, s.pair.programme_id),
    "attendee.own": lambda u, a: u.person_id is not None and a.person_id == u.person_id,
    "people.list": lambda u, _: _is_staff(u),
    "people.import": lambda u, _: _is_staff(u),
    "person.view": _person_view,
    "person.edit": lambda u, p: _is_staff(u),
    "person.own": lambda u, p: u.person_id == p.id,
    "users.manage": lambda u, _: u.has_role("admin"),
    "hours.manage": lambda u, _: u.has_role("admin"),
    "programme.create": lambda u, _: _is_staff(u),
    "programme.list": lambda u, _: _is_staff(u),
    "programme.manage": lambda u, p: coordinates(u, p),
    "pair.view": _pair_view,
    "pair.member": lambda u, p: p.member_role(u.person_id) is not None,
    "pair.mentor": lambda u, p: p.member_role(u.person_id) == "mentor",
    "pair.mentee": lambda u, p: p.member_role(u.person_id) == "mentee",
    "log.view": _log_view,
    "mentor.home": lambda u, _: u.person_id is not None,
    "mentee.home": lambda u, _: u.person_id is not None,
    # the dev mailbox shows activation/reset links: admins only (and only with the folder transport)
    "mailbox.dev": lambda u, _: u.has_role("admin"),
    "outbox.admin": lambda u, _: u.has_role("admin"),
    "reports.view": lambda u, p: coordinates(u, p),
    # certificate.*: obj is (person, programme)
    "certificate.view": _certificate_view,
    "certificate.preview": lambda u, s: coordinates(u, s[1]),
}
# Objects whose very existence is private answer 404 to outsiders.
_HIDDEN = {"person.view", "pair.view", "log.view", "programme.manage", "reports.view",
           "series.attend", "series.view", "attendee.own",
           "certificate.view"}


def programme_roles(user: User) -> set[str]:
    """'mentor' / 'mentee' when the user's person takes that part in an active programme:
    navigation shows "my mentees" / "my mentoring" only to those who have them."""
    if user.person_id is None:
        return set()
    return set(db.session.scalars(
        select(Participant.role).distinct().join(Programme, Programme.id ==
                                                 Participant.programme_id)
        .where(Participant.person_id == user.person_id, Participant.active.is_(True),
               Programme.status == "active")
    ))


def allowed(user: User | None, action: str, obj: Any = None) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    check = _POLICY.get(action)
    if check is None:  # an unknown action is a programming error: deny, loudly in tests
        raise KeyError(f"no access rule for {action!r}")
    return bool(check(user, obj))


def ensure(user: User | None, action: str, obj: Any = None) -> None:
    if not allowed(user, action, obj):
        raise AccessDenied(action, hide=action in _HIDDEN)
