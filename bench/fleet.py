"""A fleet on one PostgreSQL against one daemon on SQLite: the rules tier through a shared drop
folder, N tickets (default 400).

    python bench/fleet.py [N] [TAKEOVERS]

Prints tickets/s for one daemon on SQLite (the baseline, measured in the same run) and one,
two and three daemons on PostgreSQL (a durable server: fsync on, as SQLite's synchronous=FULL),
the PostgreSQL statements per ticket (the server's log: each is a round trip), and the time a
dead daemon's claimed files wait after SIGKILL until another daemon takes them over (median
and maximum of TAKEOVERS kills, default 3) against the lease time, and what one claim costs
by rename against SELECT ... FOR UPDATE SKIP LOCKED. Goals: PostgreSQL per-ticket
overhead within 2x SQLite for one daemon; takeover within twice the lease.
"""

from __future__ import annotations

import json
import re
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.conftest import NO_SCHEDULE, NotifySocket, child_env, triage_command
from tests.fleet_harness import Node, files_in, shared_folders, wait_until
from tests.postgres import PostgresServer
from tests.test_load import write_backlog

LEASE = 2.0


def sqlite_run(root: Path, count: int) -> float:
    """Seconds for one daemon on SQLite to work off `count` tickets dropped at once."""
    import subprocess

    folders = shared_folders(root)
    config = root / "config.toml"
    config.write_text(
        f'[store]\npath = "{root / "store.sqlite3"}"\n[outbox]\ndir = "{folders["outbox"]}"\n'
        f'[dropfolder]\ninbox = "{folders["inbox"]}"\nprocessed = "{folders["processed"]}"\n'
        f'failed = "{folders["failed"]}"\nsettle_seconds = 0.2\nrescan_seconds = 0.5\n'
        + NO_SCHEDULE
    )
    notify = NotifySocket(root)
    with (root / "daemon.log").open("wb") as log:
        process = subprocess.Popen(
            [*triage_command(), "--config", str(config), "run"],
            cwd=root,
            env=child_env(NOTIFY_SOCKET=notify.path),
            stderr=log,
        )
    try:
        notify.wait_for("READY", "1", seconds=90)
        return _work_off(root, folders, count)
    finally:
        process.terminate()
        process.wait(timeout=60)
        notify.close()


def fleet_run(root: Path, server: PostgresServer, daemons: int, count: int) -> tuple[float, int]:
    """Seconds for `daemons` daemons on one PostgreSQL database, and the statements run."""
    url = server.create_database("bench")
    nodes = [Node(root, f"n{k}", url, LEASE, NO_SCHEDULE) for k in range(daemons)]
    for node in nodes:
        node.start()
    before = _statements(server)
    try:
        seconds = _work_off(root, shared_folders(root), count)
    finally:
        for node in nodes:
            node.stop()
    return seconds, _statements(server) - before


def _work_off(root: Path, folders: dict[str, Path], count: int) -> float:
    staging = root / "staging"
    names = write_backlog(staging, count)
    started = time.perf_counter()
    for name in names:
        (staging / name).rename(folders["inbox"] / name)
    if not wait_until(lambda: len(files_in(folders["processed"])) >= count, 900, every=0.05):
        raise SystemExit(f"only {len(files_in(folders['processed']))} of {count} processed")
    return time.perf_counter() - started


def _statements(server: PostgresServer) -> int:
    text = server.log.read_text(errors="replace") if server.log.exists() else ""
    return len(re.findall(r"LOG:  (?:statement|execute [^:]*):", text))


def takeover(root: Path, server: PostgresServer) -> float:
    """Seconds from a SIGKILL to the first of the dead daemon's files taken over."""
    url = server.create_database("takeover")
    folders = shared_folders(root)
    victim, heir = (Node(root, name, url, LEASE, NO_SCHEDULE) for name in ("victim", "heir"))
    victim.start()
    heir.start()
    staging = root / "staging"
    names = write_backlog(staging, 300)
    for name in names:
        (staging / name).rename(folders["inbox"] / name)
    claims = folders["inbox"] / ".claims" / "victim"
    wait_until(lambda: claims.is_dir() and any(claims.iterdir()), 60, every=0.01)
    victim.kill()  # holding claimed files: the heir takes them once the lease has run out
    killed = time.time()
    try:
        assert wait_until(lambda: '"dropfolder.taken_over"' in heir.log(), 60, every=0.05)
    finally:
        heir.stop()
    for line in heir.log().splitlines():
        if '"dropfolder.taken_over"' in line:
            at = datetime.fromisoformat(json.loads(line)["timestamp"].replace("Z", "+00:00"))
            return at.timestamp() - killed
    raise AssertionError("no takeover")


def claim_costs(root: Path, server: PostgresServer, count: int = 2000) -> tuple[float, float]:
    """Microseconds per claim: renaming a file into a claims folder (what the drop folder
    does), against `SELECT ... FOR UPDATE SKIP LOCKED` on a queue table in PostgreSQL (what a
    queue library does; the input would first have to be copied into the table)."""
    import psycopg

    inbox, claims = root / "inbox", root / "claims"
    inbox.mkdir()
    claims.mkdir()
    for n in range(count):
        (inbox / f"t{n:05d}.eml").write_bytes(b"x")
    started = time.perf_counter()
    for path in sorted(inbox.iterdir()):
        path.rename(claims / path.name)
    rename = (time.perf_counter() - started) / count * 1e6
    url = server.create_database("queue")
    with psycopg.connect(url, autocommit=True) as db:
        db.execute(
            "CREATE TABLE queue (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
            " name TEXT NOT NULL, node TEXT, until TIMESTAMPTZ)"
        )
        db.cursor().executemany(
            "INSERT INTO queue (name) VALUES (%s)", [(f"t{n:05d}",) for n in range(count)]
        )
        started = time.perf_counter()
        for _ in range(count):
            db.execute(
                "UPDATE queue SET node = 'n1', until = now() + interval '30 s' WHERE id ="
                " (SELECT id FROM queue WHERE node IS NULL ORDER BY id"
                " FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING name"
            ).fetchone()
        skip_locked = (time.perf_counter() - started) / count * 1e6
    return rename, skip_locked


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    kills = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    with tempfile.TemporaryDirectory() as folder:
        base = sqlite_run(Path(folder), count)
    print(f"SQLite, 1 daemon:      {count / base:7.1f} tickets/s (baseline)")
    server = PostgresServer(durable=True, log_statements=True)
    try:
        for daemons in (1, 2, 3):
            with tempfile.TemporaryDirectory() as folder:
                seconds, statements = fleet_run(Path(folder), server, daemons, count)
            print(
                f"PostgreSQL, {daemons} daemon{'s' if daemons > 1 else ' '}: "
                f"{count / seconds:7.1f} tickets/s ({seconds / base:.2f}x the SQLite time), "
                f"{statements / count:.1f} statements per ticket"
            )
        with tempfile.TemporaryDirectory() as folder:
            rename, skip_locked = claim_costs(Path(folder), server)
        print(
            f"one claim: rename into .claims/ {rename:.0f} us, SELECT ... FOR UPDATE SKIP LOCKED "
            f"(+ commit) {skip_locked:.0f} us"
        )
        times = []
        for _ in range(kills):
            with tempfile.TemporaryDirectory() as folder:
                times.append(takeover(Path(folder), server))
        print(
            f"takeover after SIGKILL: median {statistics.median(times):.2f} s, max "
            f"{max(times):.2f} s, lease {LEASE:.1f} s (goal: within {2 * LEASE:.1f} s)"
        )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
