"""kill -9 between commit and delivery: the relaying process is SIGKILLed at five random
moments while it commits results and sends their mail, then restarted. Every result is
delivered, under one stable Resent-Message-ID each; a resend can only be a delivery the
server accepted and the sender had not yet marked (at most DONE_BATCH per kill), and it
carries the same Resent-Message-ID, so the helpdesk drops it."""

from __future__ import annotations

import email
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter

from tests.conftest import REPO, child_env
from tests.servers import Inbox, smtp_server
from triage.delivery.sender import DONE_BATCH
from triage.store import SqliteStore

COUNT, KILLS = 400, 5


def test_kill_9_between_commit_and_delivery_loses_nothing_and_resends_nothing_new(tmp_path):
    inbox = Inbox()
    rng = random.Random(15)
    with smtp_server(inbox) as server:
        config = tmp_path / "config.toml"
        config.write_text(
            f"[relay]\nenabled = true\nhost = '127.0.0.1'\nport = {server.port}\ntls = 'none'\n"
            "default_to = 'helpdesk@example.org'\nretry_cap_seconds = 1\n"
        )
        command = [sys.executable, "-m", "tests.delivery_child", str(config), str(COUNT)]
        env = child_env(PYTHONPATH=str(REPO))
        kills = 0
        while kills < KILLS:
            child = subprocess.Popen(command, cwd=tmp_path, env=env, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.4, 1.2))
            if child.poll() is not None:
                break  # finished before this kill: no work left to interrupt
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
            kills += 1
        final = subprocess.run(command, cwd=tmp_path, env=env, timeout=120, capture_output=True)
        assert final.returncode == 0, final.stderr.decode()[-2000:]
    assert kills == KILLS, "the child finished before every kill: raise COUNT"
    ids = Counter(
        email.message_from_bytes(content)["Resent-Message-ID"] for _, _, content in inbox.messages
    )
    assert len(ids) == COUNT  # every result delivered
    # A resend: only what was accepted and not yet marked at a kill, under the same id.
    assert sum(ids.values()) - COUNT <= KILLS * DONE_BATCH
    store = SqliteStore(tmp_path / "var" / "triage.sqlite3")
    try:
        assert store.count_tickets() == COUNT
        assert store.query("SELECT state, count(*) FROM deliveries GROUP BY state") == [
            ("done", COUNT)
        ]
        assert store.integrity_check() == "ok"
    finally:
        store.close()
