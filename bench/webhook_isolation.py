"""One slow webhook receiver beside a healthy one: how long the healthy one waits for its
deliveries (issue 22, item 6).

    python bench/webhook_isolation.py [TICKETS]

Two receivers on 127.0.0.1: a healthy one, and one that answers one byte a second (each
read arrives within the timeout, so only an overall deadline ends the attempt). TICKETS
results are committed with the senders running; the figure is the time until the healthy
receiver has all of them (given up after 40 s), against the same run without the slow
receiver (the baseline, same run). timeout_seconds is 2 for both hooks.
"""

from __future__ import annotations

import logging
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import structlog

from triage.config.settings import load_settings
from triage.delivery.service import DeliveryService
from triage.delivery.webhook import WebhookTransport
from triage.records import TicketKeys
from triage.result import Result, Route
from triage.store.sqlite import SqliteStore
from triage.ticket import input_id

GIVE_UP = 40.0
SECRET = "0123456789abcdef-bench"


class Receiver:
    def __init__(self, drip: float) -> None:
        self.drip = drip
        self.count = 0
        self.lock = threading.Condition()
        self.stop = threading.Event()


@contextmanager
def serving(receiver: Receiver) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if receiver.drip:
                self.close_connection = True
                try:
                    for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n":
                        if receiver.stop.wait(receiver.drip):
                            return
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                except OSError:
                    return
                return
            with receiver.lock:
                receiver.count += 1
                receiver.lock.notify_all()
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hook"
    finally:
        receiver.stop.set()
        server.shutdown()
        server.server_close()


def result_of(n: int) -> Result:
    now = datetime.now(UTC)
    return Result(
        id=input_id(f"bench-{n}", [str(n).encode()]),
        source="dropfolder",
        source_ref=f"{n}.txt",
        message_id=None,
        received_at=now,
        **{"from": f"user{n}@example.com"},
        subject=f"VPN {n} drops",
        status="triaged",
        status_reason=None,
        category="vpn",
        route=Route(tier="rules", reason="bench"),
        workflow="vpn",
    )


def healthy_delay(urls: list[str], healthy: Receiver, tickets: int) -> float:
    """Seconds until `healthy` has all `tickets` (GIVE_UP when it never does)."""
    with tempfile.TemporaryDirectory() as scratch:
        config = Path(scratch) / "config.toml"
        config.write_text(
            "".join(
                f"[[webhooks]]\nurl = '{url}'\nsecret = '{SECRET}'\ntimeout_seconds = 2\n"
                for url in urls
            )
        )
        settings = load_settings(config, {}).settings
        store = SqliteStore(settings.store.path)
        clock = lambda: datetime.now(UTC)  # noqa: E731
        transport = WebhookTransport(settings.webhooks, clock)
        service = DeliveryService(store, settings.relay, settings.webhooks, clock, [transport])
        service.start()
        started = time.perf_counter()
        try:
            for n in range(tickets):
                result, now = result_of(n), clock()
                store.save(result, TicketKeys(None), now, service.plan(result, b"", now))
                service.committed()
            with healthy.lock:
                done = healthy.lock.wait_for(lambda: healthy.count >= tickets, GIVE_UP)
            took = time.perf_counter() - started if done else GIVE_UP
        finally:
            threading.Thread(target=service.stop, daemon=True).start()  # may wait on the slow one
        return took


def main() -> None:
    tickets = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    # Quiet: the senders' lines would bury the figures.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    alone = Receiver(0.0)
    with serving(alone) as url:
        baseline = healthy_delay([url], alone, tickets)
    slow, healthy = Receiver(1.0), Receiver(0.0)
    with serving(slow) as slow_url, serving(healthy) as healthy_url:
        beside = healthy_delay([slow_url, healthy_url], healthy, tickets)
        got = healthy.count
    print(f"{tickets} results to a healthy webhook (timeout_seconds 2):")
    print(f"  alone:                            {baseline:7.3f} s")
    shown = f"{beside:7.3f} s" if got >= tickets else f"gave up after {GIVE_UP:.0f} s"
    print(f"  beside a 1 byte/s receiver:       {shown}   ({got} of {tickets} received)")
    print(f"  ratio beside / alone:             {beside / baseline:7.1f}x")


if __name__ == "__main__":
    main()
