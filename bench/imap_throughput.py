"""IMAP intake speed against a real local Dovecot (needs dovecot-imapd and openssl).

    python bench/imap_throughput.py [N]

1. Throughput: N mails APPENDed into a folder a running watcher is IDLE on, until every one
   has a committed result and its keyword, as a ratio to the same APPENDs plus a bare
   imapclient BODY.PEEK[] fetch of them (batches of 25), in the same run.
2. IDLE pickup latency: one mail at a time into an idle watcher; time to committed result.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from imapclient import IMAPClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connectors.imap import ImapFolder
from tests.dovecot import Dovecot
from triage.compose.app import build_pipeline
from triage.config.sections import ImapAccountConfig
from triage.config.settings import load_settings
from triage.delivery.outbox import Outbox
from triage.store.sqlite import SqliteStore

PASSWORD = "bench-pw"
SUBJECTS = [
    "VPN drops every hour",
    "Outlook asks for my password",
    "Printer on floor 2 jams",
    "Need access to the finance share",
    "Laptop battery swollen",
    "WiFi slow in room 4",
]


def ticket(n: int) -> bytes:
    return (
        f"From: User {n} <user{n}@example.com>\r\nTo: helpdesk@example.com\r\n"
        f"Subject: {SUBJECTS[n % len(SUBJECTS)]} (#{n})\r\nMessage-ID: <bench-{n}@example.com>\r\n"
        f"Date: Mon, 02 Nov 2026 09:00:00 +0100\r\n\r\nHello,\r\n\r\nsince this morning "
        f"{SUBJECTS[n % len(SUBJECTS)].lower()}. Error 0x800{n % 10}0005 on host pc-{n}.corp.local."
        f"\r\n\r\nThanks\r\n"
    ).encode()


def client(server: Dovecot, user: str) -> IMAPClient:
    connection = IMAPClient("127.0.0.1", server.imap_port, ssl=False)
    connection.login(user, PASSWORD)
    return connection


def bare(server: Dovecot, user: str, count: int) -> float:
    started = time.perf_counter()
    connection = client(server, user)
    for n in range(count):
        connection.append("INBOX", ticket(n))
    connection.select_folder("INBOX")
    uids = connection.search("ALL")
    for start in range(0, len(uids), 25):
        connection.fetch(uids[start : start + 25], ["BODY.PEEK[]"])
    connection.logout()
    return time.perf_counter() - started


class Running:
    def __init__(self, server: Dovecot, user: str, folder: Path) -> None:
        settings = load_settings(None, {}, cwd=folder).settings
        self.store = SqliteStore(folder / "triage.sqlite3")
        pipeline = build_pipeline(settings, self.store, Outbox(folder / "outbox"))
        config = ImapAccountConfig.model_validate(
            {
                **settings.imap.model_dump(exclude={"enabled", "accounts"}),
                "host": "127.0.0.1",
                "port": server.imap_port,
                "tls": "none",
                "username": user,
                "password": PASSWORD,
            }
        )
        self.stop = threading.Event()
        now = lambda: datetime.now(UTC)  # noqa: E731
        self.folder = ImapFolder(user, config, "INBOX", pipeline, self.store, self.stop, now)
        self.thread = threading.Thread(target=self.folder.run, daemon=True)
        self.thread.start()
        while not self.folder.connected:
            time.sleep(0.01)
        time.sleep(0.3)  # into IDLE

    def wait_for(self, count: int, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while self.store.count_tickets() < count:
            if time.monotonic() > deadline:
                raise SystemExit("timed out")
            time.sleep(0.005)

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.store.close()


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    with tempfile.TemporaryDirectory(prefix="triage-bench-") as scratch:
        root = Path(scratch)
        server = Dovecot(root / "dovecot")
        for user in ("bare@example.com", "ours@example.com", "idle@example.com"):
            server.add_user(user, PASSWORD)
        server.prepare()
        server.start()
        try:
            baseline = bare(server, "bare@example.com", count)
            running = Running(server, "ours@example.com", root / "ours")
            started = time.perf_counter()
            connection = client(server, "ours@example.com")
            for n in range(count):
                connection.append("INBOX", ticket(n))
            running.wait_for(count)
            ours = time.perf_counter() - started
            connection.logout()
            running.close()

            idle = Running(server, "idle@example.com", root / "idle")
            connection = client(server, "idle@example.com")
            latencies = []
            for n in range(30):
                started = time.perf_counter()
                connection.append("INBOX", ticket(10_000 + n))
                idle.wait_for(n + 1)
                latencies.append(time.perf_counter() - started)
                time.sleep(0.2)
            connection.logout()
            idle.close()
        finally:
            server.stop()
    print(f"{count} mails, local Dovecot")
    print(f"bare APPEND + BODY.PEEK[] fetch:      {count / baseline:7.0f} mails/s")
    print(f"APPEND -> committed, acknowledged:   {count / ours:7.0f} mails/s")
    print(f"ratio triage / bare fetch:           {ours / baseline:7.2f}x")
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    print(
        f"IDLE pickup latency (30 mails): median {statistics.median(latencies) * 1000:.0f} ms, "
        f"p95 {p95 * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
