"""Running under systemd: the units, the notify protocol on a real datagram socket, reload on
SIGHUP with a good and a broken config, and a clean stop under load."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, NotifySocket, child_env, mail, triage_command
from triage.runtime.daemon import Daemon
from triage.runtime.notify import Notifier

UNITS = REPO / "systemd"
needs_systemd = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed"
)


def unit_for_analysis(tmp_path: Path) -> Path:
    """The shipped unit, with ExecStart pointing at a binary that exists on this machine."""
    text = (UNITS / "triage.service").read_text()
    copy = tmp_path / "triage.service"
    copy.write_text(text.replace("/opt/triage/venv/bin/triage", triage_command()[0]))
    return copy


@needs_systemd
def test_systemd_analyze_verify_finds_nothing_to_complain_about(tmp_path):
    done = subprocess.run(
        ["systemd-analyze", "verify", "--recursive-errors=no", str(unit_for_analysis(tmp_path))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and done.stderr.strip() == "", done.stderr


@needs_systemd
def test_the_unit_is_hardened_to_an_exposure_of_at_most_2(tmp_path):
    done = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", str(unit_for_analysis(tmp_path))],
        capture_output=True,
        text=True,
        check=False,
    )
    exposure = float(re.search(r"Overall exposure level for .*: (\d+\.\d+)", done.stdout)[1])
    assert exposure <= 2.0, done.stdout[-2000:]


def test_the_unit_keeps_what_the_admin_relies_on():
    unit = (UNITS / "triage.service").read_text()
    for line in (
        "Type=notify",
        "RestartPreventExitStatus=78",
        "Restart=on-failure",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "StateDirectory=triage",
        "ConfigurationDirectory=triage",
        "LogsDirectory=triage",
        "User=triage",
        "LoadCredential=imap__password:",
        "LoadCredential=paid__api_key:",
        "LoadCredential=runpod__api_key:",
        "StartLimitBurst=",
        "WatchdogSec=",
    ):
        assert line in unit
    assert "u triage" in (UNITS / "triage.sysusers.conf").read_text()
    assert "/var/lib/triage/inbox      2770" in (UNITS / "triage.tmpfiles.conf").read_text()


@pytest.mark.slow
def test_the_notify_protocol_ready_watchdog_status_reload_and_stopping(tmp_path):
    notify = NotifySocket(tmp_path)
    config = tmp_path / "config.toml"
    config.write_text("[dropfolder]\nsettle_seconds = 0.2\n")
    env = child_env(NOTIFY_SOCKET=notify.path, WATCHDOG_USEC="2000000")
    daemon = subprocess.Popen(
        [*triage_command(), "--config", str(config), "run"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    try:
        ready = notify.wait_for("READY", "1")
        assert "tickets today" in ready["STATUS"] and "waiting" in ready["STATUS"]
        started = len(notify.messages)
        notify.read(3.0)
        pings = [m for m in notify.messages[started:] if m.get("WATCHDOG") == "1"]
        assert len(pings) >= 2  # every second: half the 2 s interval

        config.write_text(
            '[dropfolder]\nsettle_seconds = 0.2\n[[rules]]\nname = "x"\n'
            'match = ["kaffee"]\ncategory = "hardware"\n'
        )
        daemon.send_signal(signal.SIGHUP)
        notify.wait_for("RELOADING", "1")
        notify.wait_for("READY", "1")

        config.write_text("[dropfolder]\nsettle_secnds = 1\n")  # broken: refused, old one stays
        daemon.send_signal(signal.SIGHUP)
        notify.wait_for("RELOADING", "1")
        notify.wait_for("READY", "1")
        assert daemon.poll() is None

        daemon.send_signal(signal.SIGTERM)
        notify.wait_for("STOPPING", "1")
        assert daemon.wait(timeout=15) == 0
    finally:
        if daemon.poll() is None:
            daemon.kill()
        notify.close()
    events = [
        json.loads(line)
        for line in daemon.stderr.read().decode().splitlines()
        if line.startswith("{")
    ]
    daemon.stderr.close()
    reloaded = [e for e in events if e["event"] == "config.reloaded"]
    refused = [e for e in events if e["event"] == "config.reload_refused"]
    assert len(reloaded) == 1 and len(refused) == 1
    assert "settle_secnds" in refused[0]["error"]


class Loop:
    """A connector whose loop turns until told to hang."""

    def __init__(self, name: str, stop: threading.Event) -> None:
        self.name, self.stop, self.hung = name, stop, False
        self.last_activity = time.monotonic()

    def run(self) -> None:
        while not self.stop.wait(0.05):
            if not self.hung:
                self.last_activity = time.monotonic()


def test_watchdog_pings_stop_when_a_loop_hangs(tmp_path):
    notify = NotifySocket(tmp_path)
    stop = threading.Event()
    healthy, stuck = Loop("dropfolder", stop), Loop("imap:a/INBOX", stop)
    notifier = Notifier({"NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "400000"})
    daemon = Daemon([healthy, stuck], stop, lambda: None, notifier=notifier)
    thread = threading.Thread(target=daemon.run, kwargs={"install_signals": False})
    thread.start()
    try:
        notify.read(1.0)
        assert any(m.get("WATCHDOG") == "1" for m in notify.messages)
        stuck.hung = True
        notify.read(0.8)  # the interval passes: pings sent before the hang showed are drained
        seen = len(notify.messages)
        notify.read(1.0)
        assert not any(m.get("WATCHDOG") == "1" for m in notify.messages[seen:])
    finally:
        stop.set()
        thread.join(timeout=10)
        notify.read(0.3)
        notify.close()
    assert any(m.get("STOPPING") == "1" for m in notify.messages)


def test_without_systemd_the_notifier_does_nothing():
    notifier = Notifier({})
    assert not notifier.enabled and notifier.watchdog_interval is None
    notifier.ready("x")  # no socket, no error


@pytest.mark.slow
def test_a_clean_stop_under_load_loses_nothing_and_the_rest_follows_at_restart(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[dropfolder]\nsettle_seconds = 0.0\n")
    inbox = tmp_path / "var" / "inbox"
    inbox.mkdir(parents=True)
    names = [f"t{n:04d}.eml" for n in range(1000)]
    for n, name in enumerate(names):
        (inbox / name).write_text(
            mail(f"Printer {n}", f"jams on floor {n}", sender=f"user{n}@example.com")
        )
    command = [*triage_command(), "--config", str(config), "run"]
    processed, outbox = tmp_path / "var" / "processed", tmp_path / "var" / "outbox"

    def start() -> tuple[subprocess.Popen[bytes], NotifySocket]:
        notify = NotifySocket(tmp_path)
        process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=tmp_path,
            env=child_env(NOTIFY_SOCKET=notify.path),
        )
        notify.wait_for("READY", "1")
        return process, notify

    daemon, notify = start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(list(processed.glob("*.eml"))) < 50:
        time.sleep(0.01)
    daemon.send_signal(signal.SIGTERM)  # in the middle of the backlog
    assert daemon.wait(timeout=30) == 0
    notify.wait_for("STOPPING", "1")
    notify.close()
    Path(notify.path).unlink()
    done = {p.name for p in processed.glob("*.eml")}
    left = {p.name for p in inbox.glob("*.eml")}
    assert 50 <= len(done) < len(names)
    assert done | left == set(names) and not done & left  # nothing lost, nothing in two places
    assert len(list(outbox.glob("*.json"))) >= len(done)  # every moved file has its result

    daemon, notify = start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and list(inbox.glob("*.eml")):
        time.sleep(0.1)
    daemon.send_signal(signal.SIGTERM)
    assert daemon.wait(timeout=30) == 0
    notify.close()
    assert {p.name for p in processed.glob("*.eml")} == set(names)
    assert len(list(outbox.glob("*.json"))) == len(names)
    assert os.stat(next(outbox.glob("*.json"))).st_mode & 0o007 == 0  # not world-readable
