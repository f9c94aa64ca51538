"""`triage run` as a real process on a temp folder: drop files, read results, stop with SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import child_env, mail, triage_command


def wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


@pytest.mark.slow
def test_triage_run_triages_dropped_files_and_stops_cleanly_on_sigterm(tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text("[dropfolder]\nsettle_seconds = 0.3\n")
    inbox, processed, outbox = (
        tmp_path / "var" / name for name in ("inbox", "processed", "outbox")
    )
    inbox.mkdir(parents=True)
    (inbox / "early.eml").write_text(mail("VPN down", "AnyConnect says error 809"))
    daemon = subprocess.Popen(
        [*triage_command(), "--config", str(config), "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_env(),
        cwd=tmp_path,
    )
    try:
        wait_for(lambda: (processed / "early.eml").exists())
        (inbox / ".late.txt.tmp").write_text("Phishing mail received\nI clicked the link")
        (inbox / ".late.txt.tmp").rename(inbox / "late.txt")
        wait_for(lambda: (processed / "late.txt").exists())
        results = {
            r["subject"]: r for r in (json.loads(p.read_text()) for p in outbox.glob("*.json"))
        }
        assert results["VPN down"]["category"] == "vpn"
        assert results["Phishing mail received"]["risk"] == "high"
        assert all(r["source"] == "dropfolder" for r in results.values())
        # How fast it stops is a figure of bench/shutdown.py; here: that it stops, cleanly.
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=30) == 0
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
    stdout, stderr = daemon.communicate()
    assert stdout == b""  # the daemon's output is its logs, on stderr
    events = [
        json.loads(line)["event"] for line in stderr.decode().splitlines() if line.startswith("{")
    ]
    assert "daemon.started" in events and "daemon.stopped" in events
