"""Realistic demo data: five work locations in three time zones, mentors and mentees with
plausible names, grades, positions, competency gaps and availability, and demo logins."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date

from sqlalchemy import select

from ..extensions import db
from ..models import AvailabilityWindow, Location, Person, PersonCompetency, Unit
from . import accounts
from .catalogue import all_competencies, sync_competencies
from .grades import grade_label

LOCATIONS = [
    ("Padang (Pauh)", "Padang", "Asia/Jakarta"),
    ("Palembang (Plaju)", "Palembang", "Asia/Jakarta"),
    ("Surabaya (Mulyorejo)", "Surabaya", "Asia/Jakarta"),
    ("Bandung", "Bandung", "Asia/Jakarta"),
    ("Palu", "Palu", "Asia/Makassar"),
]
UNITS = [
    "Dinas Kependudukan dan Pencatatan Sipil",
    "Badan Kepegawaian dan Pengembangan SDM",
    "Dinas Komunikasi dan Informatika",
    "Badan Perencanaan Pembangunan Daerah",
    "Badan Pengelolaan Keuangan Daerah",
    "Kantor Kecamatan",
]
FIRST = [
    "Andi",
    "Budi",
    "Citra",
    "Dewi",
    "Eka",
    "Fajar",
    "Gita",
    "Hendra",
    "Indah",
    "Joko",
    "Kartika",
    "Lestari",
    "Made",
    "Nurul",
    "Putri",
    "Rizki",
    "Sari",
    "Taufik",
    "Utami",
    "Wahyu",
    "Yusuf",
    "Zainal",
    "Ayu",
    "Bayu",
    "Dian",
    "Fitri",
    "Hadi",
    "Ikhsan",
    "Rahmat",
    "Siti",
    "Agus",
    "Rina",
    "Ketut",
    "Nyoman",
    "Maria",
    "Ahmad",
    "Yohanes",
    "Fransiska",
]
LAST = [
    "Saputra",
    "Wijaya",
    "Pratama",
    "Lubis",
    "Nasution",
    "Siregar",
    "Hidayat",
    "Santoso",
    "Kurniawan",
    "Rahmawati",
    "Lamba",
    "Tanjung",
    "Harahap",
    "Gunawan",
    "Setiawan",
    "Wulandari",
    "Syahputra",
    "Manurung",
    "Sitompul",
    "Pakaya",
    "Lasut",
    "Daeng",
    "Simatupang",
]
MENTOR_POSITIONS = [
    ("Analis Kebijakan Ahli Madya", "Ahli Madya"),
    ("Kepala Bidang", "Administrator"),
    ("Kepala Seksi", "Pengawas"),
    ("Perencana Ahli Muda", "Ahli Muda"),
    ("Pranata Komputer Ahli Muda", "Ahli Muda"),
]
MENTEE_POSITIONS = [
    ("Analis Kepegawaian Ahli Pertama", "Ahli Pertama"),
    ("Pengelola Keuangan", "Pelaksana"),
    ("Perencana Ahli Pertama", "Ahli Pertama"),
    ("Pranata Komputer Terampil", "Terampil"),
    ("Pengadministrasi Umum", "Pelaksana"),
    ("Pengolah Data", "Pelaksana"),
]
DEMO_PASSWORD = "demo-mentormatch"


def _nip(rng: random.Random, birth_year: int, appoint_year: int, seq: int) -> str:
    born = date(birth_year, rng.randint(1, 12), rng.randint(1, 28))
    return (
        f"{born:%Y%m%d}{appoint_year}{rng.randint(1, 12):02d}{rng.choice('12')}{seq % 999 + 1:03d}"
    )


def _windows(rng: random.Random, busy: bool) -> list[tuple[int, int, int]]:
    slots = []
    for weekday in range(5):
        if rng.random() < (0.45 if busy else 0.7):
            start = rng.choice([8 * 60, 9 * 60, 10 * 60, 13 * 60, 14 * 60])
            slots.append((weekday, start, min(start + rng.choice([120, 180]), 16 * 60)))
    return slots or [(rng.randint(0, 3), 9 * 60, 11 * 60)]


def seed_demo(
    mentors: int = 64,
    mentees: int = 160,
    seed: int = 2026,
    progress: Callable[[str], None] | None = None,
) -> dict[str, str]:
    """Create the demo population once; returns the demo logins (e-mail → role)."""
    say = progress or (lambda _msg: None)
    sync_competencies()
    if db.session.scalar(select(Person.id).limit(1)) is not None:
        say("demo data already present")
        return _logins()
    rng = random.Random(seed)
    locations = [Location(name=n, city=c, timezone=tz) for n, c, tz in LOCATIONS]
    units = [Unit(name=u) for u in UNITS]
    db.session.add_all(locations + units)
    comps = all_competencies()
    people: list[Person] = []
    for i in range(mentors + mentees):
        mentor = i < mentors
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        grade = rng.randint(11, 15) if mentor else rng.randint(5, 10)
        birth = rng.randint(1968, 1982) if mentor else rng.randint(1988, 2000)
        position, level = rng.choice(MENTOR_POSITIONS if mentor else MENTEE_POSITIONS)
        person = Person(
            kind="pns",
            nip=_nip(rng, birth, birth + rng.randint(22, 28), i),
            name=name,
            email=f"{name.lower().replace(' ', '.')}.{i}@demo.go.id",
            unit=rng.choice(units),
            location=rng.choice(locations),
            position=position,
            job_level=level,
            grade_rank=grade,
            grade_label=grade_label(grade),
            mode=rng.choice(["online", "online", "either", "in_person"]),
            is_priority=(not mentor and rng.random() < 0.15),
        )
        for comp in comps:
            if mentor:
                current = rng.choices([3, 4, 5], [3, 4, 2])[0]
                person.competencies.append(PersonCompetency(competency=comp, current_level=current))
            else:
                current = rng.choices([1, 2, 3], [2, 4, 3])[0]
                required = min(5, current + rng.choices([0, 1, 2], [4, 4, 2])[0])
                person.competencies.append(
                    PersonCompetency(
                        competency=comp,
                        current_level=current,
                        required_level=required,
                        baseline_level=current,
                    )
                )
        for wd, start, end in _windows(rng, busy=mentor):
            person.availability.append(
                AvailabilityWindow(weekday=wd, start_minute=start, end_minute=end)
            )
        people.append(person)
        if (i + 1) % 50 == 0:
            say(f"  {i + 1}/{mentors + mentees} people")
    db.session.add_all(people)
    db.session.flush()
    accounts.create_user("admin@demo.go.id", ["admin"], password=DEMO_PASSWORD)
    accounts.create_user("koordinator@demo.go.id", ["coordinator"], password=DEMO_PASSWORD)
    accounts.create_user(people[0].email, ["mentor"], password=DEMO_PASSWORD, person=people[0])
    accounts.create_user(
        people[mentors].email, ["mentee"], password=DEMO_PASSWORD, person=people[mentors]
    )
    db.session.flush()
    say(f"created {mentors} mentors and {mentees} mentees in {len(LOCATIONS)} locations")
    return _logins()


def _logins() -> dict[str, str]:
    from ..models import User

    return {
        u.email: ", ".join(sorted(u.roles))
        for u in db.session.scalars(select(User).order_by(User.id))
    }
