"""A drop folder shared by a fleet: files claimed by rename into .claims/<node>/, a dead
node's claims taken over and triaged once, a live node's left alone, and the claims folder
itself never quarantined as an abandoned temporary name."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.dropfolder import CLAIMS, DropFolder, DropFolderOptions
from triage.runtime.fleet import Liveness
from triage.store.postgres import PostgresStore


def options(root: Path, node: str, abandoned: float = 3600.0) -> DropFolderOptions:
    return DropFolderOptions(
        inbox=root / "inbox",
        processed=root / "processed",
        failed=root / "failed",
        settle_seconds=0.0,
        rescan_seconds=0.1,
        max_bytes=1_000_000,
        abandoned_seconds=abandoned,
        node=node,
    )


@pytest.fixture
def fleet(postgres_url):
    """Node "alive" holds its node lease; node "dead" has none; "me" looks at both."""
    alive, me = PostgresStore(postgres_url, node="alive"), PostgresStore(postgres_url, node="me")
    alive.take_lease("node:alive", 300, datetime.now(UTC))
    yield Liveness(me, lambda: datetime.now(UTC))
    alive.close()
    me.close()


def work(folder: DropFolder) -> None:
    folder.prepare()
    folder.scan()
    for _ in range(20):
        folder.tick()
        time.sleep(0.01)


def test_a_dead_nodes_claims_are_taken_over_and_a_live_nodes_left_alone(tmp_path, pipeline, fleet):
    claims = tmp_path / "inbox" / CLAIMS
    for node, name in (("dead", "a.txt"), ("alive", "b.txt"), ("me", "c.txt")):
        (claims / node).mkdir(parents=True)
        (claims / node / name).write_text(f"Printer {name} jams\nfloor 2")
    (tmp_path / "inbox" / "d.txt").write_text("Outlook crashes\nat start")
    folder = DropFolder(options(tmp_path, "me"), pipeline, threading.Event(), liveness=fleet)
    work(folder)
    assert sorted(p.name for p in (tmp_path / "processed").iterdir()) == [
        "a.txt",
        "c.txt",
        "d.txt",
    ]
    assert [p.name for p in (claims / "alive").iterdir()] == ["b.txt"]
    assert list((claims / "me").iterdir()) == []
    assert list((claims / "dead").iterdir()) == []
    assert folder.claimed() == 0


def test_the_claims_folder_is_never_quarantined_as_an_abandoned_name(tmp_path, pipeline, fleet):
    claims = tmp_path / "inbox" / CLAIMS / "alive"
    claims.mkdir(parents=True)
    (claims / "b.txt").write_text("Printer jams\nfloor 2")
    folder = DropFolder(options(tmp_path, "me", abandoned=60), pipeline, threading.Event(),
                        liveness=fleet)  # fmt: skip
    folder.prepare()  # makes .claims/me: the folder's time is now; an hour later it is old
    old = time.time() - 7200
    os.utime(tmp_path / "inbox" / CLAIMS, (old, old))
    work(folder)
    assert (claims / "b.txt").exists()
    assert not (tmp_path / "failed").exists() or list((tmp_path / "failed").iterdir()) == []
