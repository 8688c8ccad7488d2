"""The app's contract with the solver: busy time and the public fit check."""

from solver_helpers import MON_9_12, inst, mentee, mentor

from solver import Instance, SolverConfig, Window, fit_check, solve, validate

# Monday 09:00-12:00 WIB = 02:00-05:00 UTC = minutes 120-300 of the week
BUSY_9_10_WIB = ((120, 180),)


def test_busy_time_removes_the_sessions_it_overlaps():
    # free Monday 09:00-12:00 WIB: blocks at 120, 180 and 240 UTC minutes; busy time leaves
    # one start; a busy mentor's blocks re-tile the time left (09:30 after a 09:15 end)
    split = ((100, 150), (250, 260))
    cases = [(((120, 240),), "mentor", 240), (((120, 240),), "mentee", 240),
             (((180, 300),), "mentor", 120), (((180, 300),), "mentee", 120),
             (split, "mentee", 180), (split, "mentor", 150)]
    for busy, who, left in cases:
        m = mentor(busy=busy) if who == "mentor" else mentor()
        e = mentee(busy=busy) if who == "mentee" else mentee()
        i = inst([m], [e])
        sol = solve(i)
        assert [p.slot.minute_of_week for p in sol.pairs] == [left], (busy, who)
        assert validate(i, sol) == []
    i = inst([mentor(busy=((100, 300),))], [mentee()])
    sol = solve(i)
    assert sol.pairs == [] and sol.unmatched[0].reason == "no_common_time"


def test_busy_time_round_trips_and_is_checked():
    d = inst([mentor(busy=BUSY_9_10_WIB)], [mentee()]).to_dict()
    assert d["mentors"][0]["busy"] == [[120, 180]]
    assert Instance.from_dict(d).mentors[0].busy == BUSY_9_10_WIB
    d["mentees"][0]["busy"] = [[300, 200]]
    try:
        Instance.from_dict(d)
    except ValueError as exc:
        assert "mentees[0].busy[0]: end 200 must be after start 300" in str(exc)
    else:
        raise AssertionError("a backwards interval must be refused")


def test_fit_check_uses_the_solvers_slot_model():
    one_block = (Window(0, 9 * 60, 10 * 60),)
    m = mentor(capacity=3, availability=(Window(0, 9 * 60, 11 * 60),))
    a, b = mentee("E1", availability=one_block), mentee("E2", availability=one_block)
    fit = fit_check(m, [a])
    assert fit.ok and fit.slots == {"E1": 120}
    # two mentees who are both free only 09:00-10:00 cannot share the mentor's block
    assert fit_check(m, [a, b]).code == "no_slot"
    # a booked session at 09:00 WIB takes the block; one at 10:00 leaves it free
    assert fit_check(m, [a], booked=[120]).code == "no_slot"
    assert fit_check(m, [a], booked=[180]).slots == {"E1": 120}
    # an off-grid booked session is busy time: 09:15 WIB overlaps the 09:00 block
    assert fit_check(m, [a], booked=[135]).code == "no_slot"
    assert fit_check(m, [a], booked=[None, None, None]).code == "capacity"
    off = SolverConfig(rules={"capacity": False})
    assert fit_check(m, [a], off, booked=[180, None, None]).ok is False  # no start left
    assert fit_check(mentor(), [mentee()], holidays=("2026-01-05",)).code == "no_slot"
    assert fit_check(mentor(availability=MON_9_12), [mentee()]).ok


def test_fit_check_and_the_solve_agree_on_a_booked_time_off_the_mentors_blocks():
    from solver import Link, keep_booked

    # free Monday 09:00-12:00 WIB; a live session at 09:30 WIB (minute 150) is on the grid but
    # not on one of the mentor's hour blocks: the solve cannot keep it there, so it is busy
    # time, and the blocks re-tile the rest (10:30). A mentee free only 11:00-12:00 fits
    # nowhere: the fit check says so, as the solve does (it once said "fits").
    m = mentor(capacity=3)
    late = mentee("E2", availability=(Window(0, 11 * 60, 12 * 60),))
    kb = keep_booked(m, [150])
    assert kb.kept == () and kb.blocked == (0,) and (150, 210) in kb.mentor.busy
    assert fit_check(m, [late], booked=[150]).code == "no_slot"
    sol = solve(inst([kb.mentor], [late]))
    assert sol.pairs == [] and sol.unmatched[0].reason == "no_common_time"
    # on a block the session is kept, fixed there, and the other mentee fits beside it
    kb = keep_booked(m, [120, 120, None])
    assert kb.kept == (0, 2) and kb.blocked == (1,)  # the second 09:00 clashes with the first
    early = mentee("E1")
    fit = fit_check(m, [late], booked=[120])
    assert fit.ok and fit.slots == {"E2": 240}
    i = inst([kb.mentor], [early, late], fixed=(Link("E1", "M1", slot=120),))
    sol = solve(i)
    assert {p.mentee: p.slot.minute_of_week for p in sol.pairs} == {"E1": 120, "E2": 240}
    # a booked time outside every window keeps its own hour open (the windows changed since)
    tue = 1440 + 120
    kb = keep_booked(m, [tue])
    assert kb.kept == (0,) and Window(1, 9 * 60, 10 * 60) in kb.mentor.availability
    assert keep_booked(kb.mentor, [tue]).mentor == kb.mentor  # applying it twice changes nothing


def test_fixed_pair_with_named_exemptions_is_kept_and_takes_capacity():
    from solver import Link

    # the pair breaks the grade rule and shares no free time: a coordinator set it by hand
    boss = mentor("M1", grade=5, capacity=2, availability=(Window(1, 9 * 60, 11 * 60),))
    e1, e2 = mentee("E1", grade=6), mentee("E2", grade=1, availability=boss.availability)
    plain = inst([boss], [e1, e2], fixed=(Link("E1", "M1"),))
    sol = solve(plain)
    (claim,) = sol.infeasible_locks
    assert claim["code"] == "rule" and claim["rules"] == ["grade", "common_slot"]
    assert validate(plain, sol) == []
    exempt = inst([boss], [e1, e2], fixed=(Link("E1", "M1", exempt=("grade", "common_slot")),))
    sol = solve(exempt)
    assert sol.infeasible_locks == [] and validate(exempt, sol) == []
    kept = {p.mentee: p for p in sol.pairs}
    assert kept["E1"].fixed and kept["E1"].mentor == "M1"
    # a Tuesday start of the mentor's, and the other mentee gets the other block
    assert kept["E1"].slot.weekday_utc == "Tue" and kept["E2"].mentor == "M1"
    assert kept["E1"].slot.minute_of_week != kept["E2"].slot.minute_of_week
    # a partial exemption still names what is left
    half = inst([boss], [e1], fixed=(Link("E1", "M1", exempt=("grade",)),))
    assert solve(half).infeasible_locks[0]["rules"] == ["common_slot"]
    with_json = Instance.from_dict(exempt.to_dict())
    assert with_json.fixed[0].exempt == ("common_slot", "grade")
    try:
        Link("E1", "M1", exempt=("capacity",))
    except ValueError as exc:
        assert "cannot exempt ['capacity']" in str(exc)
    else:
        raise AssertionError("capacity is not an exemptable pair rule")
