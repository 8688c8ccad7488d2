"""SmtpTransport against a real aiosmtpd server on loopback."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from mentormatch.mail.transport import SmtpSettings, SmtpTransport, TransportError
from tests.servers.smtp import SmtpTestServer, free_port

ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//MentorMatch//test//ID\r\nMETHOD:REQUEST\r\n"
    "BEGIN:VEVENT\r\nUID:series-1@mentormatch.test\r\nDTSTAMP:20260101T000000Z\r\n"
    "DTSTART:20260105T020000Z\r\nSUMMARY:Sesi mentoring\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


def make_invite(i: int, to: str = "mentor@dinas.go.id") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Program Mentoring <mentoring@bkpsdm.go.id>"
    msg["To"] = to
    msg["Subject"] = f"Undangan: sesi mentoring #{i} — Pengembangan Diri dan Orang Lain ✓"
    msg.set_content(f"Yth. Bapak/Ibu, sesi mentoring ke-{i}.\nSalam hangat — tim BKPSDM.\n")
    msg.add_alternative(f"<p>Yth. Bapak/Ibu, sesi mentoring ke-<b>{i}</b>.</p>", subtype="html")
    msg.add_alternative(ICS, subtype="calendar", params={"method": "REQUEST"})
    msg.add_attachment(ICS.encode(), maintype="application", subtype="ics", filename="invite.ics")
    return msg


def test_sends_several_messages_over_one_connection(smtp_server, smtp_settings):
    sent = []
    with SmtpTransport(smtp_settings) as transport:
        for i in range(5):
            sent.append(transport.send(make_invite(i)))
        assert transport.connected
    assert not transport.connected
    received = smtp_server.wait_for(5)
    assert len(received) == 5
    assert len(set(sent)) == 5
    for i, (msgid, got) in enumerate(zip(sent, received, strict=True)):
        assert got.mail_from == "mentoring@bkpsdm.go.id"
        assert got.rcpt_tos == ("mentor@dinas.go.id",)
        msg = got.message
        assert msg["Message-ID"] == msgid
        assert msg["Subject"] == (
            f"Undangan: sesi mentoring #{i} — Pengembangan Diri dan Orang Lain ✓"
        )
        assert msg["Date"]
        assert msg.get_content_type() == "multipart/mixed"
        body = msg.get_body(("plain",))
        assert body is not None and "Salam hangat — tim BKPSDM." in body.get_content()
        html = msg.get_body(("html",))
        assert html is not None and f"<b>{i}</b>" in html.get_content()
        parts = {p.get_content_type(): p for p in msg.walk()}
        cal = parts["text/calendar"]
        assert cal.get_param("method") == "REQUEST"
        assert cal.get_content().replace("\r\n", "\n") == ICS.replace("\r\n", "\n")
        attachments = list(msg.iter_attachments())
        assert [a.get_filename() for a in attachments] == ["invite.ics"]
        assert attachments[0].get_content() == ICS.encode()


def test_keeps_existing_message_id_and_envelope_overrides(smtp_server, smtp_settings):
    msg = make_invite(1)
    msg["Message-ID"] = "<fixed-1@mentormatch.test>"
    msg["Bcc"] = "audit@bkpsdm.go.id"
    with SmtpTransport(smtp_settings) as transport:
        assert transport.send(msg) == "<fixed-1@mentormatch.test>"
        transport.send(make_invite(2), envelope_from="bounce@bkpsdm.go.id", recipients=["x@y.id"])
    first, second = smtp_server.wait_for(2)
    assert first.rcpt_tos == ("mentor@dinas.go.id", "audit@bkpsdm.go.id")
    assert "Bcc" not in first.message  # never transmitted
    assert msg["Bcc"] == "audit@bkpsdm.go.id"  # caller's message untouched
    assert second.mail_from == "bounce@bkpsdm.go.id"
    assert second.rcpt_tos == ("x@y.id",)


def test_utf8_address_uses_smtputf8(smtp_server, smtp_settings):
    msg = make_invite(1, to="pengguna@contoh.id")
    del msg["To"]
    msg["To"] = "Budi <budi.santoso@kecamatan-pauh.id>, ibu.siti@dinas.id"
    msg["Cc"] = "dévi@contoh.id"
    with SmtpTransport(smtp_settings) as transport:
        transport.send(msg)
    (got,) = smtp_server.wait_for(1)
    assert "SMTPUTF8" in got.mail_options
    assert got.rcpt_tos == ("budi.santoso@kecamatan-pauh.id", "ibu.siti@dinas.id", "dévi@contoh.id")


def test_no_recipients_is_permanent(smtp_settings):
    msg = EmailMessage()
    msg["From"] = "a@b.id"
    msg["Subject"] = "x"
    msg.set_content("x")
    with SmtpTransport(smtp_settings) as transport, pytest.raises(TransportError) as exc:
        transport.send(msg)
    assert exc.value.permanent


def test_server_down_is_temporary():
    port = free_port()  # nothing listens here
    settings = SmtpSettings(host="127.0.0.1", port=port, timeout=2.0)
    with SmtpTransport(settings) as transport, pytest.raises(TransportError) as exc:
        transport.send(make_invite(1))
    assert exc.value.temporary
    assert "connection refused" in str(exc.value)
    assert f"127.0.0.1:{port}" in str(exc.value)


def test_451_is_temporary_and_next_send_works(smtp_server, smtp_settings):
    smtp_server.fail_next(2)
    with SmtpTransport(smtp_settings) as transport:
        for _ in range(2):
            with pytest.raises(TransportError) as exc:
                transport.send(make_invite(1))
            assert exc.value.temporary
            assert exc.value.smtp_code == 451
        msgid = transport.send(make_invite(1))  # same connection still usable
    (got,) = smtp_server.wait_for(1)
    assert got.message["Message-ID"] == msgid
    assert smtp_server.failed == 2


def test_550_recipient_refused_is_permanent(smtp_server, smtp_settings):
    smtp_server.reject("gone@dinas.go.id")
    with SmtpTransport(smtp_settings) as transport:
        with pytest.raises(TransportError) as exc:
            transport.send(make_invite(1, to="gone@dinas.go.id"))
        assert exc.value.permanent
        assert exc.value.smtp_code == 550
        assert "gone@dinas.go.id" in str(exc.value)
        # partly refused: delivered to the others, refused ones reported
        msg = make_invite(2, to="gone@dinas.go.id, ok@dinas.go.id")
        transport.send(msg)
        assert set(transport.last_refused) == {"gone@dinas.go.id"}
        assert transport.last_refused["gone@dinas.go.id"][0] == 550
    (got,) = smtp_server.wait_for(1)
    assert got.rcpt_tos == ("ok@dinas.go.id",)


def test_down_then_up_on_same_port(smtp_server, smtp_settings):
    """The persistent connection dies with the server; sends fail temporarily while it is
    down and succeed again (over a new connection) once it is back, nothing doubled."""
    with SmtpTransport(smtp_settings) as transport:
        transport.send(make_invite(1))
        smtp_server.stop()
        for _ in range(3):
            with pytest.raises(TransportError) as exc:
                transport.send(make_invite(2))
            assert exc.value.temporary
            assert not exc.value.delivery_unknown
        smtp_server.start()
        transport.send(make_invite(2))
        # and once more after a restart while the connection was idle (stale socket)
        smtp_server.stop()
        smtp_server.start()
        transport.send(make_invite(3))
    subjects = [m.message["Subject"].split("#")[1][0] for m in smtp_server.wait_for(3)]
    assert subjects == ["1", "2", "3"]


def test_reconnects_after_max_messages_per_connection(smtp_server, smtp_settings):
    settings = SmtpSettings(
        host=smtp_settings.host, port=smtp_settings.port, max_messages_per_connection=2
    )
    with SmtpTransport(settings) as transport:
        for i in range(5):
            transport.send(make_invite(i))
    assert smtp_server.wait_for(5)[4].message["Subject"].startswith("Undangan: sesi mentoring #4")


def test_starttls_demanded_but_not_offered(smtp_server, smtp_settings):
    settings = SmtpSettings(
        host=smtp_settings.host,
        port=smtp_settings.port,
        security="starttls",
        username="u",
        password="p",
    )
    with SmtpTransport(settings) as transport, pytest.raises(TransportError) as exc:
        transport.send(make_invite(1))
    assert exc.value.permanent
    assert "does not offer STARTTLS" in str(exc.value)
    assert smtp_server.count == 0


def test_ssl_against_plain_server_is_a_clear_error(smtp_server, smtp_settings):
    settings = SmtpSettings(
        host=smtp_settings.host, port=smtp_settings.port, security="ssl", timeout=3.0
    )
    with SmtpTransport(settings) as transport, pytest.raises(TransportError) as exc:
        transport.send(make_invite(1))
    assert f"127.0.0.1:{smtp_settings.port} (ssl)" in str(exc.value)


def test_invalid_settings_rejected():
    with pytest.raises(ValueError, match="security"):
        SmtpSettings(security="tls")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="port"):
        SmtpSettings(port=0)
    with pytest.raises(ValueError, match="unknown SMTP setting"):
        SmtpSettings.from_mapping({"hostname": "x"})
    s = SmtpSettings.from_mapping({"host": "mail.go.id", "helo": "mm.go.id"}, password=None)
    assert s.local_hostname == "mm.go.id"
    assert "password" not in repr(SmtpSettings(username="u", password="secret"))


# ------------------------------------------------------------------ STARTTLS + AUTH, for real


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.fail("the STARTTLS test needs the openssl command (apt-get install -y openssl)")
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (
        auth_data.login == b"mentoring" and auth_data.password == b"rahasia"
    )
    return AuthResult(success=ok, handled=False)


def test_starttls_and_login(tls_files):
    cert, key = tls_files
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    client_ctx = ssl.create_default_context(cafile=str(cert))
    server = SmtpTestServer(
        tls_context=server_ctx,
        require_starttls=True,
        authenticator=_authenticator,
        auth_require_tls=True,
    )
    with server:
        settings = SmtpSettings(
            host=server.host,
            port=server.port,
            security="starttls",
            username="mentoring",
            password="rahasia",
            ssl_context=client_ctx,
            timeout=5.0,
        )
        with SmtpTransport(settings) as transport:
            transport.send(make_invite(1))
            transport.send(make_invite(2))
        assert len(server.wait_for(2)) == 2

        wrong = SmtpSettings(
            host=server.host,
            port=server.port,
            security="starttls",
            username="mentoring",
            password="salah",
            ssl_context=client_ctx,
            timeout=5.0,
        )
        with SmtpTransport(wrong) as transport, pytest.raises(TransportError) as exc:
            transport.send(make_invite(3))
        assert exc.value.permanent
        assert "refused login for user 'mentoring'" in str(exc.value)

        untrusted = SmtpSettings(
            host=server.host, port=server.port, security="starttls", timeout=5.0
        )  # default context: the self-signed certificate is not trusted
        with SmtpTransport(untrusted) as transport, pytest.raises(TransportError) as exc:
            transport.send(make_invite(4))
        assert exc.value.permanent
        assert "certificate" in str(exc.value)
    assert server.count == 2


def test_free_port_is_bindable():
    port = free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


def test_send_raw_bytes_as_stored_in_an_outbox(smtp_server, smtp_settings, tmp_path):
    from mentormatch.mail.transport import FolderTransport

    msg = make_invite(7)
    msg["Message-ID"] = "<outbox-7@mentormatch.test>"
    raw = bytes(msg)  # LF line ends, as a database column would hold them
    with SmtpTransport(smtp_settings) as transport:
        msgid = transport.send_raw(
            raw, envelope_from="mentoring@bkpsdm.go.id", recipients=["mentor@dinas.go.id"]
        )
        with pytest.raises(TransportError):
            transport.send_raw(raw, envelope_from="a@b.id", recipients=[])
    assert msgid == "<outbox-7@mentormatch.test>"
    (got,) = smtp_server.wait_for(1)
    assert got.data.replace(b"\r\n", b"\n") == raw.replace(b"\r\n", b"\n")
    assert got.message["Subject"] == msg["Subject"]
    folder = FolderTransport(tmp_path)
    assert folder.send_raw(raw, envelope_from="a@b.id", recipients=["c@d.id"]) == msgid
    assert folder.read(folder.names()[0])["Message-ID"] == msgid


def test_server_factory_fixture(smtp_server_factory):
    counting = smtp_server_factory(store=False)
    strict = smtp_server_factory(reject_recipients=["x@y.id"])
    assert counting.port != strict.port
    with SmtpTransport(SmtpSettings(host=counting.host, port=counting.port)) as t:
        t.send(make_invite(1))
    strict_settings = SmtpSettings(host=strict.host, port=strict.port)
    with SmtpTransport(strict_settings) as t, pytest.raises(TransportError):
        t.send(make_invite(1, to="x@y.id"))
    counting.wait_for(1)
    assert counting.messages == [] and counting.count == 1


def test_connection_lost_after_data_is_flagged_delivery_unknown(smtp_server, smtp_settings):
    smtp_server.drop_after_data(1)
    with SmtpTransport(smtp_settings) as transport:
        with pytest.raises(TransportError) as exc:
            transport.send(make_invite(1))
        assert exc.value.temporary
        assert exc.value.delivery_unknown
        assert "may or may not have been delivered" in str(exc.value)
        transport.send(make_invite(2))  # reconnects
    received = smtp_server.wait_for(2)
    assert [m.message["Subject"].split("#")[1][0] for m in received] == ["1", "2"]


def test_lines_starting_with_a_dot_arrive_intact(smtp_server, smtp_settings):
    """DATA is sent by hand (to tell "lost before 354" from "lost after the message"):
    RFC 5321 dot-stuffing must still be right."""
    raw = (b"From: a@b.id\r\nTo: c@d.id\r\nSubject: dots\r\nMessage-ID: <dots@t>\r\n\r\n"
           b".\r\n..two\r\n.three\r\nend without newline")
    with SmtpTransport(smtp_settings) as transport:
        transport.send_raw(raw, envelope_from="a@b.id", recipients=["c@d.id"])
    (got,) = smtp_server.wait_for(1)
    assert got.data.rstrip(b"\r\n") == raw


def test_before_data_hook_runs_once_after_rcpt_and_can_abort(smtp_server, smtp_settings):
    from mentormatch.mail.transport import SendAborted

    calls = []

    def no():
        calls.append("no")
        return False

    with SmtpTransport(smtp_settings) as transport:
        with pytest.raises(SendAborted):
            transport.send_raw(bytes(make_invite(1)), envelope_from="a@b.id",
                               recipients=["c@d.id"], before_data=no)
        # the transaction was reset: the same connection sends the next message
        transport.send_raw(bytes(make_invite(2)), envelope_from="a@b.id",
                           recipients=["c@d.id"], before_data=lambda: calls.append("yes") or True)
    assert calls == ["no", "yes"]
    (got,) = smtp_server.wait_for(1)
    assert "#2" in got.message["Subject"]
    # refused recipients never reach the hook: a definite non-delivery before DATA
    smtp_server.reject("nobody@d.id")
    with SmtpTransport(smtp_settings) as transport, pytest.raises(TransportError) as info:
        transport.send_raw(bytes(make_invite(3)), envelope_from="a@b.id",
                           recipients=["nobody@d.id"], before_data=lambda: calls.append("x"))
    assert not info.value.delivery_unknown and calls == ["no", "yes"]
