"""Load: a backlog of 10,000 tickets in the drop folder, through `triage run` on the rules tier.
Nothing is lost and memory stays bounded (the figures are printed; bench/load.py has the
throughput against a baseline)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from tests.conftest import NO_SCHEDULE, daemon_running, mail

TICKETS = 10_000
RSS_GROWTH_MB = 50  # bound on what the backlog may add to the idle daemon (measured: ~5 MB)


def write_backlog(inbox: Path, count: int) -> list[str]:
    inbox.mkdir(parents=True, exist_ok=True)
    topics = ["VPN drops", "Printer jams", "Outlook crashes", "Password reset", "Wifi slow"]
    names = []
    for n in range(count):
        name = f"t{n:05d}.eml"
        body = f"Ticket {n}: {topics[n % 5].lower()} on floor {n % 9}, host ws-{n:05d}."
        (inbox / name).write_text(mail(f"{topics[n % 5]} #{n}", body, f"user{n}@example.com"))
        names.append(name)
    return names


def memory_kb(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0])
    return fields


@pytest.mark.slow
def test_a_backlog_of_ten_thousand_tickets_loses_nothing_in_bounded_memory(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[dropfolder]\nsettle_seconds = 0.0\n" + NO_SCHEDULE)
    var = tmp_path / "var"
    names = write_backlog(var / "inbox", TICKETS)
    with daemon_running(tmp_path, config) as daemon:
        started = time.monotonic()
        idle = memory_kb(daemon.pid)["VmRSS"]
        processed = var / "processed"
        deadline = started + 600
        while time.monotonic() < deadline and any((var / "inbox").iterdir()):
            time.sleep(0.5)
        elapsed = time.monotonic() - started
        peak = memory_kb(daemon.pid)["VmHWM"]
    assert daemon.returncode == 0
    assert sorted(p.name for p in processed.iterdir()) == names  # nothing lost, nothing left
    assert len(list((var / "outbox").glob("*.json"))) == TICKETS
    db = sqlite3.connect(var / "triage.sqlite3")
    try:
        assert db.execute("SELECT count(DISTINCT id) FROM tickets").fetchone()[0] == TICKETS
    finally:
        db.close()
    print(
        f"{TICKETS} tickets in {elapsed:.1f} s = {TICKETS / elapsed:.0f} tickets/s; "
        f"RSS idle {idle / 1024:.0f} MB, peak {peak / 1024:.0f} MB"
    )
    assert (peak - idle) / 1024 < RSS_GROWTH_MB
