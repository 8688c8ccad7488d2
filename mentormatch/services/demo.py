"""Realistic demo data, made through the product's own services.

Five work locations in three time zones (Padang, Palembang, Surabaya, Bandung on WIB; Palu on
WITA; a few remote staff in Jayapura on WIT), PNS and PPPK staff with plausible names, grades,
positions, competency gaps and availability, external mentors from a university, an NGO and a
company, and two programmes: one running since September (a solved and approved round, invites
answered, sessions held, logged, confirmed and rated: the reports have something to show) and
one starting in January whose mentors overlap the first's (its first round solved and approved
around the first programme's sessions, without a clash; a second round still a draft).

Everything goes through the services a coordinator, mentor and mentee would use, so the demo
exercises the real rules; only "when" is simulated (`now=` / `today=` arguments).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ..extensions import db
from ..models import (
    Attendee,
    AuditLog,
    AvailabilityWindow,
    Competency,
    LeaveDate,
    Location,
    Pair,
    Participant,
    Person,
    PersonCompetency,
    Programme,
    Round,
    Session,
    SessionSeries,
    Unit,
    User,
)
from . import accounts, audit, feedback, logbook, programmes, replies, rounds
from .catalogue import by_code, sync_competencies
from .grades import grade_label

LOCATIONS = [
    ("Padang (Pauh)", "Padang", "Asia/Jakarta"),
    ("Palembang (Plaju)", "Palembang", "Asia/Jakarta"),
    ("Surabaya (Mulyorejo)", "Surabaya", "Asia/Jakarta"),
    ("Bandung", "Bandung", "Asia/Jakarta"),
    ("Palu", "Palu", "Asia/Makassar"),
    ("Jayapura", "Jayapura", "Asia/Jayapura"),
]
LOCATION_WEIGHTS = [5, 4, 4, 3, 3, 1]
UNITS = [
    "Dinas Kependudukan dan Pencatatan Sipil",
    "Badan Kepegawaian dan Pengembangan SDM",
    "Dinas Komunikasi dan Informatika",
    "Badan Perencanaan Pembangunan Daerah",
    "Badan Pengelolaan Keuangan Daerah",
    "Kantor Kecamatan",
]
FIRST = [
    "Andi", "Budi", "Citra", "Dewi", "Eka", "Fajar", "Gita", "Hendra", "Indah", "Joko",
    "Kartika", "Lestari", "Made", "Nurul", "Putri", "Rizki", "Sari", "Taufik", "Utami", "Wahyu",
    "Yusuf", "Zainal", "Ayu", "Bayu", "Dian", "Fitri", "Hadi", "Ikhsan", "Rahmat", "Siti",
    "Agus", "Rina", "Ketut", "Nyoman", "Maria", "Ahmad", "Yohanes", "Fransiska", "Novita",
    "Irwan", "Yuliana", "Bambang", "Suryani", "Ilham", "Meiliana", "Daniel",
]
LAST = [
    "Saputra", "Wijaya", "Pratama", "Lubis", "Nasution", "Siregar", "Hidayat", "Santoso",
    "Kurniawan", "Rahmawati", "Lamba", "Tanjung", "Harahap", "Gunawan", "Setiawan", "Wulandari",
    "Syahputra", "Manurung", "Sitompul", "Pakaya", "Lasut", "Daeng", "Simatupang", "Putra",
    "Hasibuan", "Rumbewas", "Wanggai", "Tampubolon", "Marpaung", "Ramadhani",
]
# (position, job level, competencies the position leans on)
MENTOR_POSITIONS = [
    ("Analis Kebijakan Ahli Madya", "Ahli Madya", ("PK", "REN", "KOM")),
    ("Kepala Bidang Anggaran", "Administrator", ("ANG", "PK", "INT")),
    ("Kepala Seksi Pelayanan", "Pengawas", ("PP", "ADK", "KS")),
    ("Perencana Ahli Muda", "Ahli Muda", ("REN", "PRJ", "OPH")),
    ("Pranata Komputer Ahli Muda", "Ahli Muda", ("TI", "PRJ", "MP")),
    ("Kepala Bidang Komunikasi Publik", "Administrator", ("KPUB", "KOM", "PB")),
    ("Analis SDM Aparatur Ahli Madya", "Ahli Madya", ("PDOL", "KS", "INT")),
]
MENTEE_POSITIONS = [
    ("Analis Kepegawaian Ahli Pertama", "Ahli Pertama", ("PDOL", "KOM", "TI")),
    ("Pengelola Keuangan", "Pelaksana", ("ANG", "INT", "OPH")),
    ("Perencana Ahli Pertama", "Ahli Pertama", ("REN", "PRJ", "PK")),
    ("Pranata Komputer Terampil", "Terampil", ("TI", "PRJ", "KS")),
    ("Pengadministrasi Perkantoran", "Pelaksana", ("PP", "KOM", "ADK")),
    ("Pengolah Data dan Informasi", "Pelaksana", ("TI", "ADK", "OPH")),
    ("Pranata Humas Terampil", "Terampil", ("KPUB", "KOM", "PB")),
]
EXTERNALS = [
    ("Dr. Hasan Basri", "Universitas Andalas", "Kebijakan publik, evaluasi program",
     "Padang (Pauh)", ("PK", "REN", "OPH")),
    ("Ir. Lusiana Tambunan, M.T.", "Institut Teknologi Sepuluh Nopember",
     "Transformasi digital layanan publik", "Surabaya (Mulyorejo)", ("TI", "PRJ", "MP")),
    ("Rosa Matindas", "Yayasan Pelayanan Publik Sulawesi", "Pelayanan prima, pengaduan",
     "Palu", ("PP", "KOM", "KPUB")),
    ("Teguh Prasetyo", "PT Telkom Indonesia (Persero) Tbk", "Manajemen proyek TI",
     "Bandung", ("PRJ", "TI", "KS")),
]
TOPICS = [
    ("Menyusun rencana kerja triwulan", ("REN", "OPH")),
    ("Simulasi pelayanan pengaduan masyarakat", ("PP", "KOM")),
    ("Membaca laporan realisasi anggaran", ("ANG", "INT")),
    ("Dasbor data kependudukan dengan spreadsheet", ("TI", "ADK")),
    ("Menulis siaran pers dan materi media sosial", ("KPUB", "KOM")),
    ("Memimpin rapat koordinasi lintas bidang", ("KS", "PK")),
    ("Rencana pengembangan diri tahun depan", ("PDOL",)),
    ("Mengelola perubahan aplikasi layanan baru", ("MP", "TI")),
]
DEMO_PASSWORD = "demo-mentormatch"
PROGRAMME_START = date(2026, 9, 7)
PROGRAMME2_START = date(2027, 1, 11)
SEEDED = "demo.seeded"


class DemoError(RuntimeError):
    pass


def _nip(rng: random.Random, birth_year: int, appoint_year: int, seq: int,
         pppk: bool = False) -> str:
    born = date(birth_year, rng.randint(1, 12), rng.randint(1, 28))
    # PNS: CPNS appointment month 01-12; PPPK numbers carry 21-29 there instead (never a month)
    month = rng.randint(21, 29) if pppk else rng.randint(1, 12)
    return f"{born:%Y%m%d}{appoint_year}{month:02d}{rng.choice('12')}{seq % 999 + 1:03d}"


def _windows(rng: random.Random, mentor: bool, zone_shift: int) -> list[tuple[int, int, int]]:
    """Weekly free windows in local time, inside working hours (07:30-16:00, Friday prayer)."""
    slots = []
    for weekday in range(5):
        if rng.random() < (0.5 if mentor else 0.65):
            start = rng.choice([7 * 60 + 30, 8 * 60, 9 * 60, 10 * 60, 13 * 60, 14 * 60])
            if weekday == 4 and 11 * 60 + 30 <= start < 13 * 60:
                start = 13 * 60
            end = min(start + rng.choice([90, 120, 180]), 16 * 60)
            if weekday == 4 and start < 11 * 60 + 30:
                end = min(end, 11 * 60 + 30)
            slots.append((weekday, start, end))
    if not slots:  # everyone has at least one morning; shifted so zones still overlap
        slots = [(rng.randint(0, 3), 9 * 60 + zone_shift, 11 * 60 + zone_shift)]
    return slots


def _name(rng: random.Random, used: set[str]) -> str:
    while True:
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        if name not in used or len(used) > 1000:
            used.add(name)
            return name


def _make_people(rng: random.Random, mentors: int, mentees: int,
                 say: Callable[[str], None]) -> tuple[list[Person], list[Person]]:
    locations = [Location(name=n, city=c, timezone=tz) for n, c, tz in LOCATIONS]
    units = [Unit(name=u) for u in UNITS]
    db.session.add_all([*locations, *units])
    db.session.flush()
    loc_by_name = {loc.name: loc for loc in locations}
    comps = by_code()
    used: set[str] = set()
    mentor_rows: list[Person] = []
    mentee_rows: list[Person] = []
    for i in range(mentors + mentees):
        mentor = i < mentors
        name = _name(rng, used)
        loc = rng.choices(locations, LOCATION_WEIGHTS)[0]
        pppk = not mentor and rng.random() < 0.15
        grade = rng.randint(11, 15) if mentor else rng.randint(5, 10)
        birth = rng.randint(1968, 1982) if mentor else rng.randint(1988, 2000)
        position, level, focus = rng.choice(MENTOR_POSITIONS if mentor else MENTEE_POSITIONS)
        person = Person(
            kind="pppk" if pppk else "pns",
            # TMT between 22 and 28, never in the future; PPPK appointed from 2019 on
            nip=_nip(rng, birth, rng.randint(2019, 2024) if pppk
                     else min(birth + rng.randint(22, 28), 2024), i, pppk),
            name=name,
            email=f"{name.lower().replace(' ', '.').replace(',', '')}.{i}@demo.go.id",
            unit=rng.choice(units), location=loc, position=position, job_level=level,
            grade_rank=grade, grade_label=grade_label(grade, "pppk" if pppk else "pns"),
            mode=rng.choice(["online", "online", "either", "either", "in_person"]),
            is_priority=(not mentor and (pppk or loc.city == "Jayapura" or rng.random() < 0.1)),
        )
        _levels(rng, person, comps, focus, mentor)
        shift = {"Asia/Makassar": 60, "Asia/Jayapura": 120}.get(loc.timezone, 0)
        for wd, start, end in _windows(rng, mentor, shift):
            person.availability.append(
                AvailabilityWindow(weekday=wd, start_minute=start, end_minute=end))
        if rng.random() < 0.08:
            first = date(2026, 12, 1) + timedelta(days=rng.randint(0, 60))
            person.leaves.append(LeaveDate(start_date=first,
                                           end_date=first + timedelta(days=rng.randint(2, 10)),
                                           reason="Cuti tahunan"))
        (mentor_rows if mentor else mentee_rows).append(person)
        if (i + 1) % 50 == 0:
            say(f"  {i + 1}/{mentors + mentees} people")
    for n, (name, org, expertise, loc_name, focus) in enumerate(EXTERNALS):
        person = Person(kind="external", nip=None, name=name, organisation=org,
                        expertise=expertise, email=f"mitra{n + 1}@mitra.demo.id",
                        location=loc_by_name[loc_name], position="Mitra eksternal",
                        mode="online")
        _levels(rng, person, comps, focus, mentor=True)
        for wd in (1, 3):
            person.availability.append(
                AvailabilityWindow(weekday=wd, start_minute=13 * 60, end_minute=16 * 60))
        mentor_rows.append(person)
    db.session.add_all(mentor_rows + mentee_rows)
    db.session.flush()
    # Some mentees report to a mentor: the solver must never pair them.
    internal = [m for m in mentor_rows if m.kind != "external"]
    for mentee in rng.sample(mentee_rows, k=min(len(mentee_rows), 25)):
        same_unit = [m for m in internal if m.unit_id == mentee.unit_id]
        if same_unit:
            mentee.supervisor_id = rng.choice(same_unit).id
    db.session.flush()
    return mentor_rows, mentee_rows


def _levels(rng: random.Random, person: Person, comps: dict[str, Competency],
            focus: tuple[str, ...],
            mentor: bool) -> None:
    """Mentors: strong where their position leans; mentees: the position's required levels
    (data, not a rule) on a handful of competencies, with gaps of 0-3 steps."""
    manajerial = ["INT", "KS", "KOM", "OPH", "PP", "PDOL", "MP", "PK", "PB"]
    for code, comp in comps.items():
        if mentor:
            if code in focus:
                current = rng.choice([4, 5, 5])
            elif code in manajerial:
                current = rng.choice([3, 3, 4])
            else:
                continue
            person.competencies.append(PersonCompetency(competency=comp, current_level=current))
            continue
        wanted = code in focus or (code in manajerial and rng.random() < 0.35)
        if not wanted:
            continue
        required = rng.choice([3, 3, 4]) if code in focus else rng.choice([2, 3, 3])
        gap = rng.choices([0, 1, 2, 3], [2, 4, 3, 1])[0] if code in focus else \
            rng.choices([0, 1, 2], [4, 4, 1])[0]
        current = max(1, required - gap)
        person.competencies.append(PersonCompetency(
            competency=comp, current_level=current, required_level=required,
            baseline_level=current))


def _solve_now(rnd: Round, coordinator: User) -> None:
    """Queue and solve in this process (the demo's scheduler would do the same shortly)."""
    rounds.queue(rnd, coordinator)
    db.session.commit()
    claimed = rounds.claim_next("demo-seed")
    if claimed is None:
        raise DemoError("the demo round could not be claimed")
    if rounds.solve_claimed(*claimed) != "solved":
        db.session.rollback()
        raise DemoError("the demo round did not solve")


def _history(rng: random.Random, prog: Programme, now: datetime, invited: datetime,
             say: Callable[[str], None]) -> dict[str, int]:
    """Answers to the invites, then for each past session: held and logged by the mentee,
    confirmed by the mentor, rated by both - or left unlogged, as happens."""
    comps = by_code()
    counts = {"accepted": 0, "declined": 0, "logs": 0, "confirmed": 0}
    pairs = list(db.session.scalars(select(Pair).where(Pair.programme_id == prog.id)
                                    .order_by(Pair.id)))
    for pair in pairs:
        series = db.session.scalar(select(SessionSeries).where(SessionSeries.pair_id == pair.id))
        if series is None:
            continue
        mentor_att = db.session.scalars(select(Attendee).where(
            Attendee.series_id == series.id, Attendee.role == "mentor")).one()
        mentee_att = db.session.scalar(select(Attendee).where(
            Attendee.series_id == series.id, Attendee.role == "mentee"))
        for att in (mentor_att, mentee_att):
            if att is not None:
                att.invited_at = invited  # the invitations went out when the round was approved
        luck = rng.random()
        if luck < 0.06:
            _answer(rng, mentor_att, "DECLINED", invited)
            counts["declined"] += 1
            continue
        if luck < 0.18:
            continue  # still unanswered: the scheduler will chase it
        _answer(rng, mentor_att, "ACCEPTED", invited)
        if mentee_att is not None:
            _answer(rng, mentee_att, "ACCEPTED", invited)
        counts["accepted"] += 1
        db.session.refresh(pair)
        if pair.status != "active":
            continue
        engaged = rng.random()
        past = [s for s in db.session.scalars(select(Session).where(
            Session.series_id == series.id).order_by(Session.start_at))
            if s.end_at < now and s.status == "scheduled"]
        for session in past:
            if rng.random() > (0.9 if engaged > 0.3 else 0.45):
                continue  # not logged (yet): the nudge job asks; later marked missed
            topic, topic_comps = rng.choice(TOPICS)
            gap_ids = logbook.gap_competency_ids(pair)
            chosen = [comps[c].id for c in topic_comps if c in comps and comps[c].id in gap_ids]
            held_on = session.start_at.astimezone(ZoneInfo(pair.mentee.timezone)).date()
            data = logbook.LogInput(
                held_on=held_on, duration_minutes=rng.choice([45, 60, 60, 60, 75, 90]),
                topics=topic, notes="Catatan pribadi mentee tentang sesi ini.",
                competency_ids=chosen, session_id=session.id,
                action_items=[logbook.ActionInput("Praktikkan di pekerjaan minggu ini",
                                                  held_on + timedelta(days=7))])
            log, _created = logbook.submit_log(pair, pair.mentee, data,
                                               now=session.end_at + timedelta(hours=3))
            counts["logs"] += 1
            if rng.random() < 0.85:
                logbook.confirm_log(log, pair.mentor)
                counts["confirmed"] += 1
                feedback.give_feedback(log, pair.mentee, rng.choice([4, 4, 5, 5, 3]),
                                       rng.choice(["Sangat membantu.", "Materi relevan.", None]))
                if rng.random() < 0.6:
                    feedback.give_feedback(log, pair.mentor, rng.choice([4, 5]), None)
        db.session.flush()
    say(f"  invites: {counts['accepted']} accepted, {counts['declined']} declined; "
        f"{counts['logs']} session logs, {counts['confirmed']} confirmed")
    return counts


def _answer(rng: random.Random, att: Attendee, partstat: str, invited: datetime) -> None:
    """Answer through the same service as a calendar reply; the answer is dated a few hours
    to a few days after the invitation (the demo simulates when, not what)."""
    replies.apply_partstat(att, partstat, None, None, "demo")
    att.answered_at = invited + timedelta(hours=rng.choice([2, 5, 20, 30, 50, 75]))


def seed_demo(
    mentors: int = 64,
    mentees: int = 160,
    seed: int = 2026,
    progress: Callable[[str], None] | None = None,
    now: datetime | None = None,
) -> dict[str, str]:
    """Create the demo once; returns the demo logins (e-mail -> roles). A second call adds
    nothing. Commits as it goes (the solve job commits), so it refuses to run on a database
    that holds other data."""
    say = progress or (lambda _msg: None)
    now = now or datetime.now(UTC)
    sync_competencies()
    if db.session.scalar(select(AuditLog.id).where(AuditLog.action == SEEDED)) is not None:
        say("demo data already present")
        return _logins()
    if db.session.scalar(select(Person.id).limit(1)) is not None:
        raise DemoError("this database already holds people but no complete demo; "
                        "start the demo with an empty instance folder (--instance DIR)")
    rng = random.Random(seed)
    mentor_rows, mentee_rows = _make_people(rng, mentors, mentees, say)
    admin = accounts.create_user("admin@demo.go.id", ["admin"], password=DEMO_PASSWORD)
    coord = accounts.create_user("koordinator@demo.go.id", ["coordinator"],
                                 password=DEMO_PASSWORD)
    db.session.flush()
    say(f"created {len(mentor_rows)} mentors ({len(EXTERNALS)} external) and "
        f"{len(mentee_rows)} mentees in {len(LOCATIONS)} locations")

    # Programme 1: running since September.
    prog = programmes.create(
        coord, name="Mentoring ASN Pemprov 2026/2027", start_date=PROGRAMME_START,
        end_date=date(2027, 3, 26), session_minutes=60, interval_weeks=2, session_count=10,
        mode_policy="either", default_capacity=3, preferences_enabled=False)
    programmes.add_participants(prog, "mentor", programmes.Filters(grade_min=11), coord)
    programmes.add_participants(prog, "mentor", programmes.Filters(kind="external"), coord)
    programmes.add_participants(prog, "mentee", programmes.Filters(grade_max=10), coord)
    rnd = rounds.create(prog, coord, name="Putaran 1 (September)")
    db.session.commit()
    say("solving the first round ...")
    _solve_now(rnd, coord)
    rnd = db.session.get_one(Round, rnd.id)
    approved_on = datetime.combine(PROGRAMME_START - timedelta(days=3), datetime.min.time(),
                                   UTC) + timedelta(hours=2)
    result = rounds.approve(rnd, coord, today=approved_on)
    db.session.flush()
    say(f"  approved: {len(result.created)} pairs with session series and invites")
    _history(rng, prog, now, approved_on, say)

    # Programme 2: starts in January with mentors who also mentor in programme 1. Its first
    # round is solved and approved through the same services: the solver sees programme 1's
    # sessions as busy time and approval refuses any clash, so nobody is booked twice.
    prog2 = programmes.create(
        coord, name="Coaching Pelayanan Publik 2027", start_date=PROGRAMME2_START,
        end_date=date(2027, 6, 30), session_minutes=45, interval_weeks=1, session_count=8,
        mode_policy="online", default_capacity=2, preferences_enabled=True)
    programmes.add_participants(prog2, "mentor", programmes.Filters(grade_min=12), coord)
    programmes.add_participants(prog2, "mentee", programmes.Filters(grade_max=10, gap_in="PP"),
                                coord)
    rnd2 = rounds.create(prog2, coord, name="Putaran 1", filters={"gap_in": "PP"})
    db.session.commit()
    joined = set(db.session.scalars(select(Participant.role).where(
        Participant.programme_id == prog2.id)))
    if {"mentor", "mentee"} <= joined:  # a tiny demo (tests) may have nobody to match
        say("solving the second programme's round (around the first programme's sessions) ...")
        _solve_now(rnd2, coord)
        rnd2 = db.session.get_one(Round, rnd2.id)
        approved2 = datetime.combine(PROGRAMME2_START - timedelta(days=14),
                                     datetime.min.time(), UTC) + timedelta(hours=2)
        result2 = rounds.approve(rnd2, coord, today=approved2)
        db.session.flush()
        say(f"  approved: {len(result2.created)} pairs, none clashing with programme 1")
        # ... and a follow-up round being prepared: a draft waiting for the coordinator.
        rounds.create(prog2, coord, name="Putaran 2 (susulan)", kind="rematch")

    # Logins: a mentor with mentees, a mentee with a mentor (both with history).
    busy = db.session.scalars(select(Pair).where(Pair.programme_id == prog.id,
                                                 Pair.status == "active")
                              .order_by(Pair.id)).first()
    mentor_p = busy.mentor if busy else mentor_rows[0]
    mentee_p = busy.mentee if busy else mentee_rows[0]
    accounts.create_user(mentor_p.email, ["mentor"], password=DEMO_PASSWORD, person=mentor_p)
    accounts.create_user(mentee_p.email, ["mentee"], password=DEMO_PASSWORD, person=mentee_p)
    audit.record(admin, SEEDED, None, mentors=len(mentor_rows), mentees=len(mentee_rows))
    db.session.flush()
    return _logins()


def _logins() -> dict[str, str]:
    return {
        u.email: ", ".join(sorted(u.roles))
        for u in db.session.scalars(select(User).order_by(User.id))
    }
