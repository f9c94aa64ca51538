"""The IMAP connector against a real Dovecot on 127.0.0.1 (plain, STARTTLS and IMAPS)."""

from __future__ import annotations

import itertools
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import structlog
from imapclient import IMAPClient

from connectors.imap import ImapFolder
from tests.conftest import FirstCommitFails, FixedClock, fill_disk, free_disk, mail
from tests.dovecot import Dovecot, available, jwt_for
from triage.checks import run_checks
from triage.compose import build_pipeline
from triage.config import LoadedSettings, load_settings
from triage.config_sections import ImapAccountConfig
from triage.outbox import Outbox
from triage.pipeline import Pipeline
from triage.store import SqliteStore
from triage.ticket import input_id

pytestmark = pytest.mark.skipif(not available(), reason="dovecot and openssl are not installed")

PASSWORD = "s3cret-imap-pw"
USERS = [f"desk{n}@example.com" for n in range(40)]
_next_user = itertools.count()


@pytest.fixture(scope="module")
def dovecot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dovecot]:
    server = Dovecot(tmp_path_factory.mktemp("dovecot"))
    for user in USERS:
        server.add_user(user, PASSWORD)
    server.prepare()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def user() -> str:
    return USERS[next(_next_user)]


def account(dovecot: Dovecot, user: str, **overrides: object) -> ImapAccountConfig:
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": dovecot.imap_port,
        "tls": "none",
        "ca_file": None,
        "username": user,
        "password": PASSWORD,
        "oauth2_token_command": None,
        "folder": "INBOX",
        "processed_folder": None,
        "folder_per_category": False,
        "keyword": "$Triaged",
        "idle": True,
        "idle_seconds": 600,
        "poll_seconds": 30,
        "batch_size": 5,
        "max_message_mb": 25,
        "timeout_seconds": 10,
    }
    values.update(overrides)
    return ImapAccountConfig.model_validate(values)


def client_for(dovecot: Dovecot, user: str) -> IMAPClient:
    client = IMAPClient("127.0.0.1", dovecot.imap_port, ssl=False)
    try:
        client.login(user, PASSWORD)
    except Exception:
        client.shutdown()
        raise
    return client


def append(dovecot: Dovecot, user: str, messages: list[bytes], folder: str = "INBOX") -> None:
    client = client_for(dovecot, user)
    try:
        if not client.folder_exists(folder):
            client.create_folder(folder)
        for message in messages:
            client.append(folder, message)
    finally:
        client.logout()


def flags(dovecot: Dovecot, user: str, folder: str = "INBOX") -> dict[int, set[bytes]]:
    client = client_for(dovecot, user)
    try:
        client.select_folder(folder, readonly=True)
        uids = client.search("ALL")
        fetched = client.fetch(uids, ["FLAGS"]) if uids else {}
        return {uid: set(data[b"FLAGS"]) for uid, data in fetched.items()}
    finally:
        client.logout()


def wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


class Watcher:
    """An ImapFolder running in a thread over a real pipeline and SQLite store."""

    def __init__(
        self,
        tmp_path: Path,
        config: ImapAccountConfig,
        handler: object = None,
        quarantine: Path | None = None,
    ) -> None:
        self.store = SqliteStore(tmp_path / "triage.sqlite3")
        settings = load_settings(None, {}, cwd=tmp_path).settings
        self.pipeline: Pipeline = build_pipeline(
            settings, self.store, Outbox(tmp_path / "outbox"), FixedClock(_now())
        )
        self.stop = threading.Event()
        self.folder = ImapFolder(
            config.username,
            config,
            config.folders[0],
            handler or self.pipeline,
            self.store,
            self.stop,
            FixedClock(_now()),
            quarantine=quarantine,
        )
        self.thread = threading.Thread(target=self.folder.run, daemon=True)

    def __enter__(self) -> Watcher:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=15)
        assert not self.thread.is_alive()
        self.store.close()

    def count(self) -> int:
        return self.store.count_tickets()


def _now():
    from datetime import UTC, datetime

    return datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def test_existing_and_new_mail_is_triaged_marked_and_never_set_seen(dovecot, user, tmp_path):
    append(
        dovecot,
        user,
        [mail("VPN down", "error 809", message_id=f"<a{n}@x>").encode() for n in range(3)],
    )
    with Watcher(tmp_path, account(dovecot, user)) as watcher:
        wait_for(lambda: watcher.count() == 3)
        wait_for(lambda: all(b"$Triaged" in f for f in flags(dovecot, user).values()))
        append(dovecot, user, [mail("Printer", "jams", message_id="<new@x>").encode()])
        # IDLE's pickup latency is a figure of bench/imap_throughput.py, not asserted here.
        wait_for(lambda: watcher.count() == 4, timeout=10)
    for mail_flags in flags(dovecot, user).values():
        assert b"$Triaged" in mail_flags and b"\\Seen" not in mail_flags


def test_polling_is_the_fallback_when_idle_is_off(dovecot, user, tmp_path):
    config = account(dovecot, user, idle=False, poll_seconds=0.5)
    with Watcher(tmp_path, config) as watcher:
        append(dovecot, user, [mail("Printer", "jams").encode()])
        wait_for(lambda: watcher.count() == 1, timeout=10)


def test_triaged_mail_moves_to_processed_folder_created_if_missing(dovecot, user, tmp_path):
    config = account(dovecot, user, processed_folder="Triaged", folder_per_category=True)
    append(
        dovecot, user, [mail("VPN down", "AnyConnect").encode(), mail("Printer", "jams").encode()]
    )
    with Watcher(tmp_path, config) as watcher:
        wait_for(lambda: watcher.count() == 2)
        wait_for(lambda: flags(dovecot, user) == {})
    client = client_for(dovecot, user)
    delimiter = client.list_folders()[0][1].decode()
    client.logout()
    assert len(flags(dovecot, user, f"Triaged{delimiter}vpn")) == 1
    assert len(flags(dovecot, user, f"Triaged{delimiter}printer")) == 1


def test_mail_is_acknowledged_only_after_its_result_is_committed(dovecot, user, tmp_path):
    append(dovecot, user, [mail("VPN", "down").encode()])
    watcher = Watcher(tmp_path, account(dovecot, user))
    flaky = FirstCommitFails(watcher.pipeline)
    watcher.folder._handler = flaky
    with watcher:
        wait_for(lambda: flaky.calls >= 1)
        assert all(b"$Triaged" not in f for f in flags(dovecot, user).values())
        wait_for(lambda: watcher.count() == 1, timeout=20)
        wait_for(lambda: all(b"$Triaged" in f for f in flags(dovecot, user).values()))


def test_mail_is_not_acknowledged_while_the_disk_is_full_and_is_once_there_is_room(
    dovecot, user, tmp_path
):
    append(dovecot, user, [mail(f"VPN {n}", f"down at site {n}").encode() for n in range(12)])
    watcher = Watcher(tmp_path, account(dovecot, user))
    fill_disk(watcher.store)  # room for a few tickets, no more
    with structlog.testing.capture_logs() as logs, watcher:
        wait_for(lambda: any(e["event"] == "imap.store_failed" for e in logs))
        assert "disk is full" in next(e["error"] for e in logs if e["event"] == "imap.store_failed")
        marked = [f for f in flags(dovecot, user).values() if b"$Triaged" in f]
        assert len(marked) == watcher.count() < 12  # acknowledged exactly what was committed
        free_disk(watcher.store)
        wait_for(lambda: all(b"$Triaged" in f for f in flags(dovecot, user).values()), timeout=30)
        assert watcher.count() == 12


def test_mail_arriving_while_the_daemon_is_down_is_picked_up_once(dovecot, user, tmp_path):
    append(dovecot, user, [mail("first", "one", message_id="<1@x>").encode()])
    config = account(dovecot, user)
    with Watcher(tmp_path, config) as watcher:
        wait_for(lambda: watcher.count() == 1)
    append(dovecot, user, [mail("second", "two", message_id="<2@x>").encode()])
    with Watcher(tmp_path, config) as watcher:
        wait_for(lambda: watcher.count() == 2)
        time.sleep(0.5)
        assert watcher.count() == 2


def test_a_server_restart_under_a_running_watcher_is_survived(dovecot, user, tmp_path):
    with Watcher(tmp_path, account(dovecot, user)) as watcher:
        wait_for(lambda: watcher.folder.connected)
        dovecot.restart()
        append(dovecot, user, [mail("after restart", "hello").encode()])
        wait_for(lambda: watcher.count() == 1, timeout=30)


def test_a_changed_uidvalidity_rescans_without_duplicate_tickets(dovecot, user, tmp_path):
    messages = [mail(f"ticket {n}", "text", message_id=f"<u{n}@x>").encode() for n in range(3)]
    append(dovecot, user, messages, folder="Tickets")
    config = account(dovecot, user, folder="Tickets")
    with Watcher(tmp_path, config) as watcher:
        wait_for(lambda: watcher.count() == 3)
    client = client_for(dovecot, user)
    client.delete_folder("Tickets")
    client.logout()
    append(dovecot, user, messages, folder="Tickets")  # same mail, new UIDVALIDITY, no keyword
    with structlog.testing.capture_logs() as logs, Watcher(tmp_path, config) as watcher:
        wait_for(lambda: all(b"$Triaged" in f for f in flags(dovecot, user, "Tickets").values()))
        assert watcher.count() == 3
    assert any(entry["event"] == "imap.uidvalidity_changed" for entry in logs)


def test_a_wrong_password_is_a_clear_error_naming_the_account(dovecot, user, tmp_path):
    config = account(dovecot, user, password="wrong")
    with structlog.testing.capture_logs() as logs, Watcher(tmp_path, config):
        wait_for(lambda: any(e["event"] == "imap.login_failed" for e in logs))
    failure = next(e for e in logs if e["event"] == "imap.login_failed")
    assert failure["account"] == user and "password" in failure["hint"]
    assert "wrong" not in repr(logs)


def test_an_oversize_message_is_quarantined_without_downloading_it(dovecot, user, tmp_path):
    big = mail("Huge", "x" * 50_000).encode()
    append(dovecot, user, [big])
    with Watcher(tmp_path, account(dovecot, user, max_message_mb=0.01)) as watcher:
        # The outbox file is published just after the commit the count sees.
        wait_for(lambda: watcher.count() == 1 and any((tmp_path / "outbox").glob("*.json")))
        [row] = list((tmp_path / "outbox").glob("*.json"))
    text = row.read_text()
    assert '"status":"quarantined"' in text and "max_message_mb" in text
    assert all(b"$Triaged" in f for f in flags(dovecot, user).values())


def test_quarantined_mail_is_kept_for_replay_and_replayed_once(dovecot, user, tmp_path, capsys):
    from triage.cli import main

    big = mail("Printer on fire", "The printer in room 4 is smoking. " + "x" * 50_000).encode()
    broken = b"From: a@example.com\nSubject: nul\n\n" + b"\x00\x01\x02\x03" * 200
    append(dovecot, user, [big, broken])
    failed = tmp_path / "var" / "failed"
    config = account(dovecot, user, max_message_mb=0.01)
    with Watcher(tmp_path, config, quarantine=failed) as watcher:
        wait_for(lambda: watcher.count() == 2)
        wait_for(lambda: all(b"$Triaged" in f for f in flags(dovecot, user).values()))
        quarantined = [
            r
            for r in (
                watcher.store.get_result(p.stem) for p in (tmp_path / "outbox").glob("*.json")
            )
            if r and r.status == "quarantined"
        ]
    assert len(quarantined) == 2
    oversize = next(r for r in quarantined if "max_message_mb" in r.status_reason)
    unreadable = next(r for r in quarantined if r is not oversize)
    # Mail that was read is copied with its note; mail too big to download has the note only.
    kept = (failed / f"imap-{unreadable.id}.eml").read_bytes()
    assert input_id("", [kept]) == unreadable.id  # the bytes as the server served them
    copy = failed / f"imap-{oversize.id}.eml"
    assert not copy.exists() and oversize.id in Path(f"{copy}.error").read_text()

    (tmp_path / "config.toml").write_text(
        '[store]\npath = "triage.sqlite3"\n[outbox]\ndir = "outbox"\n'
    )
    command = ["--config", str(tmp_path / "config.toml"), "replay", oversize.id]
    assert main(command) == 1
    assert f"save it as {copy}" in capsys.readouterr().err
    copy.write_bytes(big)  # the admin saves the mail from the mailbox
    assert main(command) == 0
    store = SqliteStore(tmp_path / "triage.sqlite3")
    result = store.get_result(oversize.id)
    assert result.status == "triaged" and result.category == "printer"
    assert result.source == f"imap:{user}/INBOX"
    assert store.count_tickets() == 2
    assert main(command) == 0 and "already" in capsys.readouterr().out
    assert store.count_tickets() == 2
    store.close()


TOKEN_SCRIPT = """\
import pathlib, sys
calls = pathlib.Path(sys.argv[1])
count = int(calls.read_text()) + 1 if calls.exists() else 1
calls.write_text(str(count))
print(sys.argv[2] if count == 1 else sys.argv[3])
"""


def test_xoauth2_login_runs_the_token_command_and_asks_again_when_refused(dovecot, user, tmp_path):
    script = tmp_path / "token.py"
    script.write_text(TOKEN_SCRIPT)
    calls = tmp_path / "calls"
    expired, fresh = jwt_for(user, lifetime=-60), jwt_for(user)
    command = f"{sys.executable} {script} {calls} {expired} {fresh}"
    config = account(dovecot, user, password=None, oauth2_token_command=command)
    append(dovecot, user, [mail("via OAuth2", "hello").encode()])
    with Watcher(tmp_path, config) as watcher:
        wait_for(lambda: watcher.count() == 1)
    assert calls.read_text() == "2"  # the expired token was refused, a fresh one fetched


def test_a_failing_token_command_is_a_clear_setup_error(dovecot, user, tmp_path):
    config = account(dovecot, user, password=None, oauth2_token_command="false")
    with structlog.testing.capture_logs() as logs, Watcher(tmp_path, config):
        wait_for(lambda: any(e["event"] == "imap.setup_failed" for e in logs))
    assert "oauth2_token_command exited 1" in next(
        e["error"] for e in logs if e["event"] == "imap.setup_failed"
    )


@pytest.mark.parametrize("mode", ["starttls", "ssl"])
def test_tls_modes_verify_the_server_with_the_configured_ca(dovecot, user, tmp_path, mode):
    port = dovecot.imaps_port if mode == "ssl" else dovecot.imap_port
    config = account(dovecot, user, tls=mode, port=port, ca_file=dovecot.ca_file)
    append(dovecot, user, [mail("over TLS", "hello").encode()])
    with Watcher(tmp_path, config) as watcher:
        wait_for(lambda: watcher.count() == 1)


def another_ca(folder: Path) -> Path:
    """A CA of its own, which signed nothing the server has: the wrong ca_file."""
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=another-CA", "-keyout", "other.key", "-out", "other.pem",
        ],
        cwd=folder,
        check=True,
        capture_output=True,
    )  # fmt: skip
    return folder / "other.pem"


@pytest.mark.parametrize("mode", ["starttls", "ssl"])
def test_tls_modes_refuse_a_server_the_configured_ca_did_not_sign(dovecot, user, tmp_path, mode):
    port = dovecot.imaps_port if mode == "ssl" else dovecot.imap_port
    config = account(dovecot, user, tls=mode, port=port, ca_file=another_ca(tmp_path))
    append(dovecot, user, [mail("over TLS", "hello").encode()])
    with structlog.testing.capture_logs() as logs, Watcher(tmp_path, config) as watcher:
        wait_for(lambda: any(e["event"] == "imap.disconnected" for e in logs))
        assert watcher.count() == 0
    [refused, *_] = [e for e in logs if e["event"] == "imap.disconnected"]
    assert refused["error"] == "SSLCertVerificationError"
    assert "certificate verify failed" in refused["detail"]
    assert not any(e["event"] == "imap.connected" for e in logs)  # no login was attempted
    assert all(b"$Triaged" not in f for f in flags(dovecot, user).values())


@pytest.mark.parametrize("mode", ["starttls", "ssl"])
def test_check_refuses_a_server_the_configured_ca_did_not_sign(dovecot, user, tmp_path, mode):
    port = dovecot.imaps_port if mode == "ssl" else dovecot.imap_port
    loaded = check_settings(tmp_path, user, port=port, tls=mode, ca_file=str(another_ca(tmp_path)))
    [imap] = [c for c in run_checks(loaded) if c.name.startswith("imap")]
    assert not imap.ok and "TLS failed (CERTIFICATE_VERIFY_FAILED)" in imap.detail


def check_settings(tmp_path: Path, user: str, **imap: object) -> LoadedSettings:
    values = {"enabled": True, "host": "127.0.0.1", "username": user, "password": PASSWORD, **imap}
    lines = ["[imap]"] + [
        f"{key} = {str(value).lower() if isinstance(value, bool) else repr(value)}"
        for key, value in values.items()
    ]
    config = tmp_path / "config.toml"
    config.write_text("\n".join(lines) + "\n")
    return load_settings(config, {})


def test_check_logs_in_lists_the_folders_and_says_whether_idle_is_there(dovecot, user, tmp_path):
    loaded = check_settings(
        tmp_path, user, port=dovecot.imaps_port, tls="ssl", ca_file=str(dovecot.ca_file)
    )
    [imap] = [c for c in run_checks(loaded) if c.name.startswith("imap")]
    assert imap.ok and "watching INBOX" in imap.detail and "IDLE available" in imap.detail


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"password": "wrong"}, "login refused"),
        ({"tls": "ssl"}, "TLS failed"),  # the system store does not know the test CA
        ({"folder": "Nope"}, "MISSING"),
    ],
)
def test_check_says_what_to_fix(dovecot, user, tmp_path, overrides, says):
    port = dovecot.imaps_port if overrides.get("tls") == "ssl" else dovecot.imap_port
    loaded = check_settings(tmp_path, user, **{"port": port, "tls": "none", **overrides})
    [imap] = [c for c in run_checks(loaded) if c.name.startswith("imap")]
    assert not imap.ok and says in imap.detail


@pytest.mark.slow
def test_every_corpus_file_appended_gets_one_result_and_one_acknowledgement(
    dovecot, user, tmp_path, corpora
):
    # All of it, logs and the README included: whatever lands in a mailbox is handled.
    files = sorted(p for p in corpora.rglob("*") if p.is_file())
    client = client_for(dovecot, user)
    appended = 0
    for path in files:
        try:
            client.append("INBOX", path.read_bytes())
            appended += 1
        except Exception:  # noqa: S112 - the server may refuse a malformed message; counted
            continue
    client.logout()
    config = account(dovecot, user, batch_size=25, max_message_mb=25)
    with Watcher(tmp_path, config) as watcher:
        wait_for(lambda: all(b"$Triaged" in f for f in flags(dovecot, user).values()), timeout=240)
        results = len(list((tmp_path / "outbox").glob("*.json")))
        tickets = watcher.count()
    print(f"corpus: {len(files)} files, {appended} appended, {tickets} tickets, {results} results")
    assert appended >= len(files) * 0.9
    # Identical messages share an id (one ticket, each copy acknowledged): never more results
    # than mails, never a mail left unacknowledged.
    assert tickets == results <= appended
    assert len(flags(dovecot, user)) == appended


def test_a_failed_move_leaves_the_mail_marked_and_it_is_never_triaged_twice(
    dovecot, user, tmp_path
):
    config = account(dovecot, user, processed_folder="Bad/Name", poll_seconds=0.5)
    append(dovecot, user, [mail("VPN", "down").encode()])
    with structlog.testing.capture_logs() as logs, Watcher(tmp_path, config) as watcher:
        wait_for(lambda: any(e["event"] == "imap.move_failed" for e in logs))
        time.sleep(1.5)  # several sweeps retry the move
        assert watcher.count() == 1
    assert all(b"$Triaged" in f for f in flags(dovecot, user).values())


def test_one_failing_account_never_stops_the_others(dovecot, tmp_path):
    from triage.compose import build_app

    good, bad = USERS[next(_next_user)], USERS[next(_next_user)]
    config = tmp_path / "config.toml"
    config.write_text(
        "[dropfolder]\nenabled = false\n"
        f"[imap]\nenabled = true\nhost = '127.0.0.1'\nport = {dovecot.imap_port}\ntls = 'none'\n"
        f"password = '{PASSWORD}'\n"
        f"[imap.accounts.good]\nusername = '{good}'\n"
        f"[imap.accounts.bad]\nusername = '{bad}'\npassword = 'wrong'\n"
    )
    app = build_app(load_settings(config, {}).settings)
    append(dovecot, good, [mail("VPN", "down").encode()])
    threads = [threading.Thread(target=c.run, daemon=True) for c in app.connectors]
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda: app.store.count_tickets() == 1)
        assert {c.name for c in app.connectors} == {"imap:good/INBOX", "imap:bad/INBOX"}
    finally:
        app.stop.set()
        for thread in threads:
            thread.join(timeout=15)
        app.close()
