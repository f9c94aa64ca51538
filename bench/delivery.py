"""The relay's cost: deliveries per second to a local SMTP server (aiosmtpd on 127.0.0.1)
against a bare smtplib loop sending the same messages over one connection, and the extra
latency a delivery adds after its result's commit.

    python bench/delivery.py [COUNT]

Prints the time ratio relay / bare loop (goal <= 1.5x: the relay adds a store write per
delivery, made durable with fsync) and the commit-to-received latency p50 and p95 of
tickets committed one at a time with the sender thread running. Timings on a shared
machine are noisy: compare ratios from the same run.
"""

from __future__ import annotations

import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from aiosmtpd.controller import Controller

from triage.config.settings import Settings, load_settings
from triage.delivery.plan import plan_deliveries
from triage.delivery.queue import DeliveryQueue
from triage.delivery.sender import Sender
from triage.delivery.service import DeliveryService
from triage.delivery.smtp import SmtpTransport
from triage.result import Result, Route
from triage.store.sqlite import SqliteStore, TicketKeys
from triage.ticket import input_id


class Counting:
    def __init__(self) -> None:
        self.received: dict[str, float] = {}
        self.count = 0
        self.arrived = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        for line in envelope.content.split(b"\r\n", 8):
            if line.lower().startswith(b"resent-message-id:"):
                self.received[line.split(b":", 1)[1].strip().decode()] = time.perf_counter()
                self.arrived.set()
        return "250 OK"


def ticket(n: int) -> bytes:
    body = "".join(
        f"line {i} of the ticket body, the printer on floor {n} jams\r\n" for i in range(60)
    )
    return (
        f"From: user{n}@example.com\r\nTo: helpdesk@example.com\r\nSubject: Printer {n} jams\r\n"
        f"Message-ID: <in-{n}@example.com>\r\n\r\n{body}"
    ).encode()


def result_of(n: int, data: bytes) -> Result:
    now = datetime.now(UTC)
    return Result(
        id=input_id(f"bench-{n}", [data]),
        source="imap:bench/INBOX",
        source_ref=str(n),
        message_id=None,
        received_at=now,
        **{"from": f"user{n}@example.com"},
        subject=f"Printer {n} jams",
        status="triaged",
        status_reason=None,
        category="printer",
        route=Route(tier="rules", reason="bench"),
        workflow="printer",
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def relay_settings(folder: Path, port: int) -> Settings:
    config = folder / "config.toml"
    config.write_text(
        f"[relay]\nenabled = true\nhost = '127.0.0.1'\nport = {port}\ntls = 'none'\n"
        "default_to = 'helpdesk@example.org'\n"
    )
    return load_settings(config, {}).settings


def commit_all(store: SqliteStore, service: DeliveryService, count: int, round_: int) -> None:
    now = datetime.now(UTC)
    for n in range(count):
        data = ticket(n)
        result = result_of(n + round_ * 1_000_000, data)
        store.save(result, TicketKeys(None), now, service.plan(result, data, now))


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    rounds = 3
    port = free_port()
    # The receiving MTA is another process, as a helpdesk's is (no GIL shared with us).
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Sink",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        with tempfile.TemporaryDirectory() as scratch:
            settings = relay_settings(Path(scratch), port)
            store = SqliteStore(settings.store.path)
            clock = lambda: datetime.now(UTC)  # noqa: E731
            service = DeliveryService(store, settings.relay, [], clock, [])
            payloads = [
                plan_deliveries(result_of(n, ticket(n)), ticket(n), settings.relay, [], clock())[0]
                for n in range(count)
            ]
            bare_times, relay_times = [], []
            for round_ in range(rounds):
                started = time.perf_counter()
                with smtplib.SMTP("127.0.0.1", port) as smtp:
                    for delivery in payloads:
                        smtp.sendmail(
                            "triage@example.org", list(delivery.recipients), delivery.payload
                        )
                bare_times.append(time.perf_counter() - started)

                commit_all(store, service, count, round_)
                sender = Sender(DeliveryQueue(store), SmtpTransport(settings.relay), clock)
                started = time.perf_counter()
                sent = sender.run_once()
                relay_times.append(time.perf_counter() - started)
                sender.stop()
                assert sent == count, sent
            store.close()
    finally:
        server.terminate()
        server.wait()
    bare, relay = min(bare_times), min(relay_times)
    print(f"{count} deliveries of {len(payloads[0].payload)} bytes, best of {rounds} rounds,")
    print("to aiosmtpd (Sink) in its own process on 127.0.0.1:")
    print(f"bare smtplib loop: {count / bare:8.1f}/s")
    print(f"relay sender:      {count / relay:8.1f}/s   ratio {relay / bare:.2f}x (goal <= 1.5x)")

    handler = Counting()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with tempfile.TemporaryDirectory() as scratch:
            settings = relay_settings(Path(scratch), port)
            store = SqliteStore(settings.store.path)
            latencies = latency(store, settings, handler, count=min(count, 200))
            store.close()
    finally:
        controller.stop()
    print(
        f"commit -> received: p50 {statistics.median(latencies) * 1000:.1f} ms,"
        f" p95 {statistics.quantiles(latencies, n=20)[-1] * 1000:.1f} ms"
        f" ({len(latencies)} tickets committed one at a time, receiver in this process)"
    )


def wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError("the SMTP server did not start")


def latency(store: SqliteStore, settings, handler: Counting, count: int) -> list[float]:
    service = DeliveryService(
        store, settings.relay, [], lambda: datetime.now(UTC), [SmtpTransport(settings.relay)]
    )
    service.start()
    latencies = []
    try:
        for n in range(100_000, 100_000 + count):
            data = ticket(n)
            result = result_of(n, data)
            now = datetime.now(UTC)
            handler.arrived.clear()
            store.save(result, TicketKeys(None), now, service.plan(result, data, now))
            committed = time.perf_counter()
            service.committed()
            key = f"<{result.id}."
            while True:
                handler.arrived.wait(10)
                handler.arrived.clear()
                arrived = [t for k, t in handler.received.items() if k.startswith(key)]
                if arrived:
                    latencies.append(arrived[0] - committed)
                    break
    finally:
        service.stop()
    return latencies


if __name__ == "__main__":
    main()
