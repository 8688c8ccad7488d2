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
    mask = slot_mask("Asia/Jakarta", FULL_WEEK, CFG)
    got = _local("Asia/Jakarta", mask)
    mon = [t for d, t, _ in got if d == "Mon"]
    assert mon == ["08:00", "09:00", "10:00", "11:00", "13:00", "14:00", "15:00"]
    assert not [x for x in got if x[0] in ("Sat", "Sun")]
    assert all(tz == "WIB" for _, _, tz in got)


def test_friday_prayer_break_excluded():
    fri = (Window(4, 11 * 60, 14 * 60),)
    got = _local("Asia/Jakarta", slot_mask("Asia/Jakarta", fri, CFG))
    assert got == [("Fri", "13:00", "WIB")]  # 11:00-12:00 crosses 11:30, 12:00 is the break


def test_wib_and_wita_share_fewer_hours():
    wib = slot_mask("Asia/Jakarta", FULL_WEEK, CFG)
    wita = slot_mask("Asia/Makassar", FULL_WEEK, CFG)
    common = wib & wita
    assert 0 < len(bits(common)) < min(len(bits(wib)), len(bits(wita)))
    # 15:00 WIB is 16:00 WITA: after WITA working hours
    assert ("Mon", "15:00", "WIB") not in _local("Asia/Jakarta", common)
    assert ("Mon", "09:00", "WITA") in _local("Asia/Makassar", common)


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
