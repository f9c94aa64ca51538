"""A fleet on one PostgreSQL against one daemon on SQLite: the rules tier through a shared drop
folder, N tickets (default 400), and the same with a model step that costs a fixed CPU time
per ticket (at most 150 tickets).

    python bench/fleet.py [N] [TAKEOVERS] [--rounds R] [--model-ms MS] [--only rules|model]

Prints tickets/s for one daemon on SQLite (the baseline, measured in the same run) and one,
two and three daemons on PostgreSQL (a durable server: fsync on, as SQLite's synchronous=FULL).
One daemon on each runs alternately R times (default 3; the machine's other load drifts, and
a pair run back to back shares it): the overhead is the median of the pairs' time ratios,
with the CPU per ticket of the daemon and of the database server beside it. Then the
PostgreSQL statements per ticket (each a round trip; counted in a separate run on a server
that logs every statement, since logging slows it down), and the time a
dead daemon's claimed files wait after SIGKILL until another daemon takes them over (median
and maximum of TAKEOVERS kills, default 3; 0 skips them) against the lease time, and what one
claim costs by rename against SELECT ... FOR UPDATE SKIP LOCKED. Goals: PostgreSQL per-ticket
overhead within 2x SQLite for one daemon; takeover within twice the lease.

The model variant: each daemon has its own local model server (`[local] base_url`, reached
through models/local_server.py and the openai SDK, as a daemon reaches llama-server), a
loopback stand-in (tests/standins/chat_api.py) in a process of its own whose written summary,
asked once per ticket, costs MS milliseconds of CPU (default 20), as a model's decoding would;
the scored questions cost it only their HTTP round trips. The same baseline, one daemon on
SQLite with its model server, is measured in the same run. A daemon waits for its server, so
each daemon with its server keeps about one core busy: on a machine with C cores the fleet
cannot go faster than C daemons do (the bench prints C).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.conftest import NO_SCHEDULE, NotifySocket, child_env, triage_command
from tests.fleet_harness import Node, files_in, shared_folders, wait_until
from tests.postgres import PostgresServer
from tests.test_load import write_backlog

LEASE = 2.0
DAEMONS = (1, 2, 3)


def local_config(base_url: str) -> str:
    """The daemon's local tier from a model server."""
    return f'[local]\nenabled = true\nbase_url = "{base_url}"\nmodel = "burner"\n'


@dataclass
class Served:
    """Running model servers: their URLs and processes; the summaries each wrote, once
    they stopped."""

    urls: list[str] = field(default_factory=list)
    pids: list[int] = field(default_factory=list)
    summaries: list[int] = field(default_factory=list)


@contextmanager
def model_servers(count: int, cpu_ms: float) -> Iterator[Served]:
    """`count` model servers, each in a process of its own."""
    processes, served = [], Served()
    try:
        for _ in range(count):
            process = subprocess.Popen(
                [sys.executable, __file__, "--serve-model", str(cpu_ms)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            processes.append(process)
            assert process.stdout is not None
            served.urls.append(process.stdout.readline().strip())
            served.pids.append(process.pid)
        yield served
    finally:
        for process in processes:
            out, _ = process.communicate(timeout=60)  # stdin closed: it stops and counts
            served.summaries.extend(int(line) for line in out.split() if line.isdigit())


def serve_model(cpu_ms: float) -> None:
    """The model server's process: serves until stdin closes, then prints the summaries."""
    from tests.standins.chat_api import ChatStandIn

    server = ChatStandIn(models=["burner"], summary_cpu_seconds=cpu_ms / 1000).start()
    print(server.base_url, flush=True)
    sys.stdin.read()
    server.stop()
    print(sum(1 for r in server.completions() if not r.body.get("logprobs")), flush=True)


@dataclass(frozen=True)
class Run:
    """One timed work-off: wall seconds, and the CPU seconds the daemons and the database
    server spent meanwhile (less sensitive than wall time to what else runs on the machine)."""

    seconds: float
    daemon_cpu: float
    server_cpu: float = 0.0
    statements: int = 0
    model_cpu: float = 0.0  # the model servers'

    def cpu_ms(self, count: int) -> str:
        """CPU per ticket, by whom."""
        parts = [f"daemons {self.daemon_cpu / count * 1000:.1f}"]
        if self.server_cpu:
            parts.append(f"PostgreSQL {self.server_cpu / count * 1000:.1f}")
        if self.model_cpu:
            parts.append(f"model servers {self.model_cpu / count * 1000:.1f}")
        return " + ".join(parts) + " ms CPU per ticket"


def cpu_seconds(pids: list[int]) -> float:
    """CPU time (user + system, with that of waited-for children) of these processes."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += sum(int(field) for field in fields[11:15])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def server_pids(server: PostgresServer) -> list[int]:
    """The postmaster and its children (backends, WAL writer, checkpointer)."""
    master = int((server.data / "postmaster.pid").read_text().split()[0])
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == master:
                children.append(int(stat.parent.name))
        except (OSError, ValueError):
            continue
    return [master, *children]


def sqlite_run(root: Path, count: int, extra: str = "", watch: tuple[int, ...] = ()) -> Run:
    """One daemon on SQLite working off `count` tickets dropped at once."""
    folders = shared_folders(root)
    config = root / "config.toml"
    config.write_text(
        f'[store]\npath = "{root / "store.sqlite3"}"\n[outbox]\ndir = "{folders["outbox"]}"\n'
        f'[dropfolder]\ninbox = "{folders["inbox"]}"\nprocessed = "{folders["processed"]}"\n'
        f'failed = "{folders["failed"]}"\nsettle_seconds = 0.2\nrescan_seconds = 0.5\n'
        + NO_SCHEDULE
        + extra
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
        before, model = cpu_seconds([process.pid]), cpu_seconds(list(watch))
        seconds = _work_off(root, folders, count)
        cpu = cpu_seconds([process.pid]) - before
        return Run(seconds, cpu, model_cpu=cpu_seconds(list(watch)) - model)
    finally:
        process.terminate()
        process.wait(timeout=60)
        notify.close()


def fleet_run(
    root: Path,
    server: PostgresServer,
    daemons: int,
    count: int,
    extra: Callable[[int], str] = lambda k: "",
    watch: tuple[int, ...] = (),
) -> Run:
    """`daemons` daemons on one PostgreSQL database working off `count` tickets, and the
    statements the server ran (when it logs them). `extra(k)`: more configuration for
    daemon k."""
    url = server.create_database("bench")
    nodes = [Node(root, f"n{k}", url, LEASE, NO_SCHEDULE + extra(k)) for k in range(daemons)]
    for node in nodes:
        node.start()
    before = _statements(server)
    pids = [node.process.pid for node in nodes if node.process is not None]
    on_server = server_pids(server)
    cpu, server_cpu, model = cpu_seconds(pids), cpu_seconds(on_server), cpu_seconds(list(watch))
    try:
        seconds = _work_off(root, shared_folders(root), count)
        cpu, server_cpu = cpu_seconds(pids) - cpu, cpu_seconds(on_server) - server_cpu
        model = cpu_seconds(list(watch)) - model
    finally:
        for node in nodes:
            node.stop()
    return Run(seconds, cpu, server_cpu, _statements(server) - before, model)


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


def rules_tier(count: int, server: PostgresServer, rounds: int) -> None:
    """One daemon on SQLite and one on PostgreSQL, alternately `rounds` times (the machine's
    other load drifts: a pair run back to back shares it), then two and three daemons."""
    print(f"rules tier, {count} tickets; SQLite and PostgreSQL alternately, {rounds} rounds")
    ratios, bases = [], []
    for round_ in range(1, rounds + 1):
        with tempfile.TemporaryDirectory() as folder:
            base = sqlite_run(Path(folder), count)
        with tempfile.TemporaryDirectory() as folder:
            shared = fleet_run(Path(folder), server, 1, count)
        bases.append(base.seconds)
        ratios.append(shared.seconds / base.seconds)
        print(
            f"  round {round_}: SQLite {count / base.seconds:6.1f} tickets/s, "
            f"PostgreSQL {count / shared.seconds:6.1f} tickets/s: {ratios[-1]:.2f}x the time; "
            f"CPU per ticket: SQLite daemon {base.daemon_cpu / count * 1000:.1f} ms, "
            f"PostgreSQL daemon {shared.daemon_cpu / count * 1000:.1f} ms "
            f"+ server {shared.server_cpu / count * 1000:.1f} ms"
        )
    print(
        f"  PostgreSQL per-ticket overhead, one daemon: median {statistics.median(ratios):.2f}x "
        f"SQLite's time (range {min(ratios):.2f}-{max(ratios):.2f}x; goal within 2x)"
    )
    base_seconds = statistics.median(bases)
    print(f"  SQLite, 1 daemon:      {count / base_seconds:7.1f} tickets/s (median, baseline)")
    for daemons in DAEMONS[1:]:
        with tempfile.TemporaryDirectory() as folder:
            run = fleet_run(Path(folder), server, daemons, count)
        print(
            f"  PostgreSQL, {daemons} daemons: {count / run.seconds:7.1f} tickets/s "
            f"({base_seconds / run.seconds:.2f}x SQLite's tickets/s)"
        )


def round_trips(count: int, cpu_ms: float | None = None) -> None:
    """Statements per ticket (each a round trip), on a server that logs every one: logging
    costs the server time, so this run is not one of the timed ones. With `cpu_ms`: with
    the model step."""
    server = PostgresServer(durable=True, log_statements=True)
    try:
        with (
            model_servers(1 if cpu_ms is not None else 0, cpu_ms or 0) as served,
            tempfile.TemporaryDirectory() as folder,
        ):
            extra = local_config(served.urls[0]) if served.urls else ""
            run = fleet_run(Path(folder), server, 1, count, lambda k: extra)
        counted = Counter(
            re.sub(r"\s+", " ", statement)[:48]
            for statement in re.findall(
                r"LOG:  (?:statement|execute [^:]*): (.*)", server.log.read_text(errors="replace")
            )
        )
    finally:
        server.stop()
    print(f"  round trips: {run.statements / count:.1f} statements per ticket (one daemon)")
    for statement, times in counted.most_common(12):
        if times >= count // 2:
            print(f"    {times / count:4.2f} {statement}")


def model_step(count: int, server: PostgresServer, cpu_ms: float, rounds: int) -> None:
    """As the rules tier, each daemon with a model server of its own."""
    print(
        f"with a model step of {cpu_ms:g} ms CPU per ticket (a model server per daemon), "
        f"{count} tickets; SQLite and PostgreSQL alternately, {rounds} rounds"
    )
    ratios, bases = [], []
    for round_ in range(1, rounds + 1):
        with model_servers(1, cpu_ms) as served, tempfile.TemporaryDirectory() as folder:
            base = sqlite_run(Path(folder), count, local_config(served.urls[0]), tuple(served.pids))
        with model_servers(1, cpu_ms) as served, tempfile.TemporaryDirectory() as folder:
            url = served.urls[0]
            one = fleet_run(
                Path(folder),
                server,
                1,
                count,
                lambda k, url=url: local_config(url),
                tuple(served.pids),
            )
        bases.append(base.seconds)
        ratios.append(one.seconds / base.seconds)
        print(
            f"  round {round_}: SQLite {count / base.seconds:5.1f} tickets/s "
            f"({base.cpu_ms(count)}), PostgreSQL {count / one.seconds:5.1f} tickets/s "
            f"({one.cpu_ms(count)}): {ratios[-1]:.2f}x the time"
        )
    print(
        f"  one daemon on PostgreSQL: median {statistics.median(ratios):.2f}x SQLite's time "
        f"(range {min(ratios):.2f}-{max(ratios):.2f}x); "
        f"{sum(served.summaries) / count:.2f} model calls per ticket"
    )
    base_seconds = statistics.median(bases)
    print(f"  SQLite, 1 daemon:      {count / base_seconds:7.1f} tickets/s (median, baseline)")
    for daemons in DAEMONS[1:]:
        with model_servers(daemons, cpu_ms) as served, tempfile.TemporaryDirectory() as folder:
            urls = served.urls
            run = fleet_run(
                Path(folder),
                server,
                daemons,
                count,
                lambda k, urls=urls: local_config(urls[k]),
                tuple(served.pids),
            )
        print(
            f"  PostgreSQL, {daemons} daemons: {count / run.seconds:7.1f} tickets/s "
            f"({base_seconds / run.seconds:.2f}x SQLite's tickets/s; {run.cpu_ms(count)})"
        )
    cores = os.cpu_count() or 1
    print(
        f"  this machine has {cores} cores (shared with whatever else runs): each daemon with "
        f"its model server keeps about one busy, so more than {cores} daemons cannot scale "
        "here; the CPU per ticket says what a host of its own would give each"
    )


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--serve-model":
        serve_model(float(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("count", nargs="?", type=int, default=400, help="tickets (400)")
    parser.add_argument("kills", nargs="?", type=int, default=3, help="SIGKILLs timed (3)")
    parser.add_argument("--model-ms", type=float, default=20.0, help="CPU ms per ticket (20)")
    parser.add_argument("--only", choices=("rules", "model"), help="one variant and no takeovers")
    parser.add_argument("--rounds", type=int, default=3, help="SQLite/PostgreSQL pairs (3)")
    args = parser.parse_args()
    count = args.count
    server = PostgresServer(durable=True)
    try:
        if args.only in (None, "rules"):
            rules_tier(count, server, args.rounds)
            round_trips(min(count, 200))
        if args.only in (None, "model"):
            model_step(min(count, 150), server, args.model_ms, args.rounds)
            round_trips(min(count, 100), args.model_ms)
        if args.only is not None:
            return
        with tempfile.TemporaryDirectory() as folder:
            rename, skip_locked = claim_costs(Path(folder), server)
        print(
            f"one claim: rename into .claims/ {rename:.0f} us, SELECT ... FOR UPDATE SKIP LOCKED "
            f"(+ commit) {skip_locked:.0f} us"
        )
        times = []
        for _ in range(args.kills):
            with tempfile.TemporaryDirectory() as folder:
                times.append(takeover(Path(folder), server))
        if times:
            print(
                f"takeover after SIGKILL: median {statistics.median(times):.2f} s, max "
                f"{max(times):.2f} s, lease {LEASE:.1f} s (goal: within {2 * LEASE:.1f} s)"
            )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
