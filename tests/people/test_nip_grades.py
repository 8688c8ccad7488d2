from datetime import date

import pytest

from mentormatch.services.grades import GradeError, parse_grade
from mentormatch.services.nip import NipError, parse_nip


def test_pns_nip_fields():
    nip = parse_nip("19850312 201001 1 003")
    assert nip.kind == "pns"
    assert nip.birth_date == date(1985, 3, 12)
    assert (nip.appointment_year, nip.appointment_month) == (2010, 1)
    assert nip.gender == "L" and nip.sequence == 3


def test_pppk_nip_told_apart():
    nip = parse_nip("199001012022212001")
    assert nip.kind == "pppk" and nip.appointment_month is None and nip.gender == "P"


def test_excel_integer_nip():
    assert parse_nip(198503122010011003).value == "198503122010011003"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("1985031220100110", "nip_format"),
        ("19850230201001 1003", "nip_birth_date"),
        ("198503122010131003", "nip_appointment_month"),
        ("198503122010003003", "nip_appointment_month"),
        ("198503121980011003", "nip_appointment_before_birth"),
        ("198503122010013003", "nip_gender"),
        ("198503122010011000", "nip_sequence"),
    ],
)
def test_bad_nips(raw, code):
    with pytest.raises(NipError) as err:
        parse_nip(raw)
    assert err.value.code == code


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("199001012004011001", "nip_too_young"),  # TMT at 14
        ("199006012008051001", "nip_too_young"),  # 17 years 11 months
        ("180001012010011001", "nip_birth_year"),  # born in 1800
        ("190001012010011001", "nip_birth_year"),  # born in 1900
        ("199001012015211001", "nip_pppk_year"),  # PPPK before PPPK existed
        ("199001012027011001", "nip_appointment_future"),  # TMT next year
        ("199001012027211001", "nip_appointment_future"),  # PPPK appointed next year
    ],
)
def test_implausible_nips(raw, code):
    with pytest.raises(NipError) as err:
        parse_nip(raw, today=date(2026, 12, 6))
    assert err.value.code == code


def test_plausible_edges():
    today = date(2026, 12, 6)
    assert parse_nip("199006012008061001", today=today).kind == "pns"  # exactly 18
    assert parse_nip("199001012019211001", today=today).kind == "pppk"  # first PPPK year
    assert parse_nip("199001012026121001", today=date(2026, 12, 31)).kind == "pns"


@pytest.mark.parametrize(
    ("raw", "rank", "label"),
    [("III/a", 9, "III/a"), ("III-a", 9, "III/a"), ("3a", 9, "III/a"), ("IV/e", 17, "IV/e"),
     ("I/a", 1, "I/a"), ("IX", 9, "IX"), ("XVII", 17, "XVII"), ("ii/c", 7, "II/c"),
     ("PPPK IX", 9, "IX"), ("pppk-ix", 9, "IX"), ("PPPK 9", 9, "IX"), ("Gol. III/b", 10, "III/b")],
)
def test_grades(raw, rank, label):
    grade = parse_grade(raw)
    assert (grade.rank, grade.label) == (rank, label)


@pytest.mark.parametrize("raw", ["V/a", "IV/f", "I/e", "XVIII", "", "3", "PPPK III/a", "PPPK"])
def test_bad_grades(raw):
    if raw == "3":  # a bare Arabic number is read as a PPPK grade
        assert parse_grade(raw).label == "III"
        return
    with pytest.raises(GradeError):
        parse_grade(raw)
