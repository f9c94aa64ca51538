"""`triage replay`: quarantined input triaged again after a fix, never a second result."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest

from connectors.dropfolder import DropFolder
from tests.conftest import mail
from tests.test_dropfolder import drop, folder_for, wait_for
from triage.cli.main import main
from triage.quarantine import note_id
from triage.reporting.build import build_digest
from triage.reporting.data import day_window, read_period
from triage.store.sqlite import SqliteStore

VALID = json.dumps({"subject": "VPN down", "body": "The VPN drops every 5 minutes."}).encode()


def run_until(folder: DropFolder, condition: Callable[[], bool]) -> None:
    thread = threading.Thread(target=folder.run, daemon=True)
    thread.start()
    try:
        wait_for(condition)
    finally:
        folder._stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()


@pytest.fixture
def quarantined(settings, pipeline, store) -> Iterator[tuple[Path, str]]:
    """bad.json, dropped and quarantined by a running drop folder: (its file in failed/, id)."""
    folder: DropFolder = folder_for(settings, pipeline)
    drop(folder.options.inbox, "bad.json", b'{"subject": "no body"}')
    failed = folder.options.failed / "bad.json"
    run_until(folder, lambda: failed.exists() and note_id(Path(f"{failed}.error")) is not None)
    ticket_id = note_id(Path(f"{failed}.error"))
    assert ticket_id is not None and store.get_result(ticket_id).status == "quarantined"
    yield failed, ticket_id


def replay(settings, *targets: str) -> int:
    """The command, in-process, on the config file the `settings` fixture was read from."""
    config = settings.store.path.parent.parent / "config.toml"
    return main(["--config", str(config), "replay", *targets])


def test_a_fixed_file_replayed_from_failed_gets_one_result_under_its_id(
    quarantined, settings, store, capsys
):
    failed, ticket_id = quarantined
    failed.write_bytes(VALID)  # the fix
    assert replay(settings, str(failed)) == 0
    assert capsys.readouterr().out.startswith(f"{ticket_id} triaged: vpn")
    result = store.get_result(ticket_id)
    assert result.status == "triaged" and result.category == "vpn"
    assert result.source == "dropfolder"  # still the input it was
    assert store.count_tickets() == 1  # replaced, not added
    outbox = json.loads((settings.outbox.dir / f"{ticket_id}.json").read_text())
    assert outbox["status"] == "triaged"
    assert (settings.dropfolder.processed / "bad.json").read_bytes() == VALID
    assert not failed.exists() and not Path(f"{failed}.error").exists()


def test_replay_by_id_and_a_second_replay_changes_nothing(quarantined, settings, store, capsys):
    failed, ticket_id = quarantined
    failed.write_bytes(VALID)
    assert replay(settings, ticket_id) == 0
    first = (settings.outbox.dir / f"{ticket_id}.json").read_bytes()
    capsys.readouterr()
    assert replay(settings, ticket_id) == 0
    assert "triaged already, nothing replayed" in capsys.readouterr().out
    moved = settings.dropfolder.processed / "bad.json"
    assert replay(settings, str(moved)) == 0  # the same input by its file: still nothing new
    assert store.count_tickets() == 1
    assert (settings.outbox.dir / f"{ticket_id}.json").read_bytes() == first


def test_input_that_is_still_bad_stays_quarantined_with_the_new_reason(
    quarantined, settings, store, capsys
):
    failed, ticket_id = quarantined
    failed.write_bytes(b'{"subject": "still", "body": 12}')
    assert replay(settings, str(failed)) == 1
    assert "still quarantined" in capsys.readouterr().out
    result = store.get_result(ticket_id)
    assert result.status == "quarantined" and "body" in result.status_reason
    assert store.count_tickets() == 1
    assert failed.exists() and note_id(Path(f"{failed}.error")) == ticket_id
    assert "string" in Path(f"{failed}.error").read_text()  # the new reason


def test_a_dropped_file_triaged_before_is_never_triaged_again_by_replay(
    settings, pipeline, store, capsys
):
    folder = folder_for(settings, pipeline)
    drop(folder.options.inbox, "vpn.eml", mail("VPN down", "error 809").encode())
    run_until(folder, lambda: (folder.options.processed / "vpn.eml").exists())
    assert replay(settings, str(folder.options.processed / "vpn.eml")) == 0
    assert "triaged already" in capsys.readouterr().out
    assert store.count_tickets() == 1
    assert (folder.options.processed / "vpn.eml").exists()  # not in quarantine: left alone


def test_the_digest_lists_the_quarantine_until_it_is_replayed(quarantined, settings, store):
    failed, ticket_id = quarantined
    day = day_window(date(2026, 11, 2), "UTC")  # the fixed clock's day
    before = build_digest(read_period(store, day, True))
    assert [t.id for t in before.quarantine] == [ticket_id] and before.quarantine_total == 1
    failed.write_bytes(VALID)
    assert replay(settings, ticket_id) == 0
    after = build_digest(read_period(store, day, True))
    assert after.quarantine == [] and after.quarantine_total == 0


def test_what_cannot_be_replayed_says_what_to_do(quarantined, settings, store, capsys):
    failed, ticket_id = quarantined
    assert replay(settings, "no-such-file.eml") == 2
    assert "not a file, folder or ticket id" in capsys.readouterr().err
    assert replay(settings, "t-" + "0" * 20) == 1
    assert "no ticket with this id" in capsys.readouterr().err
    failed.unlink()
    assert replay(settings, ticket_id) == 1
    assert f"save it as {failed}" in capsys.readouterr().err
    failed.symlink_to(settings.store.path)  # a link where the file was: not followed
    assert replay(settings, ticket_id) == 1
    assert "symbolic link" in capsys.readouterr().err
    assert SqliteStore(settings.store.path).get_result(ticket_id).status == "quarantined"


def test_check_says_how_much_is_in_quarantine(quarantined, settings, capsys):
    config = settings.store.path.parent.parent / "config.toml"
    assert main(["--config", str(config), "check"]) == 0  # waiting input is not a set-up fault
    assert "1 in quarantine: see `triage replay`" in capsys.readouterr().out


def test_a_missing_store_with_results_in_the_outbox_is_refused_not_made_anew(
    quarantined, settings, store, capsys
):
    failed, ticket_id = quarantined
    failed.write_bytes(VALID)
    store.close()
    path = settings.store.path
    for name in (path.name, f"{path.name}-wal", f"{path.name}-shm"):
        (path.parent / name).unlink(missing_ok=True)
    assert replay(settings, str(failed)) == 78
    assert replay(settings, ticket_id) == 78
    said = capsys.readouterr().err
    assert "store is missing" in said and "--new-store" in said and str(path) in said
    assert not path.exists()  # not made anew
    assert failed.read_bytes() == VALID and Path(f"{failed}.error").exists()  # left as it was
    assert not (settings.dropfolder.processed / failed.name).exists()
