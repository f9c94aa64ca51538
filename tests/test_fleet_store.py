"""The fleet's leases and heartbeats in a real PostgreSQL store, a connector run by one node at
a time (`Leased`), `triage check` on a fleet's store, and moving a SQLite store there."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from tests.conftest import NO_SCHEDULE, mail
from tests.test_daemon_faults import triage
from tests.test_store import result
from triage.records import Delivery, GuardAnswer, Planned, TicketKeys
from triage.runtime.fleet import Heartbeat, Leased, Liveness, claim_node, holdings
from triage.store import safe_url
from triage.store.postgres import PostgresStore
from triage.store.postgres.schema import MIGRATIONS
from triage.store.sqlite import SqliteStore

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def two_nodes(postgres_url):
    a, b = PostgresStore(postgres_url, node="a"), PostgresStore(postgres_url, node="b")
    yield a, b
    a.close()
    b.close()


def test_a_lease_is_one_nodes_until_it_runs_out_or_is_given_back(two_nodes):
    a, b = two_nodes
    assert a.take_lease("imap:x/INBOX", 30, NOW)
    assert not b.take_lease("imap:x/INBOX", 30, NOW + timedelta(seconds=10))
    assert a.take_lease("imap:x/INBOX", 30, NOW + timedelta(seconds=20))  # renewed
    assert not b.take_lease("imap:x/INBOX", 30, NOW + timedelta(seconds=45))
    assert a.lease_holder("imap:x/INBOX", NOW + timedelta(seconds=45)) == "a"
    assert a.leases_held(NOW + timedelta(seconds=45)) == ["imap:x/INBOX"]
    # a stops renewing (it died): once the lease has run out, b takes it
    assert b.take_lease("imap:x/INBOX", 30, NOW + timedelta(seconds=51))
    assert a.lease_holder("imap:x/INBOX", NOW + timedelta(seconds=52)) == "b"
    assert not a.take_lease("imap:x/INBOX", 30, NOW + timedelta(seconds=52))
    b.release_lease("imap:x/INBOX")  # a clean stop gives it back at once
    assert a.take_lease("imap:x/INBOX", 30, NOW + timedelta(seconds=53))


def test_heartbeats_say_who_is_alive_and_what_each_holds(two_nodes):
    a, b = two_nodes
    a.heartbeat("node a holds 0 claimed; 0 waiting", NOW)
    b.heartbeat("node b holds 2 claimed; 1 waiting", NOW + timedelta(seconds=5))
    a.take_lease("jobs", 30, NOW)
    a.take_lease("node:a", 30, NOW)
    seen = a.fleet(NOW - timedelta(minutes=1))
    assert [(n.name, n.status) for n in seen] == [
        ("b", "node b holds 2 claimed; 1 waiting"),
        ("a", "node a holds 0 claimed; 0 waiting"),
    ]
    assert a.fleet(NOW + timedelta(seconds=1))[0].name == "b"
    assert holdings(a, NOW) == ["jobs"]
    assert a.all_leases(NOW) == [("jobs", "a"), ("node:a", "a")]
    liveness = Liveness(b, lambda: NOW + timedelta(seconds=10))
    assert liveness.alive("a")
    assert not Liveness(b, lambda: NOW + timedelta(seconds=31)).alive("a")


class Recorder:
    """A stand-in connector: it notes which node runs it, until its stop event is set."""

    def __init__(self, node: str, ran: list[str], stop: threading.Event) -> None:
        self.name = f"recorder-{node}"
        self.last_activity = time.monotonic()
        self._node, self._ran, self._stop = node, ran, stop

    def run(self) -> None:
        self._ran.append(self._node)
        while not self._stop.wait(0.05):
            self.last_activity = time.monotonic()


def test_a_leased_connector_runs_on_one_node_and_moves_when_that_node_stops(two_nodes):
    a, b = two_nodes
    ran: list[str] = []
    stops = {"a": threading.Event(), "b": threading.Event()}

    def leased(store: PostgresStore) -> Leased:
        def make(stop: threading.Event) -> Recorder:
            return Recorder(store.node, ran, stop)

        return Leased("imap:x/INBOX", make, store, 2, lambda: datetime.now(UTC), stops[store.node])

    first, second = leased(a), leased(b)
    threads = [threading.Thread(target=first.run), threading.Thread(target=second.run)]
    threads[0].start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not first.held:
        time.sleep(0.05)
    threads[1].start()
    time.sleep(2.5)  # more than a lease: the holder renews it, the other keeps waiting
    assert ran == ["a"] and first.held and not second.held
    stops["a"].set()  # a stops cleanly: the lease is given back
    threads[0].join(timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not second.held:
        time.sleep(0.05)
    stops["b"].set()
    threads[1].join(timeout=10)
    assert ran == ["a", "b"]


def test_a_heartbeat_holds_the_node_lease_and_gives_it_back_at_a_clean_stop(two_nodes):
    a, b = two_nodes
    stop = threading.Event()
    beat = Heartbeat(a, 30, lambda: datetime.now(UTC), stop)
    beat.start()
    assert b.lease_holder("node:a", datetime.now(UTC)) == "a"
    stop.set()
    beat.stop()
    assert b.lease_holder("node:a", datetime.now(UTC)) is None


def test_a_second_process_under_a_live_nodes_name_is_refused_and_a_dead_ones_taken_over(
    postgres_url,
):
    def now() -> datetime:
        return datetime.now(UTC)

    first, second, third = (PostgresStore(postgres_url, node="web-1") for _ in range(3))
    try:
        stop = threading.Event()
        beat = Heartbeat(first, 1.0, now, stop)
        beat.start()  # alive: renews its node lease every third of a second
        assert not second.take_lease("node:web-1", 1.0, now())  # one name, another process
        refused = claim_node(second, 1.0, now, threading.Event())
        assert refused is not None
        assert "the node name 'web-1' ([store] node) is in use" in refused
        assert f"pid {os.getpid()} on host {os.uname().nodename}" in refused
        assert "set [store] node in this daemon's config.toml" in refused
        assert first.leases_held(now()) == ["node:web-1"]  # the first one keeps its name
        stop.set()  # the first one dies: no clean stop, its lease is not given back
        assert beat._thread is not None
        beat._thread.join(timeout=5)
        assert claim_node(third, 1.0, now, threading.Event()) is None  # after it runs out
        assert third.leases_held(now()) == ["node:web-1"]
        assert first.leases_held(now()) == []
    finally:
        for store in (first, second, third):
            store.close()


def test_a_daemon_whose_node_name_was_taken_while_it_stalled_says_it_must_stop(postgres_url):
    stalled, other = (PostgresStore(postgres_url, node="web-1") for _ in range(2))
    try:
        beat = Heartbeat(stalled, 1.0, lambda: NOW, threading.Event())
        assert beat.beat() and beat.lost is None
        # it stalls past its lease; another daemon under the same name starts meanwhile
        assert claim_node(other, 1.0, lambda: NOW + timedelta(seconds=2), threading.Event()) is None
        late = Heartbeat(stalled, 1.0, lambda: NOW + timedelta(seconds=2.5), threading.Event())
        assert not late.beat()
        assert late.lost is not None
        assert "took the node name 'web-1' ([store] node)" in late.lost
        assert f"(pid {os.getpid()} on host {os.uname().nodename})" in late.lost
        assert other.leases_held(NOW + timedelta(seconds=2.5)) == ["node:web-1"]
    finally:
        stalled.close()
        other.close()


@pytest.mark.parametrize(
    ("held_by", "ok", "says"),
    [
        (None, True, "'web-1': no daemon of the fleet runs under this name now"),
        ("here:4242:ab12cd34", True, "'web-1': the daemon on this host (pid 4242)"),
        (
            "other-host:4242:ab12cd34",
            False,
            "'web-1' ([store] node) is in use by a daemon on host other-host (pid 4242)",
        ),
    ],
)
def test_check_says_whether_this_configs_node_name_is_held_from_another_host(held_by, ok, says):
    from triage.cli.check import _node_name
    from triage.records import Lease

    held = Lease("node:web-1", "web-1", held_by, NOW) if held_by else None
    check = _node_name("web-1", held, "here")
    assert check.ok is ok and says in check.detail


def test_the_url_password_is_never_shown():
    assert safe_url("postgresql://triage:s3cret@db:5432/t") == "postgresql://triage:***@db:5432/t"
    assert safe_url("postgresql://triage@db/t") == "postgresql://triage@db/t"


@pytest.mark.slow
def test_check_names_the_store_its_version_and_the_daemons_seen(tmp_path, postgres_url):
    secret_url = postgres_url.replace("postgres@", "postgres:s3cret-pw@")
    store = PostgresStore(postgres_url, node="web-1")
    store.heartbeat("node web-1 holds jobs, 0 claimed; 0 waiting", datetime.now(UTC))
    store.take_lease("jobs", 60, datetime.now(UTC))
    store.close()
    config = tmp_path / "config.toml"
    config.write_text(NO_SCHEDULE)
    done = triage(config, tmp_path, "check", TRIAGE_STORE__URL=secret_url)
    assert "s3cret-pw" not in done.stdout + done.stderr
    store_line = next(line for line in done.stdout.splitlines() if " store: " in line)
    assert store_line.startswith("ok   store: PostgreSQL 1")
    assert "postgres:***@127.0.0.1" in store_line and f"schema v{len(MIGRATIONS)}" in store_line
    assert "ok   node: " in done.stdout  # this config's node name: free
    fleet = done.stdout.split("fleet: ", 1)[1]
    assert fleet.startswith("1 daemons seen in the last 5 minutes")
    assert "web-1 (pid " in fleet and "holds jobs" in fleet


@pytest.mark.slow
def test_a_sqlite_store_moves_to_postgresql_whole_and_only_into_an_empty_database(
    tmp_path, postgres_url
):
    config = tmp_path / "config.toml"
    config.write_text(NO_SCHEDULE)
    tickets = tmp_path / "tickets"
    tickets.mkdir()
    (tickets / "a.eml").write_text(mail("VPN down", "vpn fails since 9", message_id="<a@x>"))
    (tickets / "b.eml").write_text(mail("VPN down", "vpn fails since 9", message_id="<a@x>"))
    (tickets / "c.txt").write_text("Printer jams\nfloor 3")
    assert triage(config, tmp_path, "process", str(tickets)).returncode == 0
    sqlite = SqliteStore(tmp_path / "var" / "triage.sqlite3")  # the guard's memory moves too
    for raised, held in ((True, False), (True, True), (False, True)):
        sqlite.remember_guard_answer(GuardAnswer(raised, held), "t-x", "m.gguf", NOW, keep=200)
    sqlite.close()
    done = triage(config, tmp_path, "store-to-postgres", TRIAGE_STORE__URL=postgres_url)
    assert done.returncode == 0, done.stderr
    assert "3 tickets" in done.stdout
    moved = PostgresStore(postgres_url)
    try:
        assert moved.count_tickets() == 3
        assert moved.find_by_message_id("<a@x>") is not None
        # it works on as a store: the same input is found handled
        original = moved.find_by_message_id("<a@x>")
        assert original is not None and moved.get_result(original) is not None
        moved.save(result("t-new"), TicketKeys(None), NOW)
        assert moved.guard_answers(20) == [
            GuardAnswer(True, False),
            GuardAnswer(True, True),
            GuardAnswer(False, True),
        ]
    finally:
        moved.close()
    again = triage(config, tmp_path, "store-to-postgres", TRIAGE_STORE__URL=postgres_url)
    assert again.returncode == 1 and "holds tickets already" in again.stderr
    with psycopg.connect(postgres_url) as db:
        assert db.execute("SELECT count(*) FROM tickets").fetchone()[0] == 4


@pytest.mark.slow
def test_one_off_commands_work_on_the_fleets_store(tmp_path, postgres_url):
    config = tmp_path / "config.toml"
    reports = tmp_path / "reports"
    config.write_text(
        f'[digest]\nenabled = false\ndir = "{reports}"\n[report]\nenabled = false\n',
        encoding="utf-8",
    )
    tickets = tmp_path / "tickets"
    tickets.mkdir()
    (tickets / "a.txt").write_text("Printer jams on floor 3\nthe tray is stuck")
    (tickets / "b.txt").write_text("Outlook crashes at start\nsince this morning")
    done = triage(config, tmp_path, "process", str(tickets), TRIAGE_STORE__URL=postgres_url)
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "var" / "triage.sqlite3").exists()  # nothing went to SQLite
    with psycopg.connect(postgres_url) as db:
        assert db.execute("SELECT count(*) FROM tickets").fetchone()[0] == 2
    today = datetime.now(UTC).date().isoformat()
    digest = triage(config, tmp_path, "digest", "--date", today, TRIAGE_STORE__URL=postgres_url)
    assert digest.returncode == 0, digest.stderr
    written = (reports / f"digest-{today}.md").read_text()
    assert "Printer jams on floor 3" in written and "Outlook crashes at start" in written


def test_daemons_working_off_the_deliveries_never_take_the_same_one(two_nodes):
    a, b = two_nodes
    planned = Planned(
        tuple(
            Delivery(f"d{n}", "t-1", "webhook", "https://hook", (), b"{}", NOW) for n in range(40)
        )
    )
    a.save(result("t-1"), TicketKeys(None), NOW, planned)
    taken: dict[str, list[str]] = {"a": [], "b": []}
    start = threading.Barrier(2)

    def work(store: PostgresStore) -> None:
        start.wait()
        while batch := store.deliveries_due("webhook", NOW, 3, 1 << 20):
            taken[store.node].extend(p.delivery.key for p in batch)

    threads = [threading.Thread(target=work, args=(store,)) for store in (a, b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(taken["a"] + taken["b"]) == sorted(f"d{n}" for n in range(40))
    assert not set(taken["a"]) & set(taken["b"])
    # claimed and never finished (its daemon died): due again once the claim has run out
    assert b.deliveries_due("webhook", NOW + timedelta(seconds=29), 50, 1 << 20) == []
    again = b.deliveries_due("webhook", NOW + timedelta(seconds=31), 50, 1 << 20)
    assert len(again) == 40


def test_the_crying_wolf_guard_trips_for_every_daemon_on_the_fleets_answers(
    make_settings, clock, postgres_url
):
    """Two daemons' pipelines on one PostgreSQL, a model that raises the risk of every
    ticket: each answers three tickets, fewer than the guard needs to judge (5), yet together
    they passed the share, so the guard trips for both and holds back the raises after."""
    from tests.conftest import raw
    from tests.test_judge import always_high
    from triage.compose.app import build_pipeline
    from triage.tiers.trust import held_back

    settings = make_settings("[local]\nwolf_share = 0.5\nwolf_window = 10\n")
    stores = [PostgresStore(postgres_url, node=name) for name in ("a", "b")]
    try:
        pipelines = [
            build_pipeline(settings, store, None, clock, local=always_high(), guard_memory=store)
            for store in stores
        ]
        outcomes = []
        for n in range(6):  # alternately on a and b: three answers each
            ticket = raw(mail(f"Printer {n}", f"tray {n} jams on floor {n}"), name=f"{n}.eml")
            outcomes.append(pipelines[n % 2].handle(ticket))
        assert not any(held_back(o.result.needs_review) for o in outcomes[:5])
        assert held_back(outcomes[5].result.needs_review)  # after five raises of six
        for pipeline in pipelines:
            guard = pipeline.model_guard()
            assert guard.tripped and guard.state()["seen"] == 6 and guard.state()["raises"] == 6
        later = [
            pipeline.handle(raw(mail(f"Printer {n}", f"tray {n} is empty"), name=f"x{n}.eml"))
            for n, pipeline in enumerate(pipelines)
        ]
        assert all(held_back(o.result.needs_review) and o.result.risk != "high" for o in later)
    finally:
        for store in stores:
            store.close()
