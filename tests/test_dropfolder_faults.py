"""The drop folder when its folders are pulled away: processed/, failed/ and the outbox are
made again and the input moves on, a fault is logged once, a quarantine note never lands on
an input, and a dropped mail's received_at is the file's mtime."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from datetime import UTC, datetime

import structlog

from tests.conftest import mail
from tests.test_dropfolder import (  # the fixture stops the folders each test started
    _stop_started_folders,  # noqa: F401
    drop,
    folder_for,
    start,
    wait_for,
)
from triage.quarantine import note_id


def test_folders_removed_while_running_are_made_again_and_input_moves_on(settings, pipeline, store):
    folder = folder_for(settings, pipeline)
    options, outbox = folder.options, settings.outbox.dir
    with structlog.testing.capture_logs() as logs:
        start(folder)
        drop(options.inbox, "first.eml", mail("VPN down", "error 809").encode())
        wait_for(lambda: (options.processed / "first.eml").exists())
        for gone in (options.processed, options.failed, outbox):
            shutil.rmtree(gone)  # a careless rotation: the folders are gone
        drop(options.inbox, "second.eml", mail("Printer", "jams on floor 2").encode())
        drop(options.inbox, "bad.json", b'{"subject": 1}')
        wait_for(lambda: (options.processed / "second.eml").exists(), timeout=15)
        wait_for(lambda: (options.failed / "bad.json.error").exists(), timeout=15)
    assert (options.failed / "bad.json").read_bytes() == b'{"subject": 1}'
    assert len(list(outbox.glob("*.json"))) == 2  # the outbox was made again as well
    assert store.count_tickets() == 3
    loud = [e for e in logs if e["log_level"] in ("warning", "error")]
    assert all(e["event"] in ("dropfolder.folder_recreated", "outbox.recreated") for e in loud)
    assert len(loud) <= 3  # each folder said once


def test_a_folder_that_cannot_be_made_is_reported_once_and_the_file_waits(
    settings, pipeline, store
):
    folder = folder_for(settings, pipeline)
    options = folder.options
    shutil.rmtree(options.processed)
    options.processed.write_text("a file where processed/ was")  # mkdir fails, even for root
    with structlog.testing.capture_logs() as logs:
        start(folder)
        drop(options.inbox, "t.eml", mail("VPN down", "error 809").encode())
        wait_for(lambda: folder.waiting_since is not None)
        time.sleep(3.0)  # many ticks and a few retries and rescans
        assert (options.inbox / "t.eml").exists() and store.count_tickets() == 1
        faults = [e for e in logs if e["log_level"] in ("warning", "error")]
        assert [e["event"] for e in faults] == ["dropfolder.folder_unusable"]
        assert "processed" in (folder.fault() or "")
        options.processed.unlink()  # fixed: the next retry moves it
        wait_for(lambda: (options.processed / "t.eml").exists(), timeout=20)
    assert folder.waiting_since is None and folder.fault() is None
    assert store.count_tickets() == 1  # acknowledged late, never triaged twice


def test_a_note_never_overwrites_a_quarantined_input(settings, pipeline, store):
    folder = folder_for(settings, pipeline)
    options = folder.options
    start(folder)
    inputs = {"report.error": b'{"subject": 1, "n": 1}', "report": b'{"subject": 1, "n": 2}'}
    for name, data in inputs.items():
        drop(options.inbox, name, data)
        wait_for(lambda name=name: not (options.inbox / name).exists())
    for name, data in inputs.items():  # and once more, to land on taken names
        drop(options.inbox, name, data + b" ")
        wait_for(lambda name=name: not (options.inbox / name).exists())
    files = {p.name: p.read_bytes() for p in options.failed.iterdir()}
    notes = {n: d for n, d in files.items() if n.endswith(".error") and not d.startswith(b"{")}
    kept = {n: d for n, d in files.items() if n not in notes}
    # every input is there, whole, and each has its own note naming its ticket
    assert sorted(kept.values()) == sorted([*inputs.values(), *(d + b" " for d in inputs.values())])
    assert len(notes) == 4
    for name in kept:
        ticket = note_id(options.failed / f"{name}.error")
        assert ticket is not None and store.get_result(ticket).status == "quarantined"


def test_many_earlier_files_of_the_same_name_are_never_touched(settings, pipeline):
    folder = folder_for(settings, pipeline)
    failed = folder.options.failed
    (failed / "ticket.json").write_text("earliest")
    for n in range(2000):
        (failed / f"ticket.t-{n:020x}-1.json").write_text(str(n))
    before = {p.name: p.read_bytes() for p in failed.iterdir()}
    start(folder)
    drop(folder.options.inbox, "ticket.json", b'{"subject": 1}')
    wait_for(lambda: len(list(failed.iterdir())) == len(before) + 2)
    after = {p.name: p.read_bytes() for p in failed.iterdir()}
    assert {n: after[n] for n in before} == before
    new = sorted(set(after) - set(before))
    assert after[new[0]] == b'{"subject": 1}' and new[1] == new[0] + ".error"


def test_a_dropped_mail_is_received_when_its_file_was_last_written(settings, pipeline, store):
    folder = folder_for(settings, pipeline)
    text = mail("VPN down", "error 809").replace("Mon, 02 Nov 2026", "Tue, 03 Mar 2020")
    staged = folder.options.inbox.parent / "staged.eml"
    staged.write_text(text)
    written = datetime(2026, 11, 20, 8, 15, 30, tzinfo=UTC).timestamp()
    os.utime(staged, (written, written))
    staged.rename(folder.options.inbox / "vpn.eml")  # a rename keeps the mtime
    start(folder)
    wait_for(lambda: (folder.options.processed / "vpn.eml").exists())
    ticket = hashlib.blake2b(b"vpn.eml\0" + text.encode(), digest_size=10).hexdigest()
    assert store.get_result(f"t-{ticket}").received_at == datetime.fromtimestamp(written, UTC)
