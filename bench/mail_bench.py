"""Mail dispatch benchmark: messages per second through SmtpTransport to loopback SMTP.

    python bench/mail_bench.py                 # 10,000 messages
    python bench/mail_bench.py --count 2000 --in-process

A real aiosmtpd server listens on 127.0.0.1 (by default in a separate process, so the
client is not competing with it for the GIL) and only counts what it receives.  The send loop
is a plain function ``send_loop(settings, count) -> sent``; swap it (``--loop module:function``
or ``run(count, send_loop=...)``) to measure e.g. the outbox dispatch job instead.
``--loop raw`` sends pre-rendered bytes (transport cost only); the default builds every
message with the email package first (build + serialise + send).

Prints messages/s, total time, and peak memory (max RSS of this process; with --tracemalloc
also the peak of Python allocations during the send loop).
"""

from __future__ import annotations

import argparse
import importlib
import multiprocessing as mp
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from mentormatch.mail.transport import SmtpSettings, SmtpTransport  # noqa: E402
from tests.servers.smtp import SmtpTestServer  # noqa: E402

SendLoop = Callable[[SmtpSettings, int], int]

ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//MentorMatch//bench//ID\r\nMETHOD:REQUEST\r\n"
    "BEGIN:VEVENT\r\nUID:series-{i}@mentormatch.bench\r\nSEQUENCE:0\r\n"
    "DTSTAMP:20260101T000000Z\r\nDTSTART;TZID=Asia/Jakarta:20260105T090000\r\n"
    "DTEND;TZID=Asia/Jakarta:20260105T100000\r\nRRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=6\r\n"
    "SUMMARY:Sesi mentoring\r\nORGANIZER:mailto:mentoring@bkpsdm.go.id\r\n"
    "ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:m{i}@dinas.go.id\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n"
)


def build_message(i: int) -> EmailMessage:
    """A message shaped like an invite: text + HTML + text/calendar + .ics attachment."""
    msg = EmailMessage()
    msg["From"] = "Program Mentoring <mentoring@bkpsdm.go.id>"
    msg["To"] = f"mentor{i}@dinas.go.id"
    msg["Subject"] = f"Undangan: sesi mentoring #{i} — Pengembangan Diri"
    text = f"Yth. Bapak/Ibu,\n\nAnda diundang ke sesi mentoring #{i}.\n" * 5
    msg.set_content(text)
    msg.add_alternative(f"<p>{text}</p>", subtype="html")
    ics = ICS.format(i=i)
    msg.add_alternative(ics, subtype="calendar", params={"method": "REQUEST"})
    msg.add_attachment(ics.encode(), maintype="application", subtype="ics", filename="invite.ics")
    return msg


def smtp_send_loop(settings: SmtpSettings, count: int) -> int:
    """Build and send ``count`` messages over one SmtpTransport; return how many were sent."""
    sent = 0
    with SmtpTransport(settings) as transport:
        for i in range(count):
            transport.send(build_message(i))
            sent += 1
    return sent


def raw_send_loop(settings: SmtpSettings, count: int) -> int:
    """Transport only: one invite rendered to bytes once (as an outbox row would store it),
    sent ``count`` times with ``send_raw``."""
    data = bytes(build_message(0))
    sent = 0
    with SmtpTransport(settings) as transport:
        for i in range(count):
            transport.send_raw(
                data, envelope_from="mentoring@bkpsdm.go.id", recipients=[f"m{i}@dinas.go.id"]
            )
            sent += 1
    return sent


def _serve(port_q: mp.Queue, stop: mp.Event, count_q: mp.Queue) -> None:  # type: ignore[type-arg]
    server = SmtpTestServer(store=False).start()
    port_q.put(server.port)
    stop.wait(3600)
    count_q.put(server.count)
    server.stop()


def run(
    count: int,
    send_loop: SendLoop = smtp_send_loop,
    *,
    in_process: bool = False,
    trace: bool = False,
) -> dict[str, float]:
    ctx = mp.get_context("spawn")
    proc = None
    server = None
    if in_process:
        server = SmtpTestServer(store=False).start()
        port = server.port
    else:
        port_q, count_q, stop = ctx.Queue(), ctx.Queue(), ctx.Event()
        proc = ctx.Process(target=_serve, args=(port_q, stop, count_q), daemon=True)
        proc.start()
        port = port_q.get(timeout=30)
    settings = SmtpSettings(
        host="127.0.0.1",
        port=port,
        timeout=30.0,
        local_hostname="bench.mentormatch",
        max_messages_per_connection=0,
    )
    try:
        if trace:
            tracemalloc.start()
        t0 = time.perf_counter()
        sent = send_loop(settings, count)
        elapsed = time.perf_counter() - t0
        traced_peak = tracemalloc.get_traced_memory()[1] if trace else 0
        if trace:
            tracemalloc.stop()
    finally:
        if server is not None:
            received = server.count
            server.stop()
        else:
            assert proc is not None
            stop.set()
            received = count_q.get(timeout=30)
            proc.join(timeout=30)
    return {
        "sent": sent,
        "received": received,
        "seconds": elapsed,
        "msgs_per_s": sent / elapsed if elapsed else float("inf"),
        "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "traced_peak_mib": traced_peak / 2**20,
    }


def _load_loop(spec: str) -> SendLoop:
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name or "send_loop")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=10_000)
    ap.add_argument("--in-process", action="store_true", help="SMTP server in this process")
    ap.add_argument("--tracemalloc", action="store_true", help="also trace Python allocations")
    ap.add_argument("--loop", help="'build' (default), 'raw', or module:function")
    args = ap.parse_args(argv)
    loops = {None: smtp_send_loop, "build": smtp_send_loop, "raw": raw_send_loop}
    loop = loops[args.loop] if args.loop in loops else _load_loop(args.loop)
    r = run(args.count, loop, in_process=args.in_process, trace=args.tracemalloc)
    print(f"messages sent     : {r['sent']:.0f} (server received {r['received']:.0f})")
    print(f"total time        : {r['seconds']:.2f} s")
    print(f"throughput        : {r['msgs_per_s']:.0f} msgs/s")
    print(f"peak memory (RSS) : {r['max_rss_mib']:.1f} MiB")
    if args.tracemalloc:
        print(f"peak traced alloc : {r['traced_peak_mib']:.2f} MiB")
    return 0 if r["sent"] == r["received"] == args.count else 1


if __name__ == "__main__":
    sys.exit(main())
