"""Faults under a running daemon: `triage run` with the drop folder, IMAP, the local model,
Runpod and the paid API, while the IMAP server restarts, the paid API answers 429, 529, 500
and hangs, and Runpod jobs fail, time out and never finish. The daemon stays up, every ticket
is triaged by the next allowed tier, and the ledger books every attempt."""

from __future__ import annotations

import json
import sqlite3
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path

import pytest

from models.local import LocalModel
from models.prompt import load_prompt
from models.worker import make_handler
from tests.conftest import NO_SCHEDULE, daemon_running, mail
from tests.dovecot import Dovecot, available, serving
from tests.gguf_model import write_model
from tests.standins.anthropic_api import MessagesStandIn
from tests.standins.runpod_api import RunpodStandIn

pytestmark = pytest.mark.skipif(not available(), reason="dovecot and openssl are not installed")

USER, PASSWORD = "faults@example.com", "faults-pw"
PAID_FAULTS = ["429", "529", "500", "hang", "hang", "hang"]
RUNPOD_FAULTS = ["FAILED", "TIMED_OUT", "NEVER"]

CONFIG = """\
[dropfolder]
settle_seconds = 0.2
rescan_seconds = 1.0
[imap]
enabled = true
host = "127.0.0.1"
port = {port}
tls = "none"
username = "{user}"
password = "{password}"
batch_size = 5
[local]
enabled = true
model_path = "{model}"
n_ctx = 2048
max_tokens = 400
[routing]
runpod_backlog_seconds = 0.5
[runpod]
enabled = true
endpoint_id = "ep-test"
api_key = "rp-test-key"
base_url = "{runpod}"
batch_size = 4
timeout_seconds = 2.0
poll_seconds = 0.2
[paid]
enabled = true
api_key = "sk-ant-test-key"
base_url = "{paid}"
timeout_seconds = 1.0
max_attempts = 3
retry_cap_seconds = 0.2
[breaker]
failures = 10
"""


@pytest.fixture
def dovecot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dovecot]:
    yield from serving(tmp_path_factory.mktemp("dovecot"), {USER: PASSWORD})


@pytest.fixture
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_model(tmp_path_factory.mktemp("gguf") / "tiny.gguf")


@pytest.fixture
def paid() -> Iterator[MessagesStandIn]:
    stand_in = MessagesStandIn(script=deque(PAID_FAULTS), hang_seconds=3.0).start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def gpu(model_path: Path) -> Iterator[RunpodStandIn]:
    worker = LocalModel(model_path, load_prompt("triage"), n_ctx=8192, max_tokens=3000)
    stand_in = RunpodStandIn(make_handler(worker), script=deque(RUNPOD_FAULTS)).start()
    yield stand_in
    stand_in.stop()


def append(dovecot: Dovecot, subjects: list[str]) -> None:
    client = dovecot.login(USER)
    try:
        for subject in subjects:
            client.append("INBOX", mail(subject, f"{subject}: please have a look", USER))
    finally:
        client.logout()


def wait_for(condition, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def test_the_daemon_rides_out_every_fault_and_books_every_attempt(
    tmp_path, dovecot, model_path, paid, gpu
):
    config = tmp_path / "config.toml"
    config.write_text(
        NO_SCHEDULE
        + CONFIG.format(
            port=dovecot.imap_port,
            user=USER,
            password=PASSWORD,
            model=model_path,
            runpod=gpu.base_url,
            paid=paid.base_url,
        )
    )
    inbox = tmp_path / "var" / "inbox"
    inbox.mkdir(parents=True)
    # High risk, for the paid tier: phishing reports.
    phishing = {
        f"phish{n}.txt": f"Phishing mail {n}\n\nI clicked the link in mail {n}, typed my password."
        for n in range(4)
    }
    # Public and low risk, a backlog for Runpod (three jobs of four).
    backlog = {
        f"printer{n}.txt": f"Printer {n} jams\n\nThe printer in room {n} jams on every page."
        for n in range(12)
    }
    for name, text in {**phishing, **backlog}.items():
        (inbox / f".{name}.tmp").write_text(text)
        (inbox / f".{name}.tmp").rename(inbox / name)
    append(dovecot, [f"Outlook question {n}" for n in range(5)])

    with daemon_running(tmp_path, config) as daemon:
        wait_for(lambda: dovecot.count_marked(USER) == 5)
        dovecot.restart()  # the IMAP server goes away under the running daemon
        append(dovecot, [f"Teams question {n}" for n in range(5)])
        wait_for(lambda: dovecot.count_marked(USER) == 10 and not any(inbox.iterdir()), timeout=180)
        assert daemon.poll() is None  # still up
    assert daemon.returncode == 0

    results = {
        p.stem: json.loads(p.read_text()) for p in (tmp_path / "var" / "outbox").glob("*.json")
    }
    assert len(results) == len(phishing) + len(backlog) + 10
    assert {r["status"] for r in results.values()} == {"triaged"}
    by_subject = {r["subject"]: r for r in results.values()}

    # Paid: every fault was met and every attempt is in the ledger; no high-risk ticket lost
    # its risk, and those the paid tier could not answer say so.
    assert not paid.script  # 429, 529, 500 and the hangs were all served
    db = sqlite3.connect(tmp_path / "var" / "triage.sqlite3")
    try:
        ledger = db.execute("SELECT tier, outcome, ticket_id FROM ledger").fetchall()
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()
    paid_rows = [row for row in ledger if row[0] == "paid"]
    assert len(paid_rows) == len(paid.messages())
    assert {"ok"} < {row[1] for row in paid_rows}  # failures booked beside the successes
    for n in range(len(phishing)):
        result = by_subject[f"Phishing mail {n}"]
        assert result["risk"] == "high"
        assert result["escalation"] is not None or any(
            "paid" in note for note in result["needs_review"]
        )

    # Runpod: jobs failed, timed out and never finished (cancelled); their tickets went to the
    # local tier next (whose answer stands, or the rules' with a note), and every job's
    # tickets are booked.
    assert not gpu.script and len(gpu.requests) >= 3 and gpu.cancelled
    runpod_outcomes = {row[1] for row in ledger if row[0] == "runpod"}
    assert {"runpod failed", "runpod timed_out"} <= runpod_outcomes
    failed_over = set()
    for ticket_id, result in results.items():
        tried = [(a["tier"], a["ok"]) for a in result["route"]["attempts"]]
        if ("runpod", False) in tried:
            failed_over.add(ticket_id)
            assert tried[tried.index(("runpod", False)) + 1][0] == "local"  # the next tier
            assert result["route"]["tier"] in ("local", "paid") or result["needs_review"]
    booked_failed = {row[2] for row in ledger if row[0] == "runpod" and row[1] != "ok"}
    assert booked_failed == failed_over and len(failed_over) >= len(RUNPOD_FAULTS)
    sent = {
        i for i, r in results.items() if any(a["tier"] == "runpod" for a in r["route"]["attempts"])
    }
    assert {row[2] for row in ledger if row[0] == "runpod"} == sent  # each booked, none extra
    assert all(f"Printer {n} jams" in by_subject for n in range(len(backlog)))

    # IMAP: every mail, before and after the restart, has its result.
    for subject in [f"Outlook question {n}" for n in range(5)] + [
        f"Teams question {n}" for n in range(5)
    ]:
        assert subject in by_subject
