"""One result per input however many processes share a store: the dedup look-up and the
insert are one write transaction, migrations are re-checked inside theirs, and only one
daemon runs per store. Real processes on a real SQLite file."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import NO_SCHEDULE, child_env, daemon_running, mail, triage_command
from tests.gguf_model import write_model
from tests.test_daemon_faults import triage
from tests.test_store import result
from triage.store.sqlite import MIGRATIONS, SqliteStore, TicketKeys
from triage.ticket import input_id

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def test_stores_opened_at_once_on_a_fresh_file_all_migrate_it_once(tmp_path):
    path = tmp_path / "fresh.sqlite3"
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def open_it() -> None:
        start.wait()
        try:
            SqliteStore(path).close()
        except BaseException as exc:  # collected: the assertion below names it
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


def test_a_look_up_and_the_insert_it_decides_are_one_transaction(tmp_path):
    """A second store (another process's connection) cannot slip its insert between our
    look-up and our insert: it waits until our transaction is over, then sees our row."""
    ours, theirs = SqliteStore(tmp_path / "s.sqlite3"), SqliteStore(tmp_path / "s.sqlite3")
    seen: list[object] = []
    try:
        with ours.transaction():
            assert ours.get_result("t-1") is None

            def other() -> None:
                with theirs.transaction():
                    seen.append(theirs.get_result("t-1"))

            thread = threading.Thread(target=other)
            thread.start()
            time.sleep(0.3)  # it is blocked on BEGIN IMMEDIATE meanwhile
            assert seen == []
            ours.save(result("t-1"), TicketKeys("k"), NOW)
        thread.join(timeout=10)
        assert seen and seen[0] is not None and seen[0].id == "t-1"
    finally:
        ours.close()
        theirs.close()


def test_a_failure_inside_a_transaction_leaves_nothing_behind(tmp_path):
    store = SqliteStore(tmp_path / "s.sqlite3")
    with pytest.raises(RuntimeError), store.transaction():
        store.save(result("t-1"), TicketKeys("k"), NOW)
        raise RuntimeError("triage crashed after the insert")
    assert store.get_result("t-1") is None
    store.save(result("t-1"), TicketKeys("k"), NOW)  # the store is usable afterwards
    assert store.count_tickets() == 1
    store.close()


INPUTS, TWINS = 150, 30  # TWINS inputs repeat another's sender, subject and body


def tickets(folder: Path) -> dict[str, bytes]:
    """INPUTS files; the last TWINS are the first TWINS again under other names."""
    folder.mkdir(parents=True)
    files = {}
    for n in range(INPUTS):
        k = n - (INPUTS - TWINS) if n >= INPUTS - TWINS else n
        text = mail(f"Printer {k} jams", f"tray {k} on floor {k % 5}", f"user{k}@example.com")
        files[f"t{n:03d}.eml"] = text.encode()
        (folder / f"t{n:03d}.eml").write_bytes(files[f"t{n:03d}.eml"])
    return files


@pytest.mark.slow
def test_four_process_runs_next_to_a_daemon_give_one_result_per_input(tmp_path):
    # The local model makes each ticket take a while between its look-up and its commit:
    # the window in which another process could commit the same input, or its twin.
    model = write_model(tmp_path / "tiny.gguf")
    config = tmp_path / "config.toml"
    config.write_text(
        "[dropfolder]\nsettle_seconds = 0.0\nrescan_seconds = 0.5\n"
        f'[local]\nenabled = true\nmodel_path = "{model}"\nn_ctx = 2048\nmax_tokens = 400\n'
        "n_threads = 1\n" + NO_SCHEDULE
    )
    files = tickets(tmp_path / "tickets")
    inbox = tmp_path / "var" / "inbox"
    with daemon_running(tmp_path, config) as daemon:
        for name, data in files.items():  # the same inputs reach the daemon too
            (inbox / f".{name}.tmp").write_bytes(data)
            (inbox / f".{name}.tmp").rename(inbox / name)
        runs = [
            subprocess.Popen(
                [*triage_command(), "--config", str(config), "process", "--json", "tickets"],
                cwd=tmp_path,
                env=child_env(),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            for _ in range(4)
        ]
        outputs = [run.communicate(timeout=300) for run in runs]
        second = triage(config, tmp_path, "run")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and any(inbox.iterdir()):
            time.sleep(0.2)
    assert daemon.returncode == 0
    for run, (out, err) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, err.decode()[-2000:]
        assert b"UNIQUE" not in err
        assert len(out.splitlines()) == INPUTS
    # One daemon per store: the second says which one runs.
    assert second.returncode == 1
    assert f"pid {daemon.pid}" in second.stderr and "runs on the store" in second.stderr

    ids = {name: input_id(name, [data]) for name, data in files.items()}
    db = sqlite3.connect(tmp_path / "var" / "triage.sqlite3")
    rows = dict(db.execute("SELECT id, status FROM tickets").fetchall())
    duplicate_of = dict(db.execute("SELECT id, duplicate_of FROM tickets").fetchall())
    db.close()
    assert set(rows) == set(ids.values())  # exactly one result per input, nothing more
    for n in range(TWINS):
        first, twin = ids[f"t{n:03d}.eml"], ids[f"t{n + INPUTS - TWINS:03d}.eml"]
        statuses = sorted([rows[first], rows[twin]])
        assert statuses == ["duplicate", "triaged"], (n, statuses)
        original = first if rows[first] == "triaged" else twin
        assert duplicate_of[twin if original == first else first] == original
    # Every run printed the committed result of each input, the same one.
    for out, _ in outputs:
        printed = {r["id"]: r["status"] for r in map(json.loads, out.splitlines())}
        assert printed == rows
    assert not list(inbox.iterdir())


@pytest.mark.slow
def test_commands_started_together_on_a_fresh_store_all_succeed(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(NO_SCHEDULE)
    folder = tmp_path / "tickets"
    folder.mkdir()
    for n in range(10):
        (folder / f"t{n}.txt").write_text(f"Printer {n} jams\nfloor {n}")
    runs = [
        subprocess.Popen(
            [*triage_command(), "--config", str(config), "process", str(folder)],
            cwd=tmp_path,
            env=child_env(),
            stderr=subprocess.PIPE,
        )
        for _ in range(4)
    ]
    errors = [run.communicate(timeout=300)[1].decode() for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0, 0], errors
    assert not any("already exists" in err or "locked" in err for err in errors)
    db = sqlite3.connect(tmp_path / "var" / "triage.sqlite3")
    assert db.execute("SELECT count(*) FROM tickets").fetchone()[0] == 10
    db.close()
