"""ImapInbox against a real (private) dovecot on loopback."""

from __future__ import annotations

import subprocess
from email.message import EmailMessage

import pytest

from mentormatch.mail.inbox import (
    ImapAuthError,
    ImapInbox,
    ImapSettings,
    InboundMail,
    InboxError,
)
from tests.servers.imap import DovecotServer, _group_pids
from tests.servers.smtp import free_port


def reply_mail(i: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"mentor{i}@dinas.go.id"
    msg["To"] = "mentoring@bkpsdm.go.id"
    msg["Subject"] = f"Diterima: Sesi mentoring {i}"
    msg["Message-ID"] = f"<reply-{i}@dinas.go.id>"
    msg.set_content(f"Saya menerima undangan {i}.\r\n")
    ics = (
        "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nUID:series-"
        f"{i}@mentormatch.test\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:mentor{i}@dinas.go.id\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    msg.add_alternative(ics, subtype="calendar", params={"method": "REPLY"})
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))


def settings_for(account, **kw) -> ImapSettings:
    return ImapSettings(
        host=account.host,
        port=account.port,
        security="none",
        username=account.user,
        password=account.password,
        timeout=5.0,
        **kw,
    )


def test_fetch_then_mark_processed(imap_server, imap_account):
    raws = [reply_mail(i) for i in range(3)]
    for raw in raws:
        imap_server.deliver(imap_account.user, raw)
    with ImapInbox(settings_for(imap_account)) as inbox:
        mails = inbox.fetch_unseen(limit=10)
        assert [m.raw_bytes for m in mails] == raws
        assert [m.uid for m in mails] == sorted(m.uid for m in mails)
        assert all(isinstance(m, InboundMail) and m.uidvalidity for m in mails)
        assert mails[1].message()["Subject"] == "Diterima: Sesi mentoring 1"
        # fetching does not mark seen: fetch again, same result
        assert [m.uid for m in inbox.fetch_unseen(limit=10)] == [m.uid for m in mails]
        inbox.mark_processed(mails[0])
        assert [m.uid for m in inbox.fetch_unseen(limit=10)] == [m.uid for m in mails[1:]]
        for m in mails[1:]:
            inbox.mark_processed(m.uid)
        inbox.mark_processed(mails[1].uid)  # idempotent
        assert inbox.fetch_unseen(limit=10) == []
    assert imap_server.folder_count(imap_account.user) == 3  # flagged, not moved
    # a new session sees the same state
    with ImapInbox(settings_for(imap_account)) as inbox:
        assert inbox.fetch_unseen() == []


def test_bounded_batches_oldest_first(imap_server, imap_account):
    for i in range(5):
        imap_server.deliver(imap_account.user, reply_mail(i))
    seen_subjects = []
    with ImapInbox(settings_for(imap_account)) as inbox:
        for _ in range(10):  # bounded loop
            batch = inbox.fetch_unseen(limit=2)
            if not batch:
                break
            assert len(batch) <= 2
            for m in batch:
                seen_subjects.append(m.message()["Subject"])
                inbox.mark_processed(m)
        with pytest.raises(ValueError):
            inbox.fetch_unseen(limit=0)
    assert seen_subjects == [f"Diterima: Sesi mentoring {i}" for i in range(5)]


def test_move_to_processed_folder(imap_server, imap_account):
    for i in range(3):
        imap_server.deliver(imap_account.user, reply_mail(i))
    settings = settings_for(imap_account, processed_folder="Processed-iTIP")
    with ImapInbox(settings) as inbox:
        mails = inbox.fetch_unseen()
        assert len(mails) == 3
        for m in mails:
            inbox.mark_processed(m)
        assert inbox.fetch_unseen() == []
    assert imap_server.folder_count(imap_account.user, "INBOX") == 0
    assert imap_server.folder_count(imap_account.user, "Processed-iTIP") == 3


def test_seen_mail_and_other_folders_are_ignored(imap_server, imap_account):
    imap_server.deliver(imap_account.user, reply_mail(1), flags=r"\Seen")
    imap_server.deliver(imap_account.user, reply_mail(2), folder="Archive")
    imap_server.deliver(imap_account.user, reply_mail(3))
    with ImapInbox(settings_for(imap_account)) as inbox:
        (mail,) = inbox.fetch_unseen()
        assert mail.message()["Message-ID"] == "<reply-3@dinas.go.id>"


def test_reconnects_after_server_side_disconnect(imap_server, imap_account):
    imap_server.deliver(imap_account.user, reply_mail(1))
    with ImapInbox(settings_for(imap_account)) as inbox:
        assert len(inbox.fetch_unseen()) == 1
        inbox._conn.sock.close()  # simulate a dropped connection  # noqa: SLF001
        mails = inbox.fetch_unseen()
        assert len(mails) == 1
        inbox.mark_processed(mails[0])


def test_wrong_password_is_a_clear_error(imap_server, imap_account):
    settings = ImapSettings(
        host=imap_account.host,
        port=imap_account.port,
        security="none",
        username=imap_account.user,
        password="salah",
        timeout=5.0,
    )
    with ImapInbox(settings) as inbox, pytest.raises(ImapAuthError) as exc:
        inbox.fetch_unseen()
    assert not exc.value.temporary
    assert f"refused login for user {imap_account.user!r}" in str(exc.value)
    assert "check the IMAP user name and password" in str(exc.value)
    assert not inbox.connected


def test_missing_folder_is_a_clear_error(imap_account):
    settings = settings_for(imap_account, folder="NoSuchFolder")
    with ImapInbox(settings) as inbox, pytest.raises(InboxError) as exc:
        inbox.fetch_unseen()
    assert "cannot open folder 'NoSuchFolder'" in str(exc.value)
    assert not exc.value.temporary


def test_starttls_demanded_but_not_offered(imap_account):
    # the test server has ssl = no, so it does not offer STARTTLS
    settings = ImapSettings(
        host=imap_account.host,
        port=imap_account.port,
        security="starttls",
        username=imap_account.user,
        password=imap_account.password,
        timeout=5.0,
    )
    with ImapInbox(settings) as inbox, pytest.raises(InboxError) as exc:
        inbox.fetch_unseen()
    assert "does not offer STARTTLS" in str(exc.value)
    assert not exc.value.temporary


def test_server_down_is_temporary():
    settings = ImapSettings(
        host="127.0.0.1",
        port=free_port(),
        security="none",
        username="u",
        password="p",
        timeout=2.0,
    )
    with ImapInbox(settings) as inbox, pytest.raises(InboxError) as exc:
        inbox.fetch_unseen()
    assert exc.value.temporary
    assert "connection refused" in str(exc.value)


def test_invalid_settings():
    with pytest.raises(ValueError, match="security"):
        ImapSettings(username="u", security="tls")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="processed_folder"):
        ImapSettings(username="u", processed_folder="INBOX")
    with pytest.raises(ValueError, match="unknown IMAP setting"):
        ImapSettings.from_mapping({"username": "u", "mailbox": "x"})
    assert "p4ss" not in repr(ImapSettings(username="u", password="p4ss"))


def test_private_dovecot_leaves_no_processes():
    """Start and stop a second private instance: all its processes are gone afterwards."""
    server = DovecotServer().start()
    try:
        account = server.add_user("x")
        server.deliver(account.user, reply_mail(1))
        pgid = server._proc.pid  # noqa: SLF001
        assert _group_pids(pgid)
        pid_file = int(server.pid_path.read_text())
        assert pid_file == pgid
        conf = str(server.config_path)
    finally:
        server.stop()
    assert _group_pids(pgid) == []
    for pattern in (conf, f"dovecot-mm-test-{server.port}/"):  # master; children's titles
        out = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout
        assert out.strip() == "", pattern


def test_missing_dovecot_is_reported_with_install_hint(monkeypatch):
    import tests.servers.imap as imap_mod

    monkeypatch.setattr(imap_mod.shutil, "which", lambda name: None)
    monkeypatch.setattr(imap_mod.os, "access", lambda path, mode: False)
    with pytest.raises(imap_mod.DovecotMissing, match="apt-get install -y dovecot-imapd"):
        DovecotServer().start()
