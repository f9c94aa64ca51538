"""The drop-folder connector on a real watched folder, in a thread, with the real pipeline."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from connectors.dropfolder import DropFolder
from tests.conftest import FirstCommitFails, fill_disk, free_disk, mail
from triage.compose.app import dropfolder_options


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


STARTED: list[tuple[threading.Event, threading.Thread]] = []


@pytest.fixture(autouse=True)
def _stop_started_folders() -> Iterator[None]:
    yield
    while STARTED:
        stop, thread = STARTED.pop()
        stop.set()
        thread.join(timeout=10)


@pytest.fixture
def running(settings, pipeline) -> DropFolder:
    return folder_for(settings, pipeline)


def folder_for(settings, handler) -> DropFolder:
    folder = DropFolder(dropfolder_options(settings), handler, threading.Event())
    folder.prepare()
    return folder


def start(folder: DropFolder) -> threading.Thread:
    thread = threading.Thread(target=folder.run, daemon=True)
    thread.start()
    STARTED.append((folder._stop, thread))
    return thread


def drop(folder: Path, name: str, data: bytes) -> Path:
    """The documented way: write under a temporary name, then rename."""
    temporary = folder / f".{name}.tmp"
    temporary.write_bytes(data)
    temporary.rename(folder / name)
    return folder / name


def test_files_dropped_before_and_after_start_are_triaged_and_moved(running, store):
    inbox, processed = running.options.inbox, running.options.processed
    drop(inbox, "before.eml", mail("VPN down", "since 9").encode())
    start(running)
    drop(inbox, "after.txt", b"Printer jams\nOn floor 2")
    wait_for(lambda: (processed / "before.eml").exists() and (processed / "after.txt").exists())
    assert store.count_tickets() == 2
    assert list(inbox.iterdir()) == []


def test_a_file_still_being_written_is_not_taken(running, store):
    start(running)
    partial = running.options.inbox / "ticket.eml.part"
    partial.write_bytes(mail("VPN", "down").encode())
    time.sleep(1.0)
    assert partial.exists() and store.count_tickets() == 0
    partial.rename(running.options.inbox / "ticket.eml")
    wait_for(lambda: (running.options.processed / "ticket.eml").exists())


def test_unreadable_input_goes_to_failed_with_an_error_file(running, store):
    inbox, failed = running.options.inbox, running.options.failed
    drop(inbox, "bad.json", b'{"subject": "no body"}')
    drop(inbox, "empty.txt", b"")
    start(running)
    wait_for(lambda: (failed / "bad.json").exists() and (failed / "empty.txt").exists())
    assert "body" in (failed / "bad.json.error").read_text()
    assert "empty" in (failed / "empty.txt.error").read_text()
    assert store.count_tickets() == 2  # a quarantine is a result


def test_symlinks_and_fifos_are_refused_never_followed(running, tmp_path):
    inbox, failed = running.options.inbox, running.options.failed
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read me")
    (inbox / "link.eml").symlink_to(secret)
    os.mkfifo(inbox / "pipe.eml")
    start(running)
    wait_for(lambda: (failed / "link.eml.error").exists() and (failed / "pipe.eml.error").exists())
    assert "symbolic link" in (failed / "link.eml.error").read_text()
    assert "not a regular file" in (failed / "pipe.eml.error").read_text()
    assert secret.read_text() == "do not read me"


def test_a_file_over_the_size_limit_is_quarantined_unread(make_settings, store, clock):
    from triage.compose.app import build_pipeline
    from triage.delivery.outbox import Outbox

    settings = make_settings("max_file_mb = 0.001\n")
    folder = folder_for(
        settings, build_pipeline(settings, store, Outbox(settings.outbox.dir), clock)
    )
    drop(folder.options.inbox, "huge.txt", b"x" * 5000)
    start(folder)
    wait_for(lambda: (folder.options.failed / "huge.txt.error").exists())
    assert "max_file_mb" in (folder.options.failed / "huge.txt.error").read_text()


def test_the_same_file_dropped_twice_is_one_ticket(running, store):
    start(running)
    data = mail("Printer", "jams").encode()
    drop(running.options.inbox, "t.eml", data)
    wait_for(lambda: (running.options.processed / "t.eml").exists())
    drop(running.options.inbox, "t.eml", data)
    processed = running.options.processed
    wait_for(lambda: len(list(processed.glob("t.*.eml"))) == 1)  # beside it, a name of its own
    assert all(p.read_bytes() == data for p in processed.iterdir())
    assert store.count_tickets() == 1


def test_a_file_whose_result_was_not_committed_stays_and_is_retried(settings, pipeline, store):
    flaky = FirstCommitFails(pipeline)
    folder = folder_for(settings, flaky)
    drop(folder.options.inbox, "t.eml", mail("VPN", "down").encode())
    start(folder)
    wait_for(lambda: flaky.failed)
    assert (folder.options.inbox / "t.eml").exists()
    wait_for(lambda: (folder.options.processed / "t.eml").exists())
    assert store.count_tickets() == 1


def test_a_name_that_is_not_utf8_is_handled(running, settings):
    start(running)
    name = os.fsdecode(b"caf\xe9.txt")
    drop(running.options.inbox, name, b"Printer jams")
    wait_for(lambda: (running.options.processed / name).exists())
    [written] = settings.outbox.dir.glob("*.json")
    assert "caf\\\\xe9.txt" in written.read_text()  # the path, made printable


def test_a_full_disk_leaves_files_in_the_inbox_until_there_is_room(settings, pipeline, store):
    import structlog

    from triage.ticket import input_id

    folder = folder_for(settings, pipeline)
    fill_disk(store)  # what room is left in the tables' pages takes a few tickets, no more
    names = [f"t{n:02d}.eml" for n in range(12)]
    for n, name in enumerate(names):
        drop(folder.options.inbox, name, mail(f"VPN {n}", f"down at site {n}").encode())
    inbox, processed = folder.options.inbox, folder.options.processed
    with structlog.testing.capture_logs() as logs:
        start(folder)
        wait_for(lambda: any("disk is full" in e.get("why", "") for e in logs))
        time.sleep(0.5)
        waiting = sorted(p.name for p in inbox.iterdir())
        assert waiting  # not acknowledged: still in the inbox, and without a result
        assert all(
            store.get_result(input_id(n, [(inbox / n).read_bytes()])) is None for n in waiting
        )
        done = sorted(p.name for p in processed.iterdir())
        assert sorted(waiting + done) == names and store.count_tickets() == len(done)
        free_disk(store)  # room again: the retry takes the rest
        wait_for(lambda: sorted(p.name for p in processed.iterdir()) == names, timeout=20)
    assert store.count_tickets() == 12 and len(list(settings.outbox.dir.glob("*.json"))) == 12


def test_an_outbox_that_cannot_be_written_leaves_the_file_to_be_retried(settings, pipeline):
    folder = folder_for(settings, pipeline)
    outbox = settings.outbox.dir
    outbox.rmdir()
    outbox.write_text("a file where the outbox folder was")  # every write there fails
    drop(folder.options.inbox, "t.eml", mail("VPN", "down").encode())
    start(folder)
    time.sleep(1.0)
    assert (folder.options.inbox / "t.eml").exists()  # committed, yet not acknowledged
    outbox.unlink()
    outbox.mkdir()
    wait_for(lambda: (folder.options.processed / "t.eml").exists(), timeout=15)
    assert len(list(outbox.glob("*.json"))) == 1  # published on the retry, once
