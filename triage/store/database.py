"""The SQLite file under the store: opening it (WAL, or read-only leaving no trace), its
migrations, write transactions shared by the threads of one process and serialised with other
processes, and the file's identity (a store deleted or replaced under a running daemon)."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from triage.errors import StoreError, StoreReplaced
from triage.store.schema import MIGRATIONS, migrate, schema_version

BUSY_SECONDS = 30.0  # how long a connection waits for another's lock
WAL_RETRY_SECONDS = 0.05


def _into_wal(db: sqlite3.Connection) -> None:
    """journal_mode=WAL. Processes opening a new file at once race to convert it, and SQLite
    answers a loser "database is locked" at once, without waiting its busy timeout (6 opened
    at once: 15 times in 200, measured): it is asked again, for up to BUSY_SECONDS."""
    deadline = time.monotonic() + BUSY_SECONDS
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(WAL_RETRY_SECONDS)


class Database:
    def __init__(self, path: Path | str, *, read_only: bool = False) -> None:
        self.path = path
        self._identity: tuple[int, int] | None = None
        try:
            if read_only:
                self._db = sqlite3.connect(_read_only_uri(path), uri=True, check_same_thread=False)
            else:
                if isinstance(path, Path):
                    path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(
                    str(path), isolation_level=None, check_same_thread=False, timeout=BUSY_SECONDS
                )
                _into_wal(self._db)
                self._db.execute("PRAGMA synchronous=FULL")
                self._db.execute("PRAGMA foreign_keys=ON")
                migrate(self._db, path)
                self._identity = _file_identity(path)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the store {path}: {exc}") from exc
        self._lock = threading.RLock()
        self._depth = 0  # transactions open on the thread that holds the lock

    # -- schema -------------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        return schema_version(self._db)

    @property
    def schema_latest(self) -> int:
        return len(MIGRATIONS)

    # -- the file itself ----------------------------------------------------------------

    def identity_problem(self) -> str | None:
        """Why the file this store writes into is no longer the store at `path` (deleted, or
        replaced by another file), or None while it is."""
        if self._identity is None:
            return None
        now = _file_identity(self.path)
        if now == self._identity:
            return None
        what = "deleted" if now is None else "replaced by another file"
        return (
            f"the store {self.path} was {what} while triage had it open; nothing more is "
            "written into the old file. Put the right store back at that path (or keep the "
            "new one) and start triage again"
        )

    # -- transactions -------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction (BEGIN IMMEDIATE) around look-ups and the writes they
        decide: no other process or thread changes the store in between. The store's reads
        and writes made inside it, on this thread, join it; so does a nested transaction.
        Raises StoreError (StoreReplaced when the file is no longer the store)."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            problem = self.identity_problem()
            if problem:
                raise StoreReplaced(problem)
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreError(f"store write failed: {exc}") from exc
            self._depth = 1
            try:
                yield
                self._db.execute("COMMIT")
            except BaseException as exc:
                # SQLite has rolled back already on some errors (SQLITE_FULL): a second
                # ROLLBACK would hide the real error behind "no transaction is active".
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise StoreError(f"store write failed: {exc}") from exc
                raise
            finally:
                self._depth = 0

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self.transaction():
            try:
                yield self._db
            except sqlite3.Error as exc:
                raise StoreError(f"store write failed: {exc}") from exc

    def _read(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        with self._lock:
            try:
                return self._db.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise StoreError(f"store read failed: {exc}") from exc

    # -- maintenance --------------------------------------------------------------------

    def integrity_check(self) -> str:
        return str(self._read("PRAGMA integrity_check")[0][0])

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _read_only_uri(path: Path | str) -> str:
    """Reading must leave no trace: SQLite opening a WAL store read-only makes its -wal and
    -shm files when they are missing (owned by whoever reads: root's would lock the service
    user out). They are missing only when no one has the store open, and then every page is
    in the main file, which `immutable` reads without them."""
    location = quote(str(Path(path).absolute()))
    if Path(f"{path}-shm").exists():
        return f"file:{location}?mode=ro"
    return f"file:{location}?mode=ro&immutable=1"


def _file_identity(path: Path | str) -> tuple[int, int] | None:
    """(device, inode) of a store file; None for an in-memory store or a missing file."""
    if str(path) == ":memory:" or str(path).startswith("file:"):
        return None
    try:
        info = Path(path).stat()
    except OSError:
        return None
    return info.st_dev, info.st_ino
