"""IMAP intake that stalls, against a real Dovecot: mail waiting with none of it acknowledged
stops the watchdog pings and shows in STATUS= and `triage check`, through failed commits and
lost connections alike; a mailbox where nothing waits never stalls."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator

import pytest
import structlog

from tests.conftest import NO_SCHEDULE, NotifySocket, fill_disk, free_disk, mail
from tests.dovecot import Dovecot, available, serving
from tests.test_daemon_faults import launched, stopped_cleanly, triage
from tests.test_imap import PASSWORD, Watcher, account, append, flags, wait_for
from triage.runtime.daemon import Daemon
from triage.runtime.notify import Notifier

pytestmark = pytest.mark.skipif(not available(), reason="dovecot and openssl are not installed")

USERS = [f"stall{n}@example.com" for n in range(5)]


@pytest.fixture(scope="module")
def dovecot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dovecot]:
    yield from serving(tmp_path_factory.mktemp("dovecot"), dict.fromkeys(USERS, PASSWORD))


@pytest.fixture
def up(dovecot: Dovecot) -> Iterator[Dovecot]:
    """The server, started again at the end if the test stopped it."""
    yield dovecot
    if dovecot.process is None:
        dovecot.start()


def pings(notify: NotifySocket, since: int) -> int:
    return sum(m.get("WATCHDOG") == "1" for m in notify.messages[since:])


def stalled_status(notify: NotifySocket, seconds: float = 60.0) -> str:
    """The first STATUS= line that says STALLED, within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status = notify.wait_for("STATUS", seconds=max(0.1, deadline - time.monotonic()))
        if "STALLED" in status["STATUS"]:
            return status["STATUS"]
    raise AssertionError("no STATUS= line said STALLED in time")


@pytest.mark.slow
def test_mail_that_cannot_be_acknowledged_stops_the_pings_and_shows_in_status_and_check(
    up, tmp_path
):
    user = USERS[0]
    config = tmp_path / "config.toml"
    config.write_text(
        "[dropfolder]\nenabled = false\n"
        + NO_SCHEDULE
        + f'[imap]\nenabled = true\nhost = "127.0.0.1"\nport = {up.imap_port}\ntls = "none"\n'
        f'username = "{user}"\npassword = "{PASSWORD}"\n'
    )
    outbox = tmp_path / "var" / "outbox"
    with launched(tmp_path, config, WATCHDOG_USEC="2000000") as (daemon, notify):
        notify.wait_for("READY", "1", seconds=60)
        append(up, user, [mail("VPN down", "error 809", message_id="<ok@x>").encode()])
        wait_for(lambda: up.count_marked(user) == 1, timeout=30)
        shutil.rmtree(outbox)
        outbox.write_text("a file where the outbox was")  # results cannot be published
        append(up, user, [mail("Printer", "jams on floor 2", message_id="<stuck@x>").encode()])
        line = stalled_status(notify)
        assert line.startswith(f"STALLED: imap:{user}/INBOX: input waiting")
        assert "1 mail waiting in INBOX" in line and "cannot write the outbox file" in line
        assert "| 1 waiting" in line  # the status line counts the mail known to wait
        seen = len(notify.messages)
        notify.read(3.0)  # more than the 2 s watchdog interval
        assert pings(notify, seen) == 0
        check = triage(config, tmp_path, "check")
        assert check.returncode == 1
        assert f"FAIL daemon: pid {daemon.pid}: STALLED: imap:{user}/INBOX" in check.stdout
        assert up.count_marked(user) == 1  # never acknowledged while its result is not out
        outbox.unlink()  # fixed: the mail is acknowledged at the next try, the pings come back
        wait_for(lambda: up.count_marked(user) == 2, timeout=30)
        seen = len(notify.messages)
        notify.read(3.0)
        assert pings(notify, seen) > 0
        assert stopped_cleanly(daemon)
    log = (tmp_path / "daemon.log").read_text()
    assert log.count("daemon.intake_stalled") == 1 and "daemon.intake_moves_again" in log


def test_mail_known_to_wait_stays_a_stall_while_the_server_is_gone_and_says_why(up, tmp_path):
    user = USERS[1]
    append(up, user, [mail(f"VPN {n}", f"down at site {n}").encode() for n in range(12)])
    watcher = Watcher(tmp_path, account(up, user))
    folder = watcher.folder
    daemon = Daemon([folder], threading.Event(), lambda: None)  # only read, never run
    fill_disk(watcher.store)  # room for a few tickets, no more
    with watcher:
        wait_for(lambda: "disk is full" in (folder.fault() or ""))
        since = folder.waiting_since
        assert since is not None and folder.pending() == 12 - watcher.count() > 0
        [line] = daemon.stalls(0.0)
        assert line.startswith(f"imap:{user}/INBOX: input waiting, none acknowledged")
        assert f"{folder.pending()} mails waiting in INBOX" in line
        up.stop()  # now the connection fails too: the mail still waits
        wait_for(lambda: "session failed: ConnectionRefused" in (folder.fault() or ""), timeout=30)
        assert folder.waiting_since == since and daemon.stalls(0.0)
        free_disk(watcher.store)
        up.start()
        wait_for(lambda: all(b"$Triaged" in f for f in flags(up, user).values()), timeout=60)
        wait_for(lambda: folder.waiting_since is None)
        assert folder.fault() is None and folder.pending() == 0 and daemon.stalls(0.0) == []
        assert watcher.count() == 12


def test_an_idle_mailbox_never_stalls_even_while_its_server_is_gone(up, tmp_path):
    user = USERS[2]
    watcher = Watcher(tmp_path, account(up, user))
    notify = NotifySocket(tmp_path)
    notifier = Notifier({"NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "2000000"})
    published: list[str] = []
    daemon = Daemon(
        [watcher.folder], watcher.stop, lambda: None, notifier=notifier, publish=published.append
    )
    thread = threading.Thread(target=daemon.run, kwargs={"install_signals": False})
    try:
        with structlog.testing.capture_logs() as logs:
            thread.start()
            notify.wait_for("READY", "1")
            wait_for(lambda: watcher.folder.connected)
            append(up, user, [mail("VPN down", "error 809").encode()])  # arrives, is triaged
            wait_for(lambda: all(b"$Triaged" in f for f in flags(up, user).values()))
            up.stop()
            seen = len(notify.messages)
            notify.read(4.0)  # twice the 2 s stall limit with the server gone, nothing waiting
            assert pings(notify, seen) > 0
            assert not watcher.folder.connected and watcher.folder.pending() == 0
            up.start()
            wait_for(lambda: watcher.folder.connected, timeout=30)
            seen = len(notify.messages)
            notify.read(2.0)
            assert pings(notify, seen) > 0
    finally:
        watcher.stop.set()
        thread.join(timeout=15)
        watcher.store.close()
        notify.close()
    assert not thread.is_alive()
    assert watcher.folder.waiting_since is None and daemon.stalls(0.0) == []
    assert not [e for e in logs if e["event"] in ("daemon.intake_stalled", "daemon.loop_stalled")]
    assert any(e["event"] == "imap.disconnected" for e in logs)  # the server was gone indeed
    assert published and not any("STALLED" in text for text in published)


def test_the_same_mail_twice_in_the_folder_is_one_ticket_and_both_are_acknowledged(up, tmp_path):
    user = USERS[3]
    twice = mail("VPN down", "error 809", message_id="<twice@x>").encode()
    append(up, user, [twice, twice])
    with Watcher(tmp_path, account(up, user)) as watcher:
        wait_for(lambda: all(b"$Triaged" in f for f in flags(up, user).values()))
        assert len(flags(up, user)) == 2 and watcher.count() == 1
        assert watcher.folder.waiting_since is None and watcher.folder.pending() == 0
