"""Several daemons on one PostgreSQL store, as real processes: a shared drop folder worked off
by three of them while one is killed with SIGKILL twice (every input exactly one result, none
lost, none left behind), one Dovecot mailbox polled by one daemon at a time and taken over
after a SIGKILL, processes racing for the last dollar of one budget, and the digest written
once by whichever daemon is up."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from tests.conftest import NO_SCHEDULE, child_env, mail, triage_command
from tests.dovecot import Dovecot
from tests.dovecot import available as dovecot_available
from tests.fleet_harness import Node, drop, files_in, shared_folders, wait_until
from triage.records import LedgerEntry
from triage.store.postgres import PostgresStore
from triage.ticket import input_id

INPUTS = 600


@pytest.mark.slow
def test_three_daemons_share_a_drop_folder_and_one_killed_twice_loses_nothing(
    tmp_path, postgres_url
):
    folders = shared_folders(tmp_path)
    nodes = [Node(tmp_path, f"n{k}", postgres_url, extra=NO_SCHEDULE) for k in (1, 2, 3)]
    for node in nodes:
        node.start()
    files = {
        f"t{n:03d}.txt": (
            f"Printer {n} jams\nThe printer on floor {n % 9} in room {n} jams since {n} minutes."
        ).encode()
        for n in range(INPUTS)
    }
    for name, data in files.items():
        drop(folders["inbox"], name, data)

    def processed() -> int:
        return len(files_in(folders["processed"]))

    victim = nodes[0]
    try:
        assert wait_until(lambda: processed() >= 100, 180)
        victim.kill()  # mid-run: it may hold claimed files, even a ticket half done
        assert wait_until(lambda: processed() >= 250, 180)
        victim.start()  # back under the same name
        assert wait_until(lambda: processed() >= 350, 180)
        victim.kill()  # and killed again, for good
        assert wait_until(lambda: processed() == INPUTS, 240), processed()
        assert wait_until(lambda: not files_in(folders["inbox"]), 30)
    finally:
        codes = {node.name: node.stop() for node in nodes}
    assert codes["n2"] == 0 and codes["n3"] == 0, codes

    expected = {input_id(name, [data]) for name, data in files.items()}
    with psycopg.connect(postgres_url) as db:
        rows = db.execute("SELECT id, status FROM tickets").fetchall()
    assert sorted(row[0] for row in rows) == sorted(expected)  # one result per input
    assert {row[1] for row in rows} == {"triaged"}
    # Each file acknowledged once: moved to processed/ once, nothing left claimed or failed.
    assert sorted(p.name for p in files_in(folders["processed"])) == sorted(files)
    assert files_in(folders["inbox"]) == []
    assert files_in(folders["failed"]) == []
    # One result file per input (a temporary file of a write the SIGKILL cut short may be
    # left beside them: a later start sweeps it once it is old, test_outbox_sweep).
    results = [p for p in files_in(folders["outbox"]) if not p.name.startswith(".")]
    assert len(results) == INPUTS
    # The survivors did the work of the dead one: each of the three took some.
    triaged = {node.name: logged_ids(node, "ticket.result") for node in nodes}
    assert all(triaged.values()), {name: len(ids) for name, ids in triaged.items()}
    # No input triaged twice. A SIGKILL between a commit and its log line loses the line, not
    # the result: the input is then picked up again and found already handled, never redone.
    done = [ticket for ids in triaged.values() for ticket in ids]
    assert len(done) == len(set(done)), "an input was triaged and committed twice"
    found_done = {ticket for node in nodes for ticket in logged_ids(node, "ticket.already_handled")}
    assert set(done) | found_done == expected
    assert expected - set(done) <= found_done


def test_a_second_daemon_under_a_running_ones_node_name_refuses_to_start(tmp_path, postgres_url):
    first = Node(tmp_path, "web-1", postgres_url, extra=NO_SCHEDULE)
    twin = Node(tmp_path / "elsewhere", "web-1", postgres_url, extra=NO_SCHEDULE)
    first.start()
    assert first.process is not None
    pid = first.process.pid
    try:
        twin.start(wait=False)
        assert twin.process is not None
        assert twin.process.wait(timeout=60) == 1
        said = twin.log()
        assert "triage: the node name 'web-1' ([store] node) is in use by another running" in said
        assert f"(pid {pid} on host " in said
        assert "set [store] node in this daemon's config.toml" in said
        assert first.process.poll() is None  # the running one goes on
        done = subprocess.run(
            [*triage_command(), "--config", str(twin.config), "check"],
            cwd=twin.cwd,
            env=child_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert f"ok   node: 'web-1': the daemon on this host (pid {pid})" in done.stdout
    finally:
        assert first.stop() == 0


def logged_ids(node: Node, event: str) -> list[str]:
    """The ticket ids of one kind of log line, in the order the node wrote them."""
    ids = []
    for line in node.log().splitlines():
        if f'"{event}"' in line:
            with contextlib.suppress(json.JSONDecodeError):
                ids.append(json.loads(line)["id"])
    return ids


RACER = """
import sys
from datetime import datetime, UTC
from triage.records import LedgerEntry
from triage.store.postgres import PostgresStore

url, name = sys.argv[1], sys.argv[2]
store = PostgresStore(url, node=name)
month = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
now = datetime(2026, 11, 20, tzinfo=UTC)
granted = 0
for _ in range(40):
    held = store.reserve("paid", None, 0.07, 1.00, *month, now)
    if held is not None:
        store.settle(held, [LedgerEntry(now, None, "security", "paid", "m", "t", "1",
                                        1, 1, 0, 0.1, 0.07, 0.07, "ok")])
        granted += 1
print(granted)
store.close()
"""


@pytest.mark.slow
def test_four_processes_racing_for_a_small_budget_never_overshoot_it(postgres_url):
    month = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
    seed = PostgresStore(postgres_url)
    seed.book(
        LedgerEntry(
            datetime(2026, 11, 3, tzinfo=UTC),
            None,
            "security",
            "paid",
            "m",
            "t",
            "1",
            1,
            1,
            0,
            0.1,
            0.30,
            0.30,
            "ok",
        )
    )
    seed.close()
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, postgres_url, f"racer{k}"],
            env=child_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for k in range(4)
    ]
    outputs = [racer.communicate(timeout=120) for racer in racers]
    for racer, (_, err) in zip(racers, outputs, strict=True):
        assert racer.returncode == 0, err.decode()[-2000:]
    granted = sum(int(out) for out, _ in outputs)
    check = PostgresStore(postgres_url)
    spent = check.spent("paid", *month)
    check.close()
    assert granted == 10  # $0.70 left: ten reservations of $0.07, and not one more
    assert spent == pytest.approx(1.00)
    assert spent <= 1.00 + 1e-9  # overshoot 0


@pytest.mark.slow
def test_the_digest_is_written_once_by_whichever_daemons_are_up(tmp_path, postgres_url):
    # Something was recorded three days ago, so yesterday's digest is due at start.
    seed = PostgresStore(postgres_url)
    seed.book(
        LedgerEntry(
            datetime.now(UTC) - timedelta(days=3),
            None,
            "other",
            "local",
            "m",
            "t",
            "1",
            1,
            1,
            0,
            0.1,
            0.0,
            0.0,
            "ok",
        )
    )
    seed.close()
    reports = tmp_path / "shared" / "reports"
    extra = (
        f'[digest]\nenabled = true\ndir = "{reports}"\nat = "00:00"\n[report]\nenabled = false\n'
    )
    nodes = [Node(tmp_path, f"n{k}", postgres_url, extra=extra) for k in (1, 2, 3)]
    down = nodes[0]  # the node that would have written it first is down
    up = nodes[1:]
    try:
        for node in up:
            node.start(wait=False)  # started together: they race for the job
        assert wait_until(lambda: sum('"digest.written"' in n.log() for n in up) >= 1, 90)
        wait_until(lambda: False, 3)  # the other had its chance meanwhile
    finally:
        codes = [node.stop() for node in up]
    assert codes == [0, 0]
    assert down.process is None
    writers = [node.name for node in up if '"digest.written"' in node.log()]
    assert len(writers) == 1, writers
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    with psycopg.connect(postgres_url) as db:
        done = db.execute("SELECT kind, period FROM jobs_done").fetchall()
    assert done == [("digest", yesterday)]
    digests = [p.name for p in files_in(reports) if yesterday in p.name]
    assert digests, files_in(reports)


@pytest.mark.slow
@pytest.mark.skipif(not dovecot_available(), reason="dovecot and openssl are not installed")
def test_one_daemon_polls_a_mailbox_and_another_takes_it_over_after_a_sigkill(
    tmp_path, postgres_url
):
    user, password = "desk@example.com", "s3cret-imap-pw"
    server = Dovecot(tmp_path / "dovecot")
    server.add_user(user, password)
    server.prepare()
    server.start()
    try:

        def deliver(numbers: range) -> None:
            client = server.login(user)
            for n in numbers:
                message = mail(f"VPN {n} drops", f"vpn {n} drops on floor {n % 4}", f"u{n}@x.org")
                client.append("INBOX", message.encode())
            client.logout()

        deliver(range(MAILS // 2))
        extra = (
            NO_SCHEDULE + f'[imap]\nenabled = true\nhost = "127.0.0.1"\nport = {server.imap_port}\n'
            f'tls = "none"\nusername = "{user}"\npassword = "{password}"\nidle = false\n'
            "poll_seconds = 0.5\nbatch_size = 5\n"
        )
        nodes = [Node(tmp_path, f"m{k}", postgres_url, extra=extra, drop=False) for k in (1, 2)]
        for node in nodes:
            node.start()
        assert wait_until(lambda: any('"fleet.lease_taken"' in n.log() for n in nodes), 30)
        holder = next(n for n in nodes if '"fleet.lease_taken"' in n.log())
        heir = next(n for n in nodes if n is not holder)
        assert wait_until(lambda: server.count_marked(user) >= 10, 120)
        holder.kill()
        assert wait_until(lambda: '"fleet.lease_taken"' in heir.log(), 30)
        deliver(range(MAILS // 2, MAILS))  # mail that only the heir can take
        assert wait_until(lambda: server.count_marked(user) == MAILS, 180)
        assert heir.stop() == 0
    finally:
        server.stop()
    with psycopg.connect(postgres_url) as db:
        count = db.execute("SELECT count(DISTINCT id), count(*) FROM tickets").fetchone()
    assert count == (MAILS, MAILS)  # every mail one result, none twice
    # the holder worked until it died; the heir took the mailbox over and worked on
    assert '"ticket.result"' in holder.log() and '"ticket.result"' in heir.log()


MAILS = 60
