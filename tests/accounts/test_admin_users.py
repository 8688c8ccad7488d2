"""Account administration over HTTP: only admins; invite mails an activation link; roles and
the active flag change; an admin cannot lock themselves out; a locked account is unlocked."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from mentormatch.models import AuditLog, OutboxMessage, User, utcnow
from tests import factories as f
from tests.helpers import csrf_from, csrf_in


def _admin(client, db):
    admin = f.user(["admin"], email="admin@example.go.id")
    db.session.commit()
    f.login(client, admin)
    return admin, csrf_from(client, "/admin/users")


def test_only_admins(client, db):
    coord = f.user(["coordinator"])
    db.session.commit()
    f.login(client, coord)
    assert client.get("/admin/users").status_code == 403
    assert client.post("/admin/users", data={"email": "x@example.go.id"}).status_code in (400,
                                                                                         403)
    assert 'id="nav-users"' not in client.get("/").get_data(as_text=True)


def test_invite_links_person_and_mails_activation(client, db):
    p = f.person("Siti Rahmawati", email="siti@example.go.id")
    _admin_user, token = _admin(client, db)
    r = client.post("/admin/users", data={"csrf_token": token, "email": "siti@example.go.id",
                                          "roles": ["mentor"], "person": p.nip})
    assert r.status_code == 302
    db.session.expire_all()
    u = db.session.scalar(select(User).where(User.email == "siti@example.go.id"))
    assert u.person_id == p.id and u.roles == {"mentor"} and u.password_hash is None
    mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == u.email))
    assert mail is not None and b"/activate/" in mail.raw.replace(b"=\n", b"")
    # the same person again: refused with a clear message, nothing written
    page = client.post("/admin/users", data={"csrf_token": token, "email": "lain@example.go.id",
                                             "roles": ["mentee"], "person": p.nip},
                       follow_redirects=True)
    assert "sudah memiliki akun" in page.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.email == "lain@example.go.id")) is None


def test_change_roles_deactivate_and_no_self_lockout(client, db):
    admin, token = _admin(client, db)
    other = f.user(["mentee"], email="budi@example.go.id")
    db.session.commit()
    r = client.post(f"/admin/users/{other.id}", data={"csrf_token": token,
                                                      "roles": ["mentor", "mentee"]})
    assert r.status_code == 302
    db.session.expire_all()
    other = db.session.get(User, other.id)
    assert other.roles == {"mentor", "mentee"} and other.active is False  # box unticked
    page = client.post(f"/admin/users/{admin.id}", data={"csrf_token": token,
                                                         "roles": ["coordinator"],
                                                         "active": "1"},
                       follow_redirects=True)
    assert "administrator Anda sendiri" in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, admin.id).roles == {"admin"}
    actions = set(db.session.scalars(select(AuditLog.action)))
    assert "user.update" in actions


def test_unlock(client, db):
    _admin_user, token = _admin(client, db)
    locked = f.user(["mentor"], email="kunci@example.go.id")
    locked.locked_until = utcnow() + timedelta(minutes=10)
    db.session.commit()
    html = client.get("/admin/users?q=kunci").get_data(as_text=True)
    assert "terkunci" in html
    client.post(f"/admin/users/{locked.id}", data={"csrf_token": token, "action": "unlock"})
    db.session.expire_all()
    assert db.session.get(User, locked.id).locked_until is None


def test_navigation_per_role(client, db):
    admin, _ = _admin(client, db)
    html = client.get("/").get_data(as_text=True)
    assert 'id="nav-programmes"' in html and 'id="nav-users"' in html
    assert 'id="nav-mentor"' not in html  # not a mentor in any programme


def test_users_page_renders_role_boxes_and_saves_from_the_form(client, db):
    """The page's own `roles` must not be shadowed by the navigation's: the checkboxes render,
    and posting exactly what the rendered form holds invites and deactivates."""

    _admin(client, db)
    html = client.get("/admin/users").get_data(as_text=True)
    invite_form = html.split('id="invite"', 1)[1].split("</form>", 1)[0]
    for role in ("admin", "coordinator", "mentor", "mentee"):
        assert f'name="roles" value="{role}"' in invite_form
    token = csrf_in(html)
    r = client.post("/admin/users", data={"csrf_token": token, "email": "koor@example.go.id",
                                          "roles": ["coordinator"]}, follow_redirects=True)
    assert "Pilih setidaknya satu peran" not in r.get_data(as_text=True)
    u = db.session.scalar(select(User).where(User.email == "koor@example.go.id"))
    assert u.roles == {"coordinator"}
    # never activated: listed by the filter, with a resend button
    pending = client.get("/admin/users?state=pending").get_data(as_text=True)
    assert 'data-user="koor@example.go.id"' in pending and 'value="resend"' in pending
    assert 'data-user="admin@example.go.id"' not in pending
    row = pending.split('data-user="koor@example.go.id"', 1)[1].split("</tr>", 1)[0]
    assert 'value="coordinator" checked' in row and 'name="active" value="1" checked' in row
    # the two states are told apart in words: it may sign in, but has no password yet
    assert "boleh masuk" in row and "belum membuat kata sandi" in row
    assert "aktif<" not in row and "belum diaktifkan" not in row
    # deactivate: keep the roles the form shows ticked, untick "active"
    client.post(f"/admin/users/{u.id}", data={"csrf_token": token, "roles": ["coordinator"],
                                              "action": "save"})
    db.session.expire_all()
    assert db.session.get(User, u.id).active is False


def test_invite_whole_programme(client, db):
    from datetime import date

    from mentormatch.models import Participant, Programme

    _admin(client, db)
    prog = Programme(name="Mentoring Kominfo 2027", start_date=date(2027, 1, 1),
                     end_date=date(2027, 12, 31))
    db.session.add(prog)
    mentor, mentee, both = f.person("Mentor Satu"), f.person("Mentee Dua"), f.person("Ganda")
    has_account, no_mail = f.person("Sudah Punya"), f.person("Tanpa Surel")
    no_mail.email = ""
    db.session.flush()
    for p, role in ((mentor, "mentor"), (mentee, "mentee"), (both, "mentor"), (both, "mentee"),
                    (has_account, "mentee"), (no_mail, "mentee")):
        db.session.add(Participant(programme_id=prog.id, person_id=p.id, role=role))
    f.user(["mentee"], person_row=has_account, email=has_account.email)
    db.session.commit()
    token = csrf_from(client, "/admin/users")
    html = client.post("/admin/users/programme", data={"csrf_token": token,
                                                       "programme_id": prog.id}
                       ).get_data(as_text=True)
    assert "E-mail aktivasi terkirim: 3." in html
    assert "Tanpa Surel" in html.split('id="no-email"', 1)[1]
    db.session.expire_all()
    roles = {u.email: u.roles for u in db.session.scalars(select(User))}
    assert roles[mentor.email] == {"mentor"} and roles[mentee.email] == {"mentee"}
    assert roles[both.email] == {"mentor", "mentee"}
    mails = db.session.scalars(select(OutboxMessage.recipient)).all()
    assert sorted(mails) == sorted([mentor.email, mentee.email, both.email])
    # a second run invites nobody again
    html = client.post("/admin/users/programme", data={"csrf_token": token,
                                                       "programme_id": prog.id}
                       ).get_data(as_text=True)
    assert "E-mail aktivasi terkirim: 0." in html
