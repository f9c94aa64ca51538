"""kill -9 between commit and delivery: `triage run` relays dropped mail to a real SMTP server
(aiosmtpd on 127.0.0.1) and is SIGKILLed at five random moments while files arrive, then
restarted. Every result is delivered, under one stable Resent-Message-ID each; a resend can
only be a delivery the server accepted and the sender had not yet marked (at most DONE_BATCH
per kill), and it carries the same Resent-Message-ID, so the helpdesk drops it."""

from __future__ import annotations

import email
import random
import signal
import sqlite3
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import (
    NO_SCHEDULE,
    NotifySocket,
    child_env,
    daemon_running,
    mail,
    triage_command,
)
from tests.servers import Inbox, smtp_server
from triage.delivery.sender import DONE_BATCH

FILES, KILLS = 200, 5

pytestmark = pytest.mark.slow


class Arrivals(threading.Thread):
    """Files renamed into the inbox, one every few milliseconds."""

    def __init__(self, inbox: Path) -> None:
        super().__init__(daemon=True)
        self.inbox = inbox
        self.stop = threading.Event()

    def run(self) -> None:
        for n in range(FILES):
            if self.stop.is_set():
                return
            temporary = self.inbox / f".ticket-{n:04d}.eml.tmp"
            temporary.write_text(mail(f"Printer {n} jams", f"tray {n}", f"p{n}@example.com"))
            temporary.rename(self.inbox / f"ticket-{n:04d}.eml")
            time.sleep(0.06)  # over ~12 s: the kills land mid-stream


def delivered(store: Path) -> int:
    if not store.exists():
        return 0
    db = sqlite3.connect(store)
    try:
        return int(db.execute("SELECT count(*) FROM deliveries WHERE state = 'done'").fetchone()[0])
    except sqlite3.OperationalError:  # not created yet
        return 0
    finally:
        db.close()


def test_kill_9_between_commit_and_delivery_loses_nothing_and_resends_nothing_new(tmp_path):
    inbox = Inbox()
    moments = random.Random(15)
    store = tmp_path / "var" / "triage.sqlite3"
    (tmp_path / "var" / "inbox").mkdir(parents=True)
    with smtp_server(inbox) as server:
        config = tmp_path / "config.toml"
        config.write_text(
            "[dropfolder]\nsettle_seconds = 0.0\nrescan_seconds = 1.0\n"
            f"[relay]\nenabled = true\nhost = '127.0.0.1'\nport = {server.port}\ntls = 'none'\n"
            "default_to = 'helpdesk@example.org'\nretry_cap_seconds = 1\n" + NO_SCHEDULE
        )
        arrivals = Arrivals(tmp_path / "var" / "inbox")
        arrivals.start()
        delivered_at_kill = []
        with (tmp_path / "killed.log").open("wb") as log:
            for _ in range(KILLS):
                notify = NotifySocket(tmp_path)
                daemon = subprocess.Popen(
                    [*triage_command(), "--config", str(config), "run"],
                    cwd=tmp_path,
                    env=child_env(NOTIFY_SOCKET=notify.path),
                    stdout=log,
                    stderr=log,
                )
                try:
                    notify.wait_for("READY", "1", seconds=60)
                    time.sleep(moments.uniform(0.1, 1.2))
                    assert daemon.poll() is None, "the daemon died on its own"
                finally:
                    daemon.send_signal(signal.SIGKILL)
                    daemon.wait(timeout=10)
                    notify.close()
                    Path(notify.path).unlink()
                delivered_at_kill.append(delivered(store))
        arrivals.join(timeout=60)
        with daemon_running(tmp_path, config) as daemon:  # the last start, left to finish
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and delivered(store) < FILES:
                time.sleep(0.2)
    assert daemon.returncode == 0
    # The kills landed while work was going on.
    assert len(set(delivered_at_kill)) >= 2 and min(delivered_at_kill) < FILES
    ids = Counter(
        email.message_from_bytes(content)["Resent-Message-ID"] for _, _, content in inbox.messages
    )
    print(f"delivered at each kill: {delivered_at_kill}, resent: {sum(ids.values()) - FILES}")
    assert len(ids) == FILES  # every result delivered
    # A resend: only what was accepted and not yet marked at a kill, under the same id.
    assert sum(ids.values()) - FILES <= KILLS * DONE_BATCH
    db = sqlite3.connect(store)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT count(*) FROM tickets").fetchone()[0] == FILES
        states = db.execute("SELECT state, count(*) FROM deliveries GROUP BY state").fetchall()
    finally:
        db.close()
    assert states == [("done", FILES)]
