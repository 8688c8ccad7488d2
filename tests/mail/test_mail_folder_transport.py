"""FolderTransport: the embedded default outbox folder."""

from __future__ import annotations

import os
import threading
from email.message import EmailMessage

import pytest

from mentormatch.mail.transport import FolderTransport, TransportError


def make(i: int) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "mentoring@bkpsdm.go.id"
    msg["To"] = f"mentee{i}@dinas.go.id"
    msg["Subject"] = f"Pengingat sesi {i} — besok 09.00 WITA"
    msg.set_content("Jangan lupa mengisi catatan sesi.\n")
    msg.add_alternative("<p>Jangan lupa mengisi catatan sesi.</p>", subtype="html")
    return msg


def test_writes_one_eml_per_message_and_lists_newest_first(tmp_path):
    outbox = FolderTransport(tmp_path / "outbox")
    ids = [outbox.send(make(i)) for i in range(3)]
    names = sorted(os.listdir(tmp_path / "outbox"))
    assert len(names) == 3
    assert all(n.endswith(".eml") and not n.startswith(".") for n in names)
    for n, msgid in zip(names, ids, strict=True):
        assert msgid.strip("<>").split("@")[0] in n
    listed = outbox.list()
    assert [m.message_id for m in listed] == list(reversed(ids))
    assert listed[0].subject == "Pengingat sesi 2 — besok 09.00 WITA"
    assert listed[0].to == "mentee2@dinas.go.id"
    assert listed[0].size > 0
    assert len(outbox.list(limit=2)) == 2
    msg = outbox.read(listed[-1].name)
    assert msg["Message-ID"] == ids[0]
    assert msg.get_body(("html",)).get_content().strip() == (
        "<p>Jangan lupa mengisi catatan sesi.</p>"
    )
    assert outbox.read_bytes(listed[-1].name).startswith(b"From: ") or b"Message-ID" in (
        outbox.read_bytes(listed[-1].name)
    )


def test_read_refuses_paths(tmp_path):
    outbox = FolderTransport(tmp_path)
    outbox.send(make(1))
    (tmp_path.parent / "secret.eml").write_text("x")
    for bad in ("../secret.eml", "/etc/passwd", ".tmp-x.part", "a/b.eml", ""):
        with pytest.raises(ValueError):
            outbox.read(bad)


def test_atomic_no_partial_files_visible(tmp_path, monkeypatch):
    """A failure while writing leaves nothing behind, and concurrent readers only ever see
    complete messages."""
    outbox = FolderTransport(tmp_path)

    real_fsync = os.fsync

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError):
        outbox.send(make(1))
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert os.listdir(tmp_path) == []

    stop = threading.Event()
    seen_bad: list[str] = []

    def reader():
        while not stop.is_set():
            for m in outbox.list(limit=None):
                try:
                    data = outbox.read_bytes(m.name)
                except FileNotFoundError:
                    continue
                if not data.rstrip().endswith(b"--") or m.size != len(data):
                    seen_bad.append(m.name)

    t = threading.Thread(target=reader)
    t.start()
    try:
        for i in range(200):
            outbox.send(make(i))
    finally:
        stop.set()
        t.join(timeout=10)
    assert not t.is_alive()
    assert seen_bad == []
    assert len(outbox.names()) == 200
    assert not [n for n in os.listdir(tmp_path) if not n.endswith(".eml")]


def test_same_message_id_twice_keeps_both(tmp_path):
    outbox = FolderTransport(tmp_path)
    msg = make(1)
    msg["Message-ID"] = "<dup/../x@mentormatch.test>"
    outbox.send(msg)
    outbox.send(msg)
    names = outbox.names()
    assert len(names) == 2
    assert all("/" not in n and ".." not in n for n in names)


def test_no_recipients_rejected(tmp_path):
    msg = make(1)
    del msg["To"]
    with pytest.raises(TransportError):
        FolderTransport(tmp_path).send(msg)
    assert os.listdir(tmp_path) == []
