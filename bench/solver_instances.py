"""Seeded instance generators for the solver bench and tests (dense and realistic families)."""

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
DAYS = range(5)


def _windows(rng: random.Random, skew: bool) -> list[dict]:
    out = []
    for d in DAYS:
        if rng.random() < (0.45 if skew else 0.6):
            continue
        if skew and rng.random() < 0.7:
            start = rng.choice((7 * 60 + 30, 8 * 60, 9 * 60))  # mornings are popular
        else:
            start = rng.randrange(7 * 60 + 30, 14 * 60, 30)
        dur = rng.choice((120, 180, 240))
        end = min(start + dur, 17 * 60)
        out.append({"weekday": d, "start": f"{start // 60:02d}:{start % 60:02d}",
                    "end": f"{end // 60:02d}:{end % 60:02d}"})
    return out


def generate(n_mentees: int, family: str = "dense", seed: int = 0) -> dict:
    """Instance dict. Mentors = n/3, capacities 1-4, 12 competencies, ~34 weekly slots."""
    rng = random.Random(f"{family}-{n_mentees}-{seed}")
    n_m = max(1, n_mentees // 3)
    realistic = family == "realistic"
    city_w = [c[2] for c in CITIES]
    units = [f"U{u:02d}" for u in range(12)]
    mentors = []
    for j in range(n_m):
        city, tz, _ = rng.choices(CITIES, city_w)[0] if realistic else ("Padang", "Asia/Jakarta", 1)
        levels = {c: rng.randint(2, 5) for c in COMPETENCIES}
        mentors.append({
            "id": f"M{j:05d}", "grade": rng.randint(6, 17), "unit": rng.choice(units),
            "city": city, "tz": tz,
            "mode": rng.choice(("online", "in_person", "either")) if realistic else "either",
            "levels": levels, "availability": _windows(rng, realistic),
            "capacity": rng.randint(1, 4),
            "max_sessions_per_day": 2 if rng.random() < 0.3 else None,
        })
    mentees = []
    for i in range(n_mentees):
        city, tz, _ = rng.choices(CITIES, city_w)[0] if realistic else ("Padang", "Asia/Jakarta", 1)
        cur = {c: rng.randint(1, 3) for c in COMPETENCIES}
        req = {c: min(5, cur[c] + rng.randint(1, 2)) for c in rng.sample(COMPETENCIES, 3)}
        prefs = [m["id"] for m in rng.sample(mentors, min(3, n_m))] if rng.random() < 0.2 else []
        sup = rng.choice(mentors)["id"] if rng.random() < 0.3 else None
        mentees.append({
            "id": f"E{i:05d}", "grade": rng.randint(1, 10), "unit": rng.choice(units),
            "city": city, "tz": tz,
            "mode": rng.choice(("online", "in_person", "in_person", "either"))
            if realistic else "either",
            "levels": cur, "required": req, "supervisor_id": sup,
            "availability": _windows(rng, realistic), "preferences": prefs,
            "priority": rng.random() < 0.1,
        })
    previous = [{"mentee": e["id"], "mentor": rng.choice(mentors)["id"]}
                for e in rng.sample(mentees, n_mentees // 20)]
    return {"mentors": mentors, "mentees": mentees, "previous_pairs": previous}
