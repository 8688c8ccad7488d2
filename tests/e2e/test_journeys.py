"""Day one in the browser, one journey per role, on one live app (each journey seeds its own
people). Every control used must be visible, enabled and readable (contrast >= 4.5:1), and
every page visited passes axe-core at desktop width and at 390 px (tests/e2e/journey.py).

- admin: invites a coordinator, who activates through the e-mailed link and logs in; sees who
  never activated, resends, deactivates; invites a whole programme in one step.
- coordinator: imports staff, creates a programme, adds participants, solves, locks, forbids,
  sets a pair by hand, re-solves, approves after the confirmation dialog.
- mentor: activates, accepts one invitation by the e-mailed link, one by uploading a REPLY,
  declines a third after the dialog (the mentee is told they will be matched again).
- mentee: activates, sets a goal, logs a session; after the mentor confirms, sees the JP.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from mentormatch.extensions import db
from mentormatch.models import (
    ApiClient,
    Pair,
    Participant,
    Programme,
    ProgrammeCoordinator,
    Session,
    SessionSeries,
    User,
    utcnow,
)
from mentormatch.services import programmes, rounds
from tests import factories as f
from tests.e2e.journey import DESKTOP, PHONE, Journey, link_in, mail_to, mails_to

pytestmark = pytest.mark.browser

PASSWORD = "kata-sandi-baru-123"


@pytest.fixture
def journey(module_app, browser, request):
    made: list[Journey] = []

    def start(name: str) -> Journey:
        j = Journey(browser, module_app.config["LIVE_URL"], name)
        made.append(j)
        return j

    yield start
    for j in made:
        j.close()


def _activate(j: Journey, app, email: str) -> None:
    """Open the activation link from the e-mail, choose a password, log in."""
    j.open(link_in(mail_to(app, email, "account"), "/activate/"))
    j.seen("activate")
    assert "Paling sedikit 10 karakter." in j.page.inner_text("main")  # said before, not after
    assert j.page.evaluate("fetch(document.querySelector('link[rel=icon]').href)"
                           ".then(r => r.status)") == 200
    j.fill("input[name=password]", PASSWORD)
    j.fill("input[name=confirm]", PASSWORD)
    j.click("button[type=submit]:has-text('Simpan kata sandi')")
    j.page.wait_for_selector("input[name=email]")
    j.fill("input[name=email]", email)
    j.fill("input[name=password]", PASSWORD)
    j.click("#login")
    j.page.wait_for_url(f"{j.base}/")


def _user(app, email: str) -> User | None:
    with app.app_context():
        u = db.session.scalar(select(User).where(User.email == email))
        db.session.expunge_all()
        db.session.remove()
        return u


# --------------------------------------------------------------------------- admin


def test_admin_first_day(module_app, journey):
    app = module_app
    with app.app_context():
        admin = f.user(("admin",), email="admin.jalan@example.go.id")
        prog = Programme(name="Program Undangan", start_date=utcnow().date(),
                         end_date=utcnow().date() + timedelta(days=200))
        db.session.add(prog)
        people = [f.person(f"Peserta {i}", nip=f"19900{i}012015011{i:03d}") for i in range(1, 4)]
        people[2].email = ""  # imported without an address
        db.session.flush()
        for p, role in zip(people, ("mentor", "mentee", "mentee"), strict=True):
            db.session.add(Participant(programme_id=prog.id, person_id=p.id, role=role))
        db.session.commit()
        admin_email, invitees = admin.email, [people[0].email, people[1].email]
        prog_id = prog.id
        db.session.remove()

    j = journey("admin")
    j.login(admin_email, f.PASSWORD)
    j.seen("home")
    j.click("#nav-users")
    j.page.wait_for_selector("#users")
    j.seen("users")

    # invite a coordinator: the role boxes are there and the invitation goes out
    j.click("#invite summary")
    j.fill("#invite input[name=email]", "koordinator.baru@example.go.id")
    j.check("#invite input[name=roles][value=coordinator]")
    j.click("#invite-submit")
    j.page.wait_for_selector(".flash.success")
    assert "koordinator.baru@example.go.id" in j.page.inner_text(".flash.success")
    assert _user(app, "koordinator.baru@example.go.id").roles == {"coordinator"}

    # who never activated: filter, then resend the link
    j.select("select[name=state]", "pending")
    j.click("form.filters button[type=submit]")
    row = j.page.locator("tr[data-user='koordinator.baru@example.go.id']")
    row.wait_for()
    assert j.page.locator(f"tr[data-user='{admin_email}']").count() == 0
    j.seen("users-pending")
    j.click(row.locator("button[value=resend]"))
    j.page.wait_for_selector(".flash.success")

    # invite everyone in a programme in one step
    j.click("#invite-programme summary")
    j.select("#invite-programme-select", str(prog_id))
    j.click("#invite-programme-submit")
    j.page.wait_for_selector("#invited-count")
    j.seen("invite-programme")
    assert "E-mail aktivasi terkirim: 2." in j.page.inner_text("#invited-count")
    assert "Peserta 3" in j.page.inner_text("#no-email")
    for email in invitees:
        assert "/activate/" in link_in(mail_to(app, email, "account"), "/activate/")

    # an HR system gets its API token: shown once, then revoked
    j.click("#nav-api-clients")
    j.page.wait_for_selector("#create")
    j.fill("#create input[name=name]", "SIMPEG Kota")
    j.check(j.page.locator("#create input[name=scopes]").first)
    j.click("#create-submit")
    token = j.page.locator("#token-value")
    token.wait_for()
    j.seen("api-client-token")
    assert len(token.inner_text().strip()) >= 32
    row = j.page.locator("tr[data-client='SIMPEG Kota']")
    assert "Aktif" in row.inner_text()
    j.click(row.locator("button.danger"))
    j.page.wait_for_selector(".flash.success")
    assert "Dicabut" in j.page.locator("tr[data-client='SIMPEG Kota']").inner_text()
    assert j.page.locator("#token-value").count() == 0  # never shown again
    with app.app_context():
        client = db.session.scalar(select(ApiClient).where(ApiClient.name == "SIMPEG Kota"))
        assert client is not None and client.revoked_at is not None
        db.session.remove()
    j.logout()

    # the coordinator activates through the e-mailed link and logs in
    c = journey("new-coordinator")
    _activate(c, app, "koordinator.baru@example.go.id")
    c.seen("coordinator-home")
    assert c.page.locator("#nav-programmes").is_visible()

    # the admin deactivates the account again (roles kept)
    j.login(admin_email, f.PASSWORD)
    j.click("#nav-users")
    j.fill("input[type=search][name=q]", "koordinator.baru")
    j.click("form.filters button[type=submit]")
    row = j.page.locator("tr[data-user='koordinator.baru@example.go.id']")
    j.check(row.locator("input[name=active]"), on=False)
    j.click(row.locator("button[value=save]"))
    j.page.wait_for_selector(".flash.success")
    u = _user(app, "koordinator.baru@example.go.id")
    assert u.active is False and u.roles == {"coordinator"}
    j.assert_accessible()
    c.assert_accessible()


# --------------------------------------------------------------------------- coordinator


def _staff_csv() -> bytes:
    head = ["NIP", "Nama", "Email", "Jenis", "Golongan", "Jabatan", "Unit Kerja",
            "Lokasi Kerja", "NIP Atasan", "Ketersediaan", "Cuti", "KOM", "KOM Target"]
    rows = []
    for i in range(1, 4):
        rows.append([f"19750{i}012000011{i:03d}", f"Mentor Jalan {i}",
                     f"mentor.jalan{i}@example.go.id",
                     "PNS", "IV/a", "Kepala Bidang", "Kecamatan Jalan", "Padang (Pauh)", "",
                     "Sel 09:00-12:00", "", "4", ""])
    for i in range(1, 5):
        rows.append([f"19960{i}012021012{i:03d}", f"Mentee Jalan {i}",
                     f"mentee.jalan{i}@example.go.id",
                     "PNS", "III/a", "Analis", "Kecamatan Jalan", "Padang (Pauh)", "",
                     "Sel 09:00-12:00", "", "1", "3"])
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow(head)
    w.writerows(rows)
    return buf.getvalue().encode()


def _wait_solved(j: Journey) -> None:
    j.page.wait_for_selector("#round-status[data-status=solved]", timeout=60_000)


def test_coordinator_first_day(module_app, journey, module_solver):
    app = module_app
    with app.app_context():
        coord = f.user(("coordinator",), email="koord.jalan@example.go.id")
        db.session.commit()
        email = coord.email
        db.session.remove()
    j = journey("coordinator")
    j.login(email, f.PASSWORD)
    j.seen("home")

    # import staff
    j.click("nav >> text=Impor pegawai")
    j.seen("import")
    j.upload("input[type=file][name=file]", "pegawai.csv", _staff_csv(), "text/csv")
    j.click("#preview")
    j.page.wait_for_selector("#confirm")
    j.seen("import-preview")
    j.click("#confirm")
    j.page.wait_for_load_state()
    j.seen("import-done")

    # a programme
    j.click("#nav-programmes")
    j.seen("programmes")
    j.click("#new-programme")
    j.seen("programme-new")
    today = utcnow().date()
    j.fill("input[name=name]", "Mentoring Kecamatan Jalan")
    j.fill("input[name=start_date]", today.isoformat())
    j.fill("input[name=end_date]", (today + timedelta(days=300)).isoformat())
    j.click("#save-programme")
    j.page.wait_for_selector("#programme-name")

    # participants by filter (the imported unit), counted before adding
    form = "#participant-filter"
    unit = j.page.locator(f"{form} select[name=unit_id] option", has_text="Kecamatan Jalan")
    unit_id = unit.get_attribute("value")
    j.select(f"{form} select[name=role]", "mentee")
    j.select(f"{form} select[name=unit_id]", unit_id)
    j.select(f"{form} select[name=grade_max]", "9")
    j.click("#preview")
    j.page.wait_for_selector("#preview-count")
    assert j.page.inner_text("#preview-count").startswith("4 ")
    j.click("#add")
    j.page.wait_for_selector("#n-mentees:text('4')")
    j.select(f"{form} select[name=role]", "mentor")
    j.select(f"{form} select[name=unit_id]", unit_id)
    j.select(f"{form} select[name=grade_max]", "")
    j.select(f"{form} select[name=grade_min]", "13")
    j.click("#preview")
    j.page.wait_for_selector("#preview-count")
    j.click("#add")
    j.page.wait_for_selector("#n-mentors:text('3')")
    j.seen("programme")

    # a round, solved in the background
    j.fill("#new-round input[name=name]", "Putaran Jalan")
    j.click("#create-round")
    j.page.wait_for_selector("#counts")
    j.seen("round-draft")
    j.click("summary:has-text('Kriteria')")  # a named preset instead of raw weights
    j.click("#presets button[data-preset=competency]")
    j.page.wait_for_selector("#counts")
    j.click("summary:has-text('Kriteria')")
    assert j.page.input_value("#criteria input[name=w_gap_coverage]") == "20"  # not "20.0"
    j.seen("round-criteria")
    # one field a line: each weight's box starts below the previous one, not beside its help
    tops = j.page.eval_on_selector_all("#criteria input[type=number]",
                                       "els => els.map(e => e.getBoundingClientRect().top)")
    assert all(b > a + 10 for a, b in zip(tops, tops[1:], strict=False)), tops
    j.click("#solve")
    _wait_solved(j)
    j.seen("round-solved")
    rows = j.page.locator("#proposals tbody tr")
    assert rows.count() == 4
    summary = j.page.inner_text("#stats")  # in the coordinator's words, not "objective/bound"
    assert "Semua mentee mendapat mentor" in summary and "kualitas kecocokan" in summary
    assert re.search(r"dihitung dalam \d+(,\d+)? detik", summary), summary  # 0,05, not 0.05
    assert j.page.locator("#proposals a:has-text('Mengapa pasangan ini')").count() == 4
    # on a phone each proposal is a card with its columns named; nothing scrolls sideways
    j.page.set_viewport_size(PHONE)
    wrap = "document.querySelector('#proposals').closest('.table-wrap')"
    assert j.page.evaluate(f"{wrap}.scrollWidth <= {wrap}.clientWidth + 1")
    cells = j.page.evaluate("""[...document.querySelectorAll('#proposals tbody tr:first-child td')]
        .map(td => [getComputedStyle(td).display, td.dataset.label || '',
                    getComputedStyle(td, '::before').content])""")
    assert {d for d, _l, _c in cells} == {"block", "flex"}  # stacked, the actions in a row
    assert [lab for _d, lab, _c in cells][:4] == ["Mentee", "Mentor", "Skor", "Jadwal mingguan"]
    assert all("attr(data-label)" in c or lab in c for _d, lab, c in cells if lab)
    j.page.set_viewport_size(DESKTOP)

    # lock one, forbid another (stale), set one by hand, re-solve
    first = rows.nth(0)
    locked = (first.get_attribute("data-mentee"), first.get_attribute("data-mentor"))
    j.click(first.locator("button.lock"))
    j.page.wait_for_selector("#constraints li[data-kind=lock]")
    second = j.page.locator(f"#proposals tbody tr:not([data-mentee='{locked[0]}'])").first
    forbidden = (second.get_attribute("data-mentee"), second.get_attribute("data-mentor"))
    j.click(second.locator("button.forbid"))
    j.page.wait_for_selector("#constraints li[data-kind=forbid]")
    assert j.page.is_visible("#stale")
    j.click("summary:has-text('Tetapkan pasangan secara manual')")
    third = j.page.locator(
        f"#proposals tbody tr:not([data-mentee='{locked[0]}']):not([data-mentee='{forbidden[0]}'])"
    ).first
    hand = (third.get_attribute("data-mentee"), third.get_attribute("data-mentor"))
    j.select("#by-hand select[name=mentee_id]", hand[0])
    j.select("#by-hand select[name=mentor_id]", hand[1])
    j.click("#by-hand button[type=submit]")
    j.page.wait_for_selector("#constraints li[data-kind=lock] >> nth=1")
    j.seen("round-adjusted")
    j.click("#solve")
    _wait_solved(j)
    assert j.page.locator(
        f"#proposals tr[data-mentee='{forbidden[0]}'][data-mentor='{forbidden[1]}']").count() == 0

    # approve: the dialog says how many pairs and e-mails; cancel first, then confirm
    j.click("#approve")
    j.page.locator("#confirm-dialog").wait_for(state="visible")
    j.click("#confirm-no")
    j.page.locator("#confirm-dialog").wait_for(state="hidden")
    assert j.page.get_attribute("#round-status", "data-status") == "solved"
    j.click("#approve")
    text = j.confirm(expect=("4 pasangan", "mentor dan 4 mentee", "8 e-mail"))
    assert "tidak dapat diubah" in text
    j.page.wait_for_selector("#approved")
    j.seen("round-approved")
    with app.app_context():
        pairs = db.session.scalars(select(Pair).join(Programme).where(
            Programme.name == "Mentoring Kecamatan Jalan")).all()
        assert len(pairs) == 4
        assert (int(forbidden[0]), int(forbidden[1])) not in {(p.mentee_id, p.mentor_id)
                                                                for p in pairs}
        db.session.remove()

    # the pairs view: the four invitations wait for the mentors, with the next step at hand
    j.click("a:has-text('Mentoring Kecamatan Jalan')")
    j.click("#pairs-link")
    j.click("#pair-status-filter a[data-status=invited]")
    j.page.wait_for_selector("#pairs tbody tr[data-status=invited]")
    assert j.page.locator("#pairs tbody tr").count() == 4
    assert j.page.is_visible("#remind-link")
    j.seen("pairs")
    j.click("main a:has-text('Mentoring Kecamatan Jalan')")

    # the dashboard of the programme
    j.click("#report-link")
    j.page.wait_for_selector("main h1")
    j.seen("dashboard")
    j.assert_accessible()


def test_coordinator_round_page_says_what_is_true(module_app, journey, module_solver):
    """A programme that ends in five weeks, one mentor with one place, three mentees: the
    approval question says the pair gets fewer sessions before approving; the approved round
    keeps its own counts after a follow-up round; the follow-up pairs nobody, claims no match
    quality and offers no approval."""
    app = module_app
    tue = ((1, 9 * 60, 12 * 60),)
    with app.app_context():
        coord = f.user(("coordinator",), email="koord.singkat@example.go.id")
        today = utcnow().date()
        prog = programmes.create(coord, name="Mentoring Singkat", start_date=today,
                                 end_date=today + timedelta(days=36), session_count=6,
                                 interval_weeks=2, default_capacity=1)
        mentor = f.person("Mentor Singkat", grade=13, levels={"KOM": 4},
                          unit_name="Dinas Singkat", windows=tue)
        mentees = [f.person(f"Mentee Singkat {i}", grade=8, levels={"KOM": 1},
                            required={"KOM": 3}, unit_name="Dinas Singkat", windows=tue)
                   for i in range(3)]
        db.session.add(Participant(programme_id=prog.id, person_id=mentor.id, role="mentor"))
        for m in mentees:
            db.session.add(Participant(programme_id=prog.id, person_id=m.id, role="mentee"))
        first = rounds.create(prog, coord, name="Putaran Singkat")
        db.session.commit()
        email, pid, rid = coord.email, prog.id, first.id
        db.session.remove()
    j = journey("coordinator-short")
    j.login(email, f.PASSWORD)
    j.open(f"/programmes/{pid}/rounds/{rid}")
    j.click("#solve")
    _wait_solved(j)
    summary = j.page.inner_text("#stats")
    assert "1 dari 3 mentee mendapat mentor" in summary, summary
    assert "kualitas kecocokan pasangan yang terbentuk:" in summary, summary
    j.seen("round-short-solved")
    j.click("#approve")
    text = j.confirm(expect=("Setujui dan terbitkan 1 pasangan?", "(6 sesi; 1 pasangan mendapat "
                             "lebih sedikit (", ") karena program berakhir lebih dulu)"))
    promised = re.search(r"lebih sedikit \((\d+)\)", text)
    assert promised, text
    j.page.wait_for_selector("#approved")
    j.seen("round-short-approved")
    with app.app_context():
        pair = db.session.scalars(select(Pair).where(Pair.programme_id == pid)).one()
        series = db.session.scalars(select(SessionSeries).where(
            SessionSeries.pair_id == pair.id)).one()
        assert db.session.query(Session).filter(Session.series_id == series.id).count() \
            == int(promised.group(1))  # the question told the truth
        follow = rounds.create(db.session.get(Programme, pid), db.session.get(User, coord.id),
                               name="Putaran Susulan", kind="rematch")
        db.session.commit()
        fid = follow.id
        db.session.remove()
    j.open(f"/programmes/{pid}/rounds/{fid}")
    j.click("#solve")
    _wait_solved(j)
    summary = j.page.inner_text("#stats")
    assert "0 dari 2 mentee mendapat mentor" in summary and "kualitas" not in summary, summary
    assert j.page.is_disabled("#approve")
    assert "Tidak ada yang dapat disetujui" in j.page.inner_text("#approve-none")
    assert j.page.locator("#approve-form").count() == 0
    j.seen("round-nothing-to-approve")
    j.open(f"/programmes/{pid}/rounds/{rid}")  # the approved round: its own participants
    assert j.page.inner_text("#c-mentees") == "3"
    assert j.page.locator("#c-kept").count() == 0
    assert "Saat dihitung" in j.page.inner_text("#counts")
    j.seen("round-short-approved-later")
    j.assert_accessible()


# --------------------------------------------------------------------------- mentor


def _seed_pairs(app, mentor_name: str, mentee_names: list[str], *, status: str = "invited",
                first: datetime | None = None, mentor_account: bool = False):
    """A programme with its coordinator, a mentor and mentees, pairs with sent invitations.
    The mentor and mentees get accounts waiting for activation (invited by the admin)."""
    from mentormatch.services import accounts, invites

    with app.app_context(), app.test_request_context(base_url=app.config["LIVE_URL"]):
        coord = f.user(("coordinator",))
        admin = f.user(("admin",))
        prog = Programme(name=f"Program {mentor_name}", start_date=utcnow().date(),
                         end_date=utcnow().date() + timedelta(days=300), session_count=3,
                         interval_weeks=2)
        db.session.add(prog)
        db.session.flush()
        db.session.add(ProgrammeCoordinator(programme_id=prog.id, user_id=coord.id))
        mentor = f.person(mentor_name, grade=13)
        mentees = [f.person(n, grade=8, levels={"KOM": 1}, required={"KOM": 3})
                   for n in mentee_names]
        db.session.add(Participant(programme_id=prog.id, person_id=mentor.id, role="mentor"))
        for m in mentees:
            db.session.add(Participant(programme_id=prog.id, person_id=m.id, role="mentee"))
        first = first or (utcnow() + timedelta(days=7)).replace(hour=2, minute=0, second=0,
                                                                microsecond=0)
        series_ids = []
        for m in mentees:
            pair = Pair(programme=prog, mentor_id=mentor.id, mentee_id=m.id, status=status,
                        focus=["KOM"])
            db.session.add(pair)
            db.session.flush()
            series = f.series(pair, first, is_holiday=lambda d: False)
            invites.send_invites(series)
            series_ids.append(series.id)
        if mentor_account:
            accounts.invite_user(admin, mentor.email, ["mentor"], mentor.nip)
        for m in mentees:
            accounts.invite_user(admin, m.email, ["mentee"], m.nip)
        db.session.commit()
        out = (mentor.email, [m.email for m in mentees], series_ids)
        db.session.remove()
    return out


def _reply_ics(app, series_id: int, email: str, partstat: str) -> bytes:
    from mentormatch.calendar import build_reply
    from mentormatch.services import invites

    with app.app_context():
        series = db.session.get(SessionSeries, series_id)
        data = build_reply(invites.series_spec(series), email, partstat)
        db.session.remove()
    return data


def test_mentor_first_day(module_app, journey):
    app = module_app
    mentor_email, mentee_emails, series_ids = _seed_pairs(
        app, "Mentor Hari Pertama", ["Mentee Satu", "Mentee Dua", "Mentee Tiga"],
        mentor_account=True)
    j = journey("mentor")
    _activate(j, app, mentor_email)
    j.seen("home")

    # sets their weekly availability and how many mentees they can take
    j.click("nav >> text=Profil saya")
    j.click("#edit-profile")
    j.page.wait_for_selector("#profile-form")
    j.seen("profile-edit")
    j.fill("#availability-input", "Sel 09:00-12:00; Kam 13:00-15:00")
    j.fill("input[name=capacity]", "2")
    j.click("#save-profile")
    j.page.wait_for_selector("#availability")
    assert "Profil Anda telah disimpan" in j.page.inner_text(".flash")
    j.seen("profile")

    # accept the first invitation with the link in its e-mail
    with app.app_context():
        invs = db.session.scalars(select(SessionSeries).where(
            SessionSeries.id.in_(series_ids)).order_by(SessionSeries.id)).all()
        names = [s.pair.mentee.name for s in invs]
        first_uid = invs[0].uid
        db.session.remove()

    def calendar_of(msg) -> str:
        return next(p.get_content() for p in msg.walk()
                    if p.get_content_type() == "text/calendar")

    first_mail = next(m for m in mails_to(app, mentor_email, "itip_request")
                      if first_uid in calendar_of(m).replace("\r\n ", ""))
    j.open(link_in(first_mail, "/rsvp/"))
    j.seen("rsvp-confirm")
    j.click("#confirm")
    j.page.wait_for_selector("#answer-summary")
    assert names[0] in j.page.inner_text("#answer-summary")
    assert "Semua sesi: Diterima" in j.page.inner_text("#answer-lines")
    j.seen("rsvp-done")

    # the second by uploading the REPLY file their calendar wrote
    j.open("/")
    j.click("#nav-calendar")
    j.seen("calendar")
    j.click("a:has-text('Unggah berkas balasan kalender')")
    j.seen("reply-upload")
    j.upload("input[type=file][name=file]", "balasan.ics",
             _reply_ics(app, series_ids[1], mentor_email, "ACCEPTED"), "text/calendar")
    j.click("#upload")
    j.page.wait_for_selector("#outcome")
    assert names[1] in j.page.inner_text("#answer-summary")  # which series, what changed
    assert "Diterima" in j.page.inner_text("#answer-lines")
    j.seen("reply-applied")

    # the third is declined in the app, after the dialog
    j.click("#nav-mentor")
    j.page.wait_for_selector("#invites")
    j.seen("mentor-home")
    j.click("#invites button[value=DECLINED]")
    text = j.confirm(expect=(names[2], "mentor lain"))
    assert "dibatalkan" in text
    j.page.wait_for_load_state()
    with app.app_context():
        status = {s.pair.mentee.name: s.pair.status for s in db.session.scalars(
            select(SessionSeries).where(SessionSeries.id.in_(series_ids)))}
        db.session.remove()
    assert status == {names[0]: "active", names[1]: "active", names[2]: "declined"}
    told = mail_to(app, mentee_emails[2], "mentor_declined_mentee")
    assert "mencocokkan Anda dengan mentor lain" in " ".join(
        told.get_body(("plain",)).get_content().split())

    # the declined mentee sees it in words, not just "declined"
    m = journey("declined-mentee")
    _activate(m, app, mentee_emails[2])
    m.click("#nav-mentee")
    m.page.wait_for_selector(".declined-note")
    m.seen("mentee-declined")
    j.assert_accessible()
    m.assert_accessible()


# --------------------------------------------------------------------------- mentee


def test_mentee_first_day(module_app, journey):
    app = module_app
    mentor_email, (mentee_email,), (series_id,) = _seed_pairs(
        app, "Mentor Logbook", ["Mentee Logbook"], status="active", mentor_account=False)
    with app.app_context():  # the first session was held two days ago
        series = db.session.get(SessionSeries, series_id)
        start = (utcnow() - timedelta(days=2)).replace(microsecond=0)
        s = db.session.scalars(select(Session).where(Session.series_id == series_id)
                               .order_by(Session.start_at)).first()
        s.start_at, s.end_at = start, start + timedelta(hours=1)
        mentor_person = series.pair.mentor
        f.user(("mentor",), person_row=mentor_person)
        pair_id = series.pair_id
        db.session.commit()
        db.session.remove()

    j = journey("mentee")
    _activate(j, app, mentee_email)
    j.click("#nav-mentee")
    j.page.wait_for_selector("#jp-total")
    j.seen("mentee-home")
    assert j.page.inner_text("#jp-total") == "0"

    # a goal on the pair page
    j.click(f"li[data-pair='{pair_id}'] a:has-text('Rencana, sasaran, dan umpan balik')")
    j.page.wait_for_selector("#goal-form", state="attached")
    j.seen("pair")
    j.click("summary:has-text('Tambah sasaran')")
    j.fill("#goal-form input[name=target_level]", "3")
    j.fill("#goal-form textarea[name=description]", "Presentasi di depan pimpinan")
    j.click("#goal-form button")
    j.page.wait_for_selector("text=Presentasi di depan pimpinan")

    # ending the pair asks first; cancelling keeps it
    j.click("#end-pair summary")
    j.fill("#end-pair textarea[name=reason]", "Uji pembatalan")
    j.click("#end-pair-submit")
    j.page.locator("#confirm-dialog").wait_for(state="visible")
    assert "Mentor Logbook" in j.page.inner_text("#confirm-dialog")
    j.click("#confirm-no")
    j.page.locator("#confirm-dialog").wait_for(state="hidden")

    # log the session
    j.click("#nav-mentee")
    j.click(f"#log-session-{pair_id}")
    j.page.wait_for_selector("#log-form")
    j.seen("log-form")
    # each tick box sits beside its words (a one-line label), not centred above them
    heights = j.page.eval_on_selector_all(
        "form label:has(> input[type=checkbox])", "els => els.map(e => e.offsetHeight)")
    assert heights and max(heights) < 40, heights
    j.fill("input[name=duration_minutes]", "90")
    j.fill("textarea[name=topics]", "Menyusun bahan presentasi")
    j.check("input[name=competency] >> nth=0")
    j.click("#save-log")
    j.page.wait_for_selector("#log-facts")
    j.seen("log")

    # the mentor confirms
    m = journey("mentor-confirms")
    m.login(mentor_email, f.PASSWORD)
    m.click("#nav-mentor")
    m.click("#pending-logs a >> nth=0")
    m.click("#confirm-log")
    m.page.wait_for_selector("#credited")
    m.seen("log-confirmed")

    # the mentee sees the JP
    j.click("#nav-mentee")
    j.page.wait_for_selector("#jp-total")
    assert j.page.inner_text("#jp-total") == "2"
    j.seen("mentee-home-jp")
    with app.app_context():
        assert db.session.get(Pair, pair_id).status == "active"
        db.session.remove()
    j.assert_accessible()
    m.assert_accessible()

