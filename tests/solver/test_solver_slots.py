from solver import SolverConfig, Window
from solver.slots import bits, local_time, slot_mask

CFG = SolverConfig()
FULL_WEEK = tuple(Window(d, 0, 24 * 60) for d in range(7))


def _local(tz, mask, cfg=CFG):
    return [
        (lt.weekday, lt.time, lt.tz)
        for lt in (local_time(tz, b * cfg.slot_step_minutes, cfg.reference_week)
                   for b in bits(mask))
    ]


def test_working_hours_limit_slots_mon_thu_and_friday():
    # mentors offer back-to-back blocks from 07:30 (Perpres 21/2023) and from 13:00
    got = _local("Asia/Jakarta", slot_mask("Asia/Jakarta", FULL_WEEK, CFG, blocks=True))
    mon = [t for d, t, _ in got if d == "Mon"]
    assert mon == ["07:30", "08:30", "09:30", "10:30", "13:00", "14:00", "15:00"]
    fri = [t for d, t, _ in got if d == "Fri"]
    assert fri == ["07:30", "08:30", "09:30", "10:30", "13:00", "14:00", "15:00"]
    assert not [x for x in got if x[0] in ("Sat", "Sun")]
    assert all(tz == "WIB" for _, _, tz in got)
    # mentees may start on any half hour of their free time
    mentee_mon = [t for d, t, _ in _local("Asia/Jakarta", slot_mask("Asia/Jakarta", FULL_WEEK,
                                                                    CFG)) if d == "Mon"]
    assert mentee_mon[:3] == ["07:30", "08:00", "08:30"] and mentee_mon[-1] == "15:00"


def test_mentor_blocks_follow_each_free_window():
    win = (Window(1, 8 * 60, 10 * 60), Window(1, 13 * 60 + 30, 15 * 60 + 30))
    got = _local("Asia/Jakarta", slot_mask("Asia/Jakarta", win, CFG, blocks=True))
    assert got == [("Tue", "08:00", "WIB"), ("Tue", "09:00", "WIB"), ("Tue", "13:30", "WIB"),
                   ("Tue", "14:30", "WIB")]


def test_wib_0730_and_wita_0830_are_the_same_instant():
    early = (Window(0, 7 * 60 + 30, 8 * 60 + 30),)
    wib = slot_mask("Asia/Jakarta", early, CFG, blocks=True)
    wita = slot_mask("Asia/Makassar", (Window(0, 8 * 60 + 30, 9 * 60 + 30),), CFG)
    assert bits(wib & wita) == [1]  # minute 30 of the UTC week
    assert _local("Asia/Makassar", wib & wita) == [("Mon", "08:30", "WITA")]


def test_friday_prayer_break_excluded():
    fri = (Window(4, 11 * 60, 14 * 60),)
    got = _local("Asia/Jakarta", slot_mask("Asia/Jakarta", fri, CFG))
    # 11:00-12:00 crosses 11:30 (Friday prayer break until 13:00); 13:00 is the first start
    assert got == [("Fri", "13:00", "WIB")]


def test_wib_and_wita_share_fewer_hours():
    wib = slot_mask("Asia/Jakarta", FULL_WEEK, CFG, blocks=True)
    wita = slot_mask("Asia/Makassar", FULL_WEEK, CFG)
    common = wib & wita
    assert 0 < len(bits(common)) < min(len(bits(wib)), len(bits(wita)))
    # 15:00 WIB is 16:00 WITA: after WITA working hours
    assert ("Mon", "15:00", "WIB") not in _local("Asia/Jakarta", common)
    assert ("Mon", "09:30", "WITA") in _local("Asia/Makassar", common)  # = 08:30 WIB


def test_dst_zone_depends_on_reference_week():
    mon9 = (Window(0, 9 * 60, 10 * 60),)
    summer = SolverConfig(reference_week="2026-01-07")
    winter = SolverConfig(reference_week="2026-07-08")
    a = bits(slot_mask("Australia/Sydney", mon9, summer))
    b = bits(slot_mask("Australia/Sydney", mon9, winter))
    assert len(a) == len(b) == 1 and a != b  # AEDT (UTC+11) vs AEST (UTC+10)
    assert _local("Australia/Sydney", 1 << a[0], summer) == [("Mon", "09:00", "AEDT")]
    assert _local("Australia/Sydney", 1 << b[0], winter) == [("Mon", "09:00", "AEST")]


def test_holiday_removes_the_day():
    mon = (Window(0, 9 * 60, 12 * 60),)
    assert bits(slot_mask("Asia/Jakarta", mon, CFG))
    assert not bits(slot_mask("Asia/Jakarta", mon, CFG, ("2026-01-05",)))
