"""Golongan/ruang (PNS I/a .. IV/e) and PPPK grades (I .. XVII), as ranks 1..17."""

from __future__ import annotations

import re
from dataclasses import dataclass

_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4}
# Steps per golongan: I/a-d, II/a-d, III/a-d, IV/a-e.
_PNS_LETTERS = {1: "abcd", 2: "abcd", 3: "abcd", 4: "abcde"}
PNS_GRADES: list[str] = [
    f"{g}/{r}" for g in ("I", "II", "III", "IV") for r in _PNS_LETTERS[_ROMAN[g]]
]
_PPPK_ROMANS = [
    "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X",
    "XI", "XII", "XIII", "XIV", "XV", "XVI", "XVII",
]
_PNS_RE = re.compile(r"^(IV|III|II|I|[1-4])\s*[/\-\s.]?\s*([A-Ea-e])$")

JOB_LEVELS = [
    "Pelaksana", "Pengawas", "Administrator", "JPT Pratama", "JPT Madya", "JPT Utama",
    "Pemula", "Terampil", "Mahir", "Penyelia",
    "Ahli Pertama", "Ahli Muda", "Ahli Madya", "Ahli Utama",
]


@dataclass(frozen=True)
class Grade:
    rank: int  # 1..17, ordered
    label: str  # canonical: "III/a" or "IX"
    scheme: str  # "pns" | "pppk"


class GradeError(ValueError):
    pass


def parse_grade(raw: object) -> Grade:
    text = str(raw or "").strip().upper().replace("GOL.", "").replace("GOL", "").strip()
    pppk = text.startswith("PPPK")
    if pppk:  # "PPPK IX", "PPPK-IX", "PPPK 9": the scheme written out in front
        text = text[4:].lstrip(" -/.:")
    match = None if pppk else _PNS_RE.match(text)
    if match:
        gol = match.group(1)
        number = int(gol) if gol.isdigit() else _ROMAN[gol]
        letter = match.group(2).lower()
        if letter not in _PNS_LETTERS[number]:
            raise GradeError(str(raw))
        label = f"{['I', 'II', 'III', 'IV'][number - 1]}/{letter}"
        return Grade(PNS_GRADES.index(label) + 1, label, "pns")
    if text in _PPPK_ROMANS:
        return Grade(_PPPK_ROMANS.index(text) + 1, text, "pppk")
    if text.isdigit() and 1 <= int(text) <= 17:  # PPPK grade written in Arabic numerals
        return Grade(int(text), _PPPK_ROMANS[int(text) - 1], "pppk")
    raise GradeError(str(raw))


def grade_label(rank: int, scheme: str = "pns") -> str:
    return PNS_GRADES[rank - 1] if scheme == "pns" else _PPPK_ROMANS[rank - 1]
