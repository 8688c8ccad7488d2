"""One error and commit path: a refused POST shows the service's message and writes nothing;
a successful POST is committed once, at the end of the request, without the view committing."""

from sqlalchemy import func, select

from mentormatch.models import AuditLog, User
from mentormatch.services.accounts import AccountError
from mentormatch.services.errors import ServiceError
from tests import factories as f
from tests.helpers import csrf_from


def test_service_errors_are_one_family(app):
    from mentormatch.services.dispatch import OutboxError
    from mentormatch.services.invites import InviteError
    from mentormatch.services.participant_errors import LogError
    from mentormatch.services.programmes import ProgrammeError

    for cls in (AccountError, OutboxError, InviteError, LogError, ProgrammeError):
        assert issubclass(cls, ServiceError)
    with app.test_request_context():
        assert AccountError("email_taken").user_message() == "Sudah ada akun dengan e-mail ini."
        assert AccountError("no_such_code").user_message() == "Perubahan tidak dapat disimpan."


def test_refused_post_rolls_back_and_says_why(app, db, client):
    admin = f.user(("admin",), email="admin@example.go.id")
    f.user(("mentor",), email="taken@example.go.id")
    db.session.commit()
    f.login(client, admin)
    audits = db.session.scalar(select(func.count()).select_from(AuditLog))
    token = csrf_from(client, "/admin/users")
    resp = client.post("/admin/users", data={"csrf_token": token, "email": "taken@example.go.id",
                                             "roles": ["mentor"]}, follow_redirects=True)
    assert "Sudah ada akun dengan e-mail ini." in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(AuditLog)) == audits


def test_successful_post_commits_at_the_end_of_the_request(app, db, client):
    admin = f.user(("admin",), email="admin@example.go.id")
    db.session.commit()
    f.login(client, admin)
    token = csrf_from(client, "/admin/users")
    resp = client.post("/admin/users", data={"csrf_token": token, "email": "new@example.go.id",
                                             "roles": ["mentor"]})
    assert resp.status_code == 302
    db.session.remove()  # a fresh session sees only what was committed
    assert db.session.scalar(select(User).where(User.email == "new@example.go.id")) is not None
