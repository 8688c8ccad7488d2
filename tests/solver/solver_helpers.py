from __future__ import annotations

from solver import Instance, Mentee, Mentor, Window

MON_9_12 = (Window(0, 9 * 60, 12 * 60),)


def mentor(id="M1", **kw) -> Mentor:
    base = dict(grade=10, unit="U1", city="Palu", tz="Asia/Jakarta", mode="either",
                levels={"Komunikasi": 4, "Pengelolaan Anggaran": 4}, availability=MON_9_12)
    base.update(kw)
    return Mentor(id=id, **base)


def mentee(id="E1", **kw) -> Mentee:
    base = dict(grade=5, unit="U1", city="Palu", tz="Asia/Jakarta", mode="either",
                levels={"Komunikasi": 1, "Pengelolaan Anggaran": 2},
                required={"Komunikasi": 3, "Pengelolaan Anggaran": 4}, availability=MON_9_12)
    base.update(kw)
    return Mentee(id=id, **base)


def inst(mentors, mentees, **kw) -> Instance:
    return Instance(mentors=tuple(mentors), mentees=tuple(mentees), **kw)
