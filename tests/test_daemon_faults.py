"""`triage run` as a real process meeting an admin's mistakes: SIGHUP while it starts, a
folder it cannot make (intake stalls: the watchdog pings stop, STATUS= and `check` say so),
the store deleted or replaced under it, and a store missing at start while results exist."""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from tests.conftest import NO_SCHEDULE, NotifySocket, child_env, mail, triage_command
from tests.test_e2e_run import wait_for
from triage.runtime.daemon import Daemon
from triage.runtime.notify import Notifier

CONFIG = "[dropfolder]\nsettle_seconds = 0.0\nrescan_seconds = 0.5\n" + NO_SCHEDULE


@contextlib.contextmanager
def launched(
    tmp_path: Path, config: Path, *extra: str, command: Sequence[str] = (), **env: str
) -> Iterator[tuple[subprocess.Popen[bytes], NotifySocket]]:
    """`triage run` with a notify socket, its stderr in tmp_path/daemon.log; killed at the
    end of the block if the test left it running."""
    notify = NotifySocket(tmp_path)
    with (tmp_path / "daemon.log").open("ab") as log:
        daemon = subprocess.Popen(
            [*(command or triage_command()), "--config", str(config), "run", *extra],
            cwd=tmp_path,
            env=child_env(NOTIFY_SOCKET=notify.path, **env),
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    try:
        yield daemon, notify
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        notify.close()


def triage(config: Path, cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """A `triage` command run to its end, its output as text."""
    return subprocess.run(
        [*triage_command(), "--config", str(config), *args],
        cwd=cwd,
        env=child_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def drop(inbox: Path, name: str, text: str) -> None:
    (inbox / f".{name}.tmp").write_text(text)
    (inbox / f".{name}.tmp").rename(inbox / name)


def stopped_cleanly(daemon: subprocess.Popen[bytes]) -> bool:
    daemon.send_signal(signal.SIGTERM)
    return daemon.wait(timeout=30) == 0


def handles_sighup(pid: int) -> bool:
    """SIGHUP (signal 1) is caught or ignored: /proc says so from the moment it is."""
    fields = dict(
        line.split(":\t", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return bool((int(fields["SigCgt"], 16) | int(fields["SigIgn"], 16)) & 1)


@pytest.mark.slow
def test_sighup_all_through_start_up_never_kills_the_daemon(tmp_path):
    from tests.gguf_model import write_model

    model = write_model(tmp_path / "tiny.gguf")  # loading a model widens the window
    config = tmp_path / "config.toml"
    config.write_text(CONFIG + f'[local]\nenabled = true\nmodel_path = "{model}"\nn_ctx = 512\n')
    sent = 0
    entry = [sys.executable, "-m", "triage"]  # through the entry point, as installed
    with launched(tmp_path, config, command=entry) as (daemon, notify):
        wait_for(lambda: daemon.poll() is not None or handles_sighup(daemon.pid), timeout=30)
        notify.sock.settimeout(0.002)
        while not any(m.get("READY") == "1" for m in notify.messages):
            assert daemon.poll() is None, f"killed by SIGHUP number {sent}"
            daemon.send_signal(signal.SIGHUP)
            sent += 1
            notify.read(0.004)
        notify.sock.settimeout(0.2)
        assert daemon.poll() is None
        notify.wait_for("READY", "1")
        notify.wait_for("RELOADING", "1")  # the reload asked for while starting, done once ready
        notify.wait_for("READY", "1")
        assert stopped_cleanly(daemon)
    assert sent > 10
    assert "config.reloaded" in (tmp_path / "daemon.log").read_text()


@pytest.mark.slow
def test_intake_that_makes_no_progress_stops_the_watchdog_and_shows_in_status_and_check(
    tmp_path,
):
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    inbox, processed = tmp_path / "var" / "inbox", tmp_path / "var" / "processed"
    with launched(tmp_path, config, WATCHDOG_USEC="2000000") as (daemon, notify):
        notify.wait_for("READY", "1", seconds=60)
        drop(inbox, "ok.eml", mail("VPN down", "error 809"))
        wait_for(lambda: (processed / "ok.eml").exists())
        shutil.rmtree(processed)
        processed.write_text("a file where processed/ was")  # cannot be made again
        drop(inbox, "stuck.eml", mail("Printer", "jams on floor 2"))
        status = notify.wait_for("STATUS", seconds=30)
        while "STALLED" not in status["STATUS"]:
            status = notify.wait_for("STATUS", seconds=30)
        assert "dropfolder" in status["STATUS"] and "processed" in status["STATUS"]
        seen = len(notify.messages)
        notify.read(3.0)  # more than the 2 s watchdog interval
        assert not any(m.get("WATCHDOG") == "1" for m in notify.messages[seen:])
        check = triage(config, tmp_path, "check")
        assert check.returncode == 1
        assert f"FAIL daemon: pid {daemon.pid}: STALLED" in check.stdout
        processed.unlink()  # fixed: the file moves on, the pings come back
        wait_for(lambda: (processed / "stuck.eml").exists(), timeout=30)
        seen = len(notify.messages)
        notify.read(3.0)
        assert any(m.get("WATCHDOG") == "1" for m in notify.messages[seen:])
        assert stopped_cleanly(daemon)
    log = (tmp_path / "daemon.log").read_text()
    assert log.count("dropfolder.folder_unusable") == 1  # said once, not a storm


@pytest.mark.slow
@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_a_store_deleted_or_replaced_under_the_daemon_stops_it_with_an_error(tmp_path, how):
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    var = tmp_path / "var"
    store = var / "triage.sqlite3"
    with launched(tmp_path, config) as (daemon, notify):
        notify.wait_for("READY", "1", seconds=60)
        drop(var / "inbox", "a.eml", mail("VPN down", "error 809"))
        wait_for(lambda: (var / "processed" / "a.eml").exists())
        if how == "deleted":
            store.unlink()
        else:
            shutil.copy(store, var / "other.sqlite3")
            (var / "other.sqlite3").replace(store)
        drop(var / "inbox", "b.eml", mail("Printer", "jams on floor 2"))
        assert daemon.wait(timeout=30) == 1
    log = (tmp_path / "daemon.log").read_text()
    assert "daemon.cannot_go_on" in log and f"was {how}" in log
    assert not (var / "processed" / "b.eml").exists()  # never acknowledged into a lost store


@pytest.mark.slow
def test_a_missing_store_with_results_in_the_outbox_is_refused_unless_asked_for(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    var = tmp_path / "var"
    folder = tmp_path / "tickets"
    folder.mkdir()
    (folder / "a.eml").write_text(mail("VPN down", "error 809"))
    assert triage(config, tmp_path, "process", str(folder)).returncode == 0
    for name in ("triage.sqlite3", "triage.sqlite3-wal", "triage.sqlite3-shm"):
        (var / name).unlink(missing_ok=True)
    refused = triage(config, tmp_path, "run")
    assert refused.returncode == 78
    assert "store is missing" in refused.stderr and "--new-store" in refused.stderr
    assert not (var / "triage.sqlite3").exists()
    again = triage(config, tmp_path, "process", str(folder))
    assert again.returncode == 78 and not (var / "triage.sqlite3").exists()
    with launched(tmp_path, config, "--new-store") as (daemon, notify):
        notify.wait_for("READY", "1", seconds=60)
        assert stopped_cleanly(daemon)
    assert (var / "triage.sqlite3").exists()


class Stuck:
    """A connector whose loop turns while its input waits without progress."""

    name = "dropfolder"

    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop
        self.last_activity = time.monotonic()
        self.waiting_since: float | None = None

    def fault(self) -> str | None:
        return "cannot move files to processed/" if self.waiting_since else None

    def run(self) -> None:
        while not self.stop.wait(0.05):
            self.last_activity = time.monotonic()


def test_input_waiting_without_progress_stops_the_pings_and_heads_the_status(tmp_path):
    notify = NotifySocket(tmp_path)
    stop = threading.Event()
    stuck = Stuck(stop)
    published: list[str] = []
    notifier = Notifier({"NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "400000"})
    daemon = Daemon([stuck], stop, lambda: None, notifier=notifier, publish=published.append)
    thread = threading.Thread(target=daemon.run, kwargs={"install_signals": False})
    thread.start()
    try:
        notify.read(1.0)
        assert any(m.get("WATCHDOG") == "1" for m in notify.messages)
        stuck.waiting_since = time.monotonic()
        notify.read(0.8)  # the interval passes
        seen = len(notify.messages)
        notify.read(1.0)
        assert not any(m.get("WATCHDOG") == "1" for m in notify.messages[seen:])
        lines = daemon.stalls(0.4)
        assert lines and lines[0].startswith("dropfolder: input waiting")
        assert "cannot move files to processed/" in lines[0]
        stuck.waiting_since = None  # progress again: the pings come back
        seen = len(notify.messages)
        notify.read(1.0)
        assert any(m.get("WATCHDOG") == "1" for m in notify.messages[seen:])
    finally:
        stop.set()
        thread.join(timeout=10)
        notify.close()
    assert published  # each status line is published for `triage check`


def test_a_failed_health_check_stops_the_daemon_with_exit_1():
    stop = threading.Event()
    problems = iter([None, None, "the store was deleted"])
    daemon = Daemon([], stop, lambda: None, health=lambda: next(problems, "gone"))
    assert daemon.run(install_signals=False) == 1
