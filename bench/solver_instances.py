"""Seeded instance generators for the solver bench and tests.

``dense``: one city and zone, every mode allowed; 64 % of pairs pass the pair rules (grade) and
15 % also share a slot. The difficulty is competition: mentor quality has a strong global
component (a mentor good at one competency is good at all, and senior), so every mentee ranks the
same few mentors first. Measured at 5,000: each mentee's own top-30 keeps 53 % of the maximum
matching, a greedy pass 91 % (the issue's stress case: about half and 87 %). Mentors = N/3,
capacities 1-4, 12 competencies (9 of Permenpan RB 38/2017 + 3 teknis), mentees free 1-2 windows
of 60-90 min, mentors 2-3 windows of 2-4 h inside the 35 weekly one-hour blocks of working hours.

``realistic``: 5 cities in 3 time zones (Padang, Surabaya, Bandung WIB; Palu WITA; Jayapura WIT),
12 units, in-person / online / either modes (in-person only within one city; 60 % of mentees want
in person), mornings are popular, supervisors from the same unit, earlier pairs. The pair rules
cut 71 % of the pairs, 11 % are eligible with a common slot.
"""

from __future__ import annotations

import random

COMPETENCIES = (
    "Integritas", "Kerja Sama", "Komunikasi", "Orientasi pada Hasil", "Pelayanan Publik",
    "Pengembangan Diri dan Orang Lain", "Mengelola Perubahan", "Pengambilan Keputusan",
    "Perekat Bangsa", "Pengelolaan Anggaran", "Perencanaan Program", "Administrasi Berbasis TI",
)
CITIES = (  # city, zone, weight
    ("Padang", "Asia/Jakarta", 5), ("Surabaya", "Asia/Jakarta", 4), ("Bandung", "Asia/Jakarta", 3),
    ("Palu", "Asia/Makassar", 2), ("Jayapura", "Asia/Jayapura", 1),
)
QUALITY = (1.5, 2.5)
NOISE = 0.9
STARTS = (7 * 60 + 30, 8 * 60, 8 * 60 + 30, 9 * 60, 10 * 60, 13 * 60, 13 * 60 + 30, 14 * 60)


def _hm(m: int) -> str:
    return f"{m // 60:02d}:{m % 60:02d}"


def _windows(rng: random.Random, n_windows: int, morning_bias: float,
             lengths: tuple[int, ...] = (120, 180, 240)) -> list[dict]:
    out = []
    for d in rng.sample(range(5), n_windows):
        start = rng.choice(STARTS[:5] if rng.random() < morning_bias else STARTS)
        end = min(start + rng.choice(lengths), 16 * 60 + (30 if d == 4 else 0))
        out.append({"weekday": d, "start": _hm(start), "end": _hm(end)})
    return out


FAMILIES = ("dense", "realistic", "skewed", "sparse", "rules", "national")


def generate(n_mentees: int, family: str = "dense", seed: int = 0) -> dict:
    """Instance dict (``Instance.from_dict`` input) for ``family`` in ``FAMILIES``."""
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}")
    if family == "national":
        return national(n_mentees, seed)
    if family in ("skewed", "sparse", "rules"):
        return _variant(n_mentees, family, seed)
    return _base(n_mentees, family, seed)


def _variant(n_mentees: int, family: str, seed: int) -> dict:
    """``skewed``: the realistic family where every mentee needs one popular competency
    (Pengelolaan Anggaran, weight 3) that only one mentor in eight holds above level 2;
    ``sparse``: the dense family with mentees free a single 60-minute window and mentors a
    single 2-hour window (few common slots, many near-ties); ``rules``: the realistic family
    with every rule at work: forbids (2 % of mentees), earlier pairs (15 %), locks and fixed
    pairs (1 %), sessions-per-day limits on half the mentors, 20 % priority mentees."""
    rng = random.Random(f"{family}-v-{n_mentees}-{seed}")
    d = _base(n_mentees, "dense" if family == "sparse" else "realistic", seed)
    mentors, mentees = d["mentors"], d["mentees"]
    hot = "Pengelolaan Anggaran"
    if family == "skewed":
        for m in mentors:
            m["levels"][hot] = rng.randint(4, 5) if rng.random() < 0.125 else rng.randint(1, 2)
        for e in mentees:
            e["levels"][hot] = rng.randint(1, 2)
            e["required"][hot] = rng.randint(4, 5)
        d["config"] = {"weights": {"competency": {hot: 3.0}}}
    elif family == "sparse":
        for m in mentors:
            m["availability"] = _windows(rng, 1, 0.4, (120,))
        for e in mentees:
            e["availability"] = _windows(rng, 1, 0.4, (60,))
    else:
        for m in mentors:
            m["max_sessions_per_day"] = rng.choice((1, 2)) if rng.random() < 0.5 else None
        for e in mentees:
            e["priority"] = rng.random() < 0.2
        ids = [m["id"] for m in mentors]
        d["forbids"] = [{"mentee": e["id"], "mentor": rng.choice(ids)}
                        for e in rng.sample(mentees, n_mentees // 50)]
        d["previous_pairs"] = [{"mentee": e["id"], "mentor": rng.choice(ids)}
                               for e in rng.sample(mentees, n_mentees * 3 // 20)]
        picked = rng.sample(mentees, max(2, n_mentees // 50))
        half = len(picked) // 2
        d["locks"] = [{"mentee": e["id"], "mentor": rng.choice(ids)} for e in picked[:half]]
        d["fixed"] = [{"mentee": e["id"], "mentor": rng.choice(ids)} for e in picked[half:]]
    return d


def _base(n_mentees: int, family: str, seed: int) -> dict:
    rng = random.Random(f"{family}-{n_mentees}-{seed}")
    n_m = max(1, n_mentees // 3)
    realistic = family == "realistic"
    city_w = [c[2] for c in CITIES]
    units = [f"U{u:02d}" for u in range(12)]
    mentors = []
    for j in range(n_m):
        city, tz, _ = rng.choices(CITIES, city_w)[0] if realistic else CITIES[0]
        quality = rng.betavariate(*QUALITY)  # global popularity: few excellent mentors
        levels = {c: max(1, min(5, round(1.5 + 3.6 * quality + rng.gauss(0, NOISE))))
                  for c in COMPETENCIES}
        mentors.append({
            # seniority follows quality: the popular mentors are also the only ones senior
            # enough for senior mentees, which is what a greedy first-come pass gets wrong
            "id": f"M{j:05d}",
            "grade": max(6, min(17, round(6 + 11 * quality + rng.gauss(0, 1.5)))),
            "unit": rng.choice(units),
            "city": city, "tz": tz,
            "mode": rng.choice(("online", "in_person", "either", "either")) if realistic
            else "either",
            "levels": levels,
            "availability": _windows(rng, rng.randint(1, 3) if realistic else rng.randint(2, 3),
                                     0.7 if realistic else 0.4),
            "capacity": rng.randint(1, 4),
            "max_sessions_per_day": (rng.choice((1, 2)) if rng.random() < 0.3 else None),
        })
    mentees = []
    for i in range(n_mentees):
        city, tz, _ = rng.choices(CITIES, city_w)[0] if realistic else CITIES[0]
        unit = rng.choice(units)
        cur = {c: rng.randint(1, 3) for c in COMPETENCIES}
        req = {c: min(5, cur[c] + rng.randint(1, 3)) for c in rng.sample(COMPETENCIES, 5)}
        prefs = []
        if rng.random() < 0.2:  # preferences follow reputation too
            prefs = [m["id"] for m in sorted(rng.sample(mentors, min(12, n_m)),
                                             key=lambda m: -sum(m["levels"].values()))[:3]]
        sup = None
        if rng.random() < 0.3:
            same_unit = [m for m in rng.sample(mentors, min(20, n_m)) if m["unit"] == unit]
            sup = (same_unit or [rng.choice(mentors)])[0]["id"] if realistic else \
                rng.choice(mentors)["id"]
        mentees.append({
            "id": f"E{i:05d}", "grade": rng.randint(1, 14), "unit": unit,
            "city": city, "tz": tz,
            "mode": rng.choice(("online", "in_person", "in_person", "in_person", "either"))
            if realistic else "either",
            "levels": cur, "required": req, "supervisor_id": sup,
            "availability": _windows(rng, rng.randint(1, 3) if realistic else rng.randint(1, 2),
                                     0.8 if realistic else 0.4,
                                     (60, 120, 180) if realistic else (60, 90)),
            "preferences": prefs, "priority": rng.random() < 0.1,
        })
    previous = [{"mentee": e["id"], "mentor": rng.choice(mentors)["id"]}
                for e in rng.sample(mentees, n_mentees // 20)]
    return {"mentors": mentors, "mentees": mentees, "previous_pairs": previous}


# 38 provinces (2024): name, zone, weight (roughly the civil-service headcount, Java largest)
PROVINCES = (
    ("Aceh", "Asia/Jakarta", 2), ("Sumatera Utara", "Asia/Jakarta", 3),
    ("Sumatera Barat", "Asia/Jakarta", 2), ("Riau", "Asia/Jakarta", 2),
    ("Jambi", "Asia/Jakarta", 1), ("Sumatera Selatan", "Asia/Jakarta", 2),
    ("Bengkulu", "Asia/Jakarta", 1), ("Lampung", "Asia/Jakarta", 2),
    ("Kepulauan Bangka Belitung", "Asia/Jakarta", 1), ("Kepulauan Riau", "Asia/Jakarta", 1),
    ("DKI Jakarta", "Asia/Jakarta", 4), ("Jawa Barat", "Asia/Jakarta", 5),
    ("Jawa Tengah", "Asia/Jakarta", 5), ("DI Yogyakarta", "Asia/Jakarta", 1),
    ("Jawa Timur", "Asia/Jakarta", 5), ("Banten", "Asia/Jakarta", 2),
    ("Kalimantan Barat", "Asia/Jakarta", 1), ("Kalimantan Tengah", "Asia/Jakarta", 1),
    ("Bali", "Asia/Makassar", 1), ("Nusa Tenggara Barat", "Asia/Makassar", 1),
    ("Nusa Tenggara Timur", "Asia/Makassar", 2), ("Kalimantan Selatan", "Asia/Makassar", 1),
    ("Kalimantan Timur", "Asia/Makassar", 1), ("Kalimantan Utara", "Asia/Makassar", 1),
    ("Sulawesi Utara", "Asia/Makassar", 1), ("Sulawesi Tengah", "Asia/Makassar", 1),
    ("Sulawesi Selatan", "Asia/Makassar", 2), ("Sulawesi Tenggara", "Asia/Makassar", 1),
    ("Gorontalo", "Asia/Makassar", 1), ("Sulawesi Barat", "Asia/Makassar", 1),
    ("Maluku", "Asia/Jayapura", 1), ("Maluku Utara", "Asia/Jayapura", 1),
    ("Papua", "Asia/Jayapura", 1), ("Papua Barat", "Asia/Jayapura", 1),
    ("Papua Selatan", "Asia/Jayapura", 1), ("Papua Tengah", "Asia/Jayapura", 1),
    ("Papua Pegunungan", "Asia/Jayapura", 1), ("Papua Barat Daya", "Asia/Jayapura", 1),
)
NATIONAL_SHARE = 0.02  # national online mentors among all mentors


def national(n_mentees: int, seed: int = 0) -> dict:
    """``national``: a national cohort over the 38 provinces (Java weighted), about 80,000
    mentors for 250,000 mentees (0.32 per mentee). 98 % of the mentors mentor in person in their
    own city (2-6 cities and regencies a province; the in-person rule keeps their pairs inside
    it: the city is a component of the eligibility graph); 2 % are national online mentors
    (capacity 3-8) whom any mentee willing to meet online (45 %) can have, whatever the
    province: they link the components.
    Mentees: 55 % in person only, 30 % either, 15 % online only, one free window of 1-2 hours a
    week; 20 agencies (units)."""
    rng = random.Random(f"national-{n_mentees}-{seed}")
    weights = [p[2] for p in PROVINCES]
    agencies = [f"K{a:02d}" for a in range(20)]
    n_m = max(2, round(n_mentees * 0.32))
    mentors = []
    for j in range(n_m):
        nat = rng.random() < NATIONAL_SHARE
        prov, tz, w = rng.choices(PROVINCES, weights)[0]
        city = f"{prov} {rng.randint(1, 1 + w)}"
        quality = rng.betavariate(*QUALITY)
        levels = {c: max(1, min(5, round(1.5 + 3.6 * quality + rng.gauss(0, NOISE))))
                  for c in COMPETENCIES}
        mentors.append({
            "id": f"M{j:06d}",
            "grade": max(6, min(17, round(6 + 11 * quality + rng.gauss(0, 1.5)))),
            "unit": rng.choice(agencies), "city": city, "tz": tz,
            "mode": "online" if nat else "in_person",
            "levels": levels,
            "availability": _windows(rng, rng.randint(1, 2), 0.6, (120, 180)),
            "capacity": rng.randint(3, 8) if nat else rng.randint(1, 4),
            "max_sessions_per_day": (rng.choice((1, 2)) if rng.random() < 0.3 else None),
        })
    mentees = []
    for i in range(n_mentees):
        prov, tz, w = rng.choices(PROVINCES, weights)[0]
        cur = {c: rng.randint(1, 3) for c in COMPETENCIES}
        req = {c: min(5, cur[c] + rng.randint(1, 3)) for c in rng.sample(COMPETENCIES, 5)}
        r = rng.random()
        mentees.append({
            "id": f"E{i:06d}", "grade": rng.randint(1, 14), "unit": rng.choice(agencies),
            "city": f"{prov} {rng.randint(1, 1 + w)}", "tz": tz,
            "mode": "in_person" if r < 0.55 else ("either" if r < 0.85 else "online"),
            "levels": cur, "required": req,
            "availability": _windows(rng, 1, 0.7, (60, 120)),
            "priority": rng.random() < 0.1,
        })
    return {"mentors": mentors, "mentees": mentees}
