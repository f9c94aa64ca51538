"""Crash safety: `triage run` killed with SIGKILL at ten random moments while tickets arrive
through the drop folder and a real Dovecot, then restarted: every input ends with exactly one
result and one acknowledgement, and the store passes an integrity check."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
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
from tests.dovecot import Dovecot, available, serving
from triage.ticket import input_id

pytestmark = pytest.mark.skipif(not available(), reason="dovecot and openssl are not installed")

USER, PASSWORD = "crash@example.com", "crash-test-pw"
FILES, MAILS, KILLS = 300, 200, 10

CONFIG = """\
[dropfolder]
settle_seconds = 0.0
rescan_seconds = 1.0

[imap]
enabled = true
host = "127.0.0.1"
port = {port}
tls = "none"
username = "{user}"
password = "{password}"
batch_size = 10
"""


@pytest.fixture
def dovecot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dovecot]:
    yield from serving(tmp_path_factory.mktemp("dovecot"), {USER: PASSWORD})


class Arrivals(threading.Thread):
    """Tickets arriving while the daemon is killed and restarted: files renamed into the
    inbox, mail APPENDed, interleaved, a few every few milliseconds."""

    def __init__(self, inbox: Path, dovecot: Dovecot) -> None:
        super().__init__(daemon=True)
        self.inbox, self.dovecot = inbox, dovecot
        self.names = [f"ticket-{n:04d}.eml" for n in range(FILES)]
        self.stop = threading.Event()

    def run(self) -> None:
        client = self.dovecot.login(USER)
        try:
            for n in range(max(FILES, MAILS)):
                if self.stop.is_set():
                    return
                if n < FILES:
                    temporary = self.inbox / f".{self.names[n]}.tmp"
                    temporary.write_text(
                        mail(f"Printer {n} jams", f"tray {n} on floor {n % 7}", f"f{n}@example.com")
                    )
                    temporary.rename(self.inbox / self.names[n])
                if n < MAILS:
                    client.append(
                        "INBOX",
                        mail(f"VPN {n} drops", f"error 809 at site {n}", f"m{n}@example.com"),
                    )
                time.sleep(0.05)
        finally:
            client.logout()


def test_sigkill_at_random_moments_loses_nothing_and_duplicates_nothing(tmp_path, dovecot):
    config = tmp_path / "config.toml"
    config.write_text(
        CONFIG.format(port=dovecot.imap_port, user=USER, password=PASSWORD) + NO_SCHEDULE
    )
    var = tmp_path / "var"
    inbox, processed, failed, outbox = (var / n for n in ("inbox", "processed", "failed", "outbox"))
    inbox.mkdir(parents=True)
    command = [*triage_command(), "--config", str(config), "run"]
    log = (tmp_path / "killed.log").open("wb")

    def start(notify: NotifySocket | None = None) -> subprocess.Popen[bytes]:
        env = child_env(NOTIFY_SOCKET=notify.path) if notify else child_env()
        return subprocess.Popen(command, stdout=log, stderr=log, cwd=tmp_path, env=env)

    arrivals = Arrivals(inbox, dovecot)
    arrivals.start()
    moments = random.Random(int(os.environ.get("TRIAGE_TEST_SEED", "20261125")))
    done_at_kill: list[int] = []
    pending_at_kill: list[int] = []
    try:
        for kill in range(KILLS):
            if kill % 2:  # from the start: start-up, recovery, the first batch
                daemon = start()
                time.sleep(moments.uniform(0.3, 2.5))
            else:  # once it runs: mid-batch, mid-commit, mid-acknowledgement
                notify = NotifySocket(tmp_path)
                daemon = start(notify)
                notify.wait_for("READY", "1", seconds=60)
                notify.close()
                Path(notify.path).unlink()
                time.sleep(moments.uniform(0.05, 1.0))
            assert daemon.poll() is None, "the daemon died on its own"
            daemon.send_signal(signal.SIGKILL)
            daemon.wait(timeout=10)
            done_at_kill.append(_count(processed))
            pending_at_kill.append(_count(inbox))
    except BaseException:
        arrivals.stop.set()  # a failure: stop what this test started, then report it
        daemon.kill()
        daemon.wait(timeout=10)
        raise
    finally:
        arrivals.join(timeout=60)
    assert not arrivals.is_alive()

    log.close()
    with daemon_running(tmp_path, config) as daemon:  # the last start, left to finish
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not _all_handled(inbox, dovecot):
            time.sleep(0.2)
    assert daemon.returncode == 0
    assert len(done_at_kill) == KILLS
    # The kills landed while work was going on: progress between most of them, and a backlog.
    print(f"files done at each kill: {done_at_kill}, waiting: {pending_at_kill}")
    assert len(set(done_at_kill)) >= 2 and max(pending_at_kill) > 0

    # Files: each acknowledged once (moved to processed/, no second copy), none left, none failed.
    assert sorted(p.name for p in processed.iterdir()) == sorted(arrivals.names)
    assert not list(inbox.iterdir()) and not (failed.exists() and list(failed.iterdir()))
    file_ids = {input_id(name, [(processed / name).read_bytes()]) for name in arrivals.names}
    # Mail: each marked once with the keyword, its id from the bytes the server serves.
    client = dovecot.login(USER)
    client.select_folder("INBOX", readonly=True)
    fetched = client.fetch(client.search("ALL"), ["FLAGS", "BODY.PEEK[]"])
    client.logout()
    assert len(fetched) == MAILS
    assert all(b"$Triaged" in data[b"FLAGS"] for data in fetched.values())
    mail_ids = {input_id("", [data[b"BODY[]"]]) for data in fetched.values()}

    db = sqlite3.connect(var / "triage.sqlite3")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = db.execute("SELECT id, status FROM tickets").fetchall()
    finally:
        db.close()
    ids = [row[0] for row in rows]
    assert len(ids) == len(set(ids)) == FILES + MAILS  # exactly one result per input
    assert set(ids) == file_ids | mail_ids
    assert {row[1] for row in rows} == {"triaged"}
    results = {p.stem: json.loads(p.read_text()) for p in outbox.glob("*.json")}
    assert set(results) == set(ids)  # every result published, each whole
    assert all(result["status"] == "triaged" for result in results.values())


def _count(folder: Path) -> int:
    return len(list(folder.iterdir())) if folder.exists() else 0


def _all_handled(inbox: Path, dovecot: Dovecot) -> bool:
    if any(inbox.iterdir()):
        return False
    return dovecot.count_marked(USER) == MAILS
