"""Shared fixtures: settings in a temp folder, the shared corpora, a fixed clock."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
import structlog

from tests.postgres import PostgresServer, binaries
from triage.compose.app import build_pipeline
from triage.config.settings import Settings, load_settings
from triage.delivery.outbox import Outbox
from triage.errors import StoreError
from triage.pipeline import Pipeline
from triage.ports import Store
from triage.records import Outcome
from triage.store.sqlite import SqliteStore
from triage.ticket import RawInput

REPO = Path(__file__).resolve().parent.parent
CORPORA = REPO.parent / "shared" / "corpora"


@pytest.fixture(autouse=True)
def _fresh_logging() -> Iterator[None]:
    """Each test starts and ends with structlog's defaults (the CLI reconfigures them)."""
    structlog.reset_defaults()
    yield
    structlog.reset_defaults()
    logging.getLogger().handlers.clear()


@pytest.fixture
def corpora() -> Path:
    if not CORPORA.is_dir():
        pytest.skip("../shared/corpora is not present")
    return CORPORA


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings from a config file written into tmp_path (plus any extra TOML)."""

    def make(extra: str = "", environ: dict[str, str] | None = None) -> Settings:
        config = tmp_path / "config.toml"
        config.write_text(
            "[dropfolder]\nsettle_seconds = 0.2\nrescan_seconds = 1.0\n" + extra, encoding="utf-8"
        )
        return load_settings(config, environ or {}).settings

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


class FixedClock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 2, 9, 30, tzinfo=UTC))


@pytest.fixture
def store(settings: Settings) -> Iterator[SqliteStore]:
    opened = SqliteStore(settings.store.path)
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One real PostgreSQL server for the session (tests/postgres.py), stopped at the end."""
    if binaries() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed: .ci/run installs the postgresql package")
        pytest.skip("PostgreSQL is not installed (apt-get install -y postgresql)")
    server = PostgresServer()
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty database on the session's server, dropped after the test."""
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Store]]:
    """Opens stores of one backend on one shared location: every store test runs on both
    (as APScheduler tests every job store). Stores opened through it are closed at the end."""
    from triage.store import open_shared

    opened: list[Store] = []
    if request.param == "sqlite":
        path = tmp_path / "store.sqlite3"

        def open_sqlite() -> Store:
            opened.append(SqliteStore(path))
            return opened[-1]

        yield open_sqlite
    else:
        server = request.getfixturevalue("postgres_server")
        url = server.create_database()

        def open_postgres() -> Store:
            opened.append(open_shared(url, node="test"))
            return opened[-1]

        yield open_postgres
    for each in opened:
        each.close()
    if request.param == "postgres":
        server.drop_database(url)


@pytest.fixture
def any_store(backend: Callable[[], Store]) -> Store:
    """A fresh store, SQLite or PostgreSQL (the test runs once for each)."""
    return backend()


@pytest.fixture
def pipeline(settings: Settings, store: SqliteStore, clock: FixedClock) -> Pipeline:
    return build_pipeline(settings, store, Outbox(settings.outbox.dir), clock)


def raw(
    data: bytes | str, name: str = "ticket.eml", at: datetime | None = None, source: str = "cli"
) -> RawInput:
    payload = data.encode() if isinstance(data, str) else data
    return RawInput.of(
        payload,
        name=name,
        source=source,
        source_ref=f"/in/{name}",
        received_at=at or datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
    )


def mail(
    subject: str,
    body: str,
    sender: str = "ann@example.com",
    message_id: str | None = None,
    headers: str = "",
) -> str:
    lines = [f"From: Ann Example <{sender}>", "To: helpdesk@example.com", f"Subject: {subject}"]
    if message_id:
        lines.append(f"Message-ID: {message_id}")
    lines.append("Date: Mon, 02 Nov 2026 09:00:00 +0100")
    if headers:
        lines.append(headers.rstrip("\n"))
    return "\n".join(lines) + "\n\n" + body + "\n"


def triage_command() -> list[str]:
    """The installed `triage` console script of this interpreter's environment."""
    script = Path(sys.executable).with_name("triage")
    return [str(script)] if script.exists() else [sys.executable, "-m", "triage"]


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    env.update(extra)
    return env


class FirstCommitFails:
    """Wraps the real pipeline; the first commit fails as a full disk would."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline, self.calls = pipeline, 0

    @property
    def failed(self) -> bool:
        return self.calls >= 1

    def handle_batch(self, raws: list[RawInput], on_result=None, stop=None) -> list[Outcome]:
        outcomes = []
        for raw in raws:
            outcomes.append(self.handle(raw))
            if on_result is not None:
                on_result(raw, outcomes[-1])
        return outcomes

    def handle(self, raw: RawInput) -> Outcome:
        self.calls += 1
        if self.calls == 1:
            raise StoreError("database or disk is full")
        return self.pipeline.handle(raw)


class NotifySocket:
    """A datagram socket like systemd's; messages are read in order through a cursor."""

    def __init__(self, tmp_path: Path) -> None:
        self.path = str(tmp_path / "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.messages: list[dict[str, str]] = []
        self.cursor = 0

    def read(self, seconds: float) -> list[dict[str, str]]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                data = self.sock.recv(4096).decode()
            except TimeoutError:
                continue
            self.messages.append(dict(line.split("=", 1) for line in data.splitlines()))
        return self.messages

    def wait_for(self, key: str, value: str | None = None, seconds: float = 15.0) -> dict[str, str]:
        """The next message (after the last one waited for) that has key=value."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for index in range(self.cursor, len(self.messages)):
                message = self.messages[index]
                if key in message and (value is None or message[key] == value):
                    self.cursor = index + 1
                    return message
            self.read(0.2)
        raise AssertionError(f"no {key}={value} after message {self.cursor} in {self.messages}")

    def close(self) -> None:
        self.sock.close()


def fill_disk(store: SqliteStore) -> None:
    """Fault injection: the store's database cannot grow, and what room is left in its pages
    is taken, as on a full disk: a write answers SQLITE_FULL, "database or disk is full"."""
    db = store._db
    db.execute("CREATE TABLE IF NOT EXISTS test_filler (b BLOB)")
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages}")
    for size in (4096, 512, 64, 8):
        with contextlib.suppress(sqlite3.OperationalError):
            while True:
                db.execute("INSERT INTO test_filler VALUES (zeroblob(?))", (size,))


def free_disk(store: SqliteStore) -> None:
    store._db.execute("PRAGMA max_page_count = 1073741823")


NO_SCHEDULE = "[digest]\nenabled = false\n[report]\nenabled = false\n"


@contextlib.contextmanager
def daemon_running(
    cwd: Path, config: Path, prefix: Sequence[str] = ()
) -> Iterator[subprocess.Popen[bytes]]:
    """`triage run` for the length of the block: started, its READY awaited; at the end
    SIGTERM and its exit awaited (the caller checks the code). stderr goes to
    cwd/daemon.log: a pipe nobody reads would fill and block the daemon."""
    notify = NotifySocket(cwd)
    with (cwd / "daemon.log").open("wb") as log:
        process = subprocess.Popen(
            [*prefix, *triage_command(), "--config", str(config), "run"],
            cwd=cwd,
            env=child_env(NOTIFY_SOCKET=notify.path),
            stderr=log,
        )
    try:
        notify.wait_for("READY", "1", seconds=60)
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        notify.close()


# The delivery tests' harness (it imports this module, so it comes last).
from tests.delivery_harness import harness_for  # noqa: E402, F401
