"""The PostgreSQL database under the store: a psycopg 3 connection pool, the schema brought
up to date at open, and transactions.

A read takes a pooled connection for one statement (autocommit); a write transaction binds
one connection to the calling thread, and the store's reads and writes made inside it on that
thread join it, as with SQLite. What SQLite's BEGIN IMMEDIATE gives (a look-up and the write it
decides, with nobody changing the store in between) comes from a transaction-level advisory
lock taken by `transaction()`: the pipeline's commits (dedup look-ups, then the insert) are
serialised across the fleet. Plain writes take no lock.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus
from psycopg_pool import ConnectionPool, PoolTimeout

from triage.errors import StoreError
from triage.store import safe_url
from triage.store.postgres.schema import COMMIT_LOCK, MIGRATIONS, schema_version
from triage.store.postgres.schema import migrate as migrate_schema

_BEGIN_SERIALISED = f"BEGIN; SELECT pg_advisory_xact_lock({COMMIT_LOCK})".encode()

Connection = psycopg.Connection[tuple[Any, ...]]


class PostgresDatabase:
    """The pool and transactions. `node` names this daemon in leases and heartbeats."""

    def __init__(
        self,
        url: str,
        *,
        node: str | None = None,
        pool_size: int = 4,
        migrate: bool = True,
        lease_seconds: float = 30.0,
    ) -> None:
        """`migrate=False` (triage check) leaves the schema as it is; `lease_seconds`: how
        long work this node claims (deliveries) stays its own without being finished."""
        self.url = url
        self.path = safe_url(url)  # what messages call the store (never with its password)
        self.node = node or os.uname().nodename
        # This process among the fleet's: a second daemon started under the same node name
        # holds no lease of the first (triage.runtime.fleet.claim_node refuses to start it).
        self.instance = f"{os.uname().nodename}:{os.getpid()}:{secrets.token_hex(4)}"
        self.lease_seconds = lease_seconds
        self._local = threading.local()
        try:
            self._pool: ConnectionPool[Connection] = ConnectionPool(
                url,
                min_size=1,
                max_size=max(1, pool_size),
                # UTC: date() and the moments read back mean the same as in the SQLite store.
                kwargs={"autocommit": True, "options": "-c TimeZone=UTC"},
                name="triage-store",
                open=False,
            )
            self._pool.open(wait=True, timeout=30)
            if migrate:
                with self._pool.connection() as db:
                    migrate_schema(db, self.path)
        except (psycopg.Error, PoolTimeout) as exc:
            self._close_quietly()
            raise StoreError(f"cannot open the store {self.path}: {first_line(exc)}") from exc
        except BaseException:
            self._close_quietly()
            raise

    # -- schema and health ----------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        with self._connection() as db:
            return schema_version(db)

    @property
    def schema_latest(self) -> int:
        return len(MIGRATIONS)

    def server_version(self) -> str:
        """The server's version, e.g. '15.8'."""
        return str(self._read("SHOW server_version")[0][0]).split(" ")[0]

    def identity_problem(self) -> str | None:
        """A database has no file to be replaced under us: never a problem here."""
        return None

    def integrity_check(self) -> str:
        self._read("SELECT 1")
        return "ok"

    def close(self) -> None:
        self._pool.close()

    def _close_quietly(self) -> None:
        pool = getattr(self, "_pool", None)
        if pool is not None:
            pool.close()

    # -- connections and transactions ------------------------------------------------------

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        """The thread's transaction's connection, or a pooled one for this use."""
        current: Connection | None = getattr(self._local, "db", None)
        if current is not None:
            yield current
            return
        try:
            with self._pool.connection(timeout=30) as db:
                yield db
        except PoolTimeout as exc:
            raise StoreError(f"store unavailable: {first_line(exc)}") from exc

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction around look-ups and the writes they decide: no other
        daemon's or process's transaction() runs in between. Nested ones join it. Raises
        StoreError when it cannot commit."""
        with self._begin(serialised=True):
            yield

    @contextmanager
    def _begin(self, serialised: bool = False) -> Iterator[Connection]:
        """A transaction on a connection bound to this thread (the thread's own, when one is
        open: joined). `serialised`: under the commit lock, as SQLite's BEGIN IMMEDIATE."""
        current: Connection | None = getattr(self._local, "db", None)
        if current is not None:
            try:
                yield current
            except psycopg.Error as exc:
                raise StoreError(f"store write failed: {first_line(exc)}") from exc
            return
        try:
            with self._pool.connection(timeout=30) as db:
                self._local.db = db
                try:
                    # BEGIN and the lock in one round trip (a simple query of two statements)
                    db.execute(_BEGIN_SERIALISED if serialised else b"BEGIN")
                    try:
                        yield db
                    except BaseException:
                        with contextlib.suppress(psycopg.Error):
                            db.execute(b"ROLLBACK")
                        raise
                    if db.info.transaction_status == TransactionStatus.INERROR:
                        db.execute(b"ROLLBACK")  # a statement failed and was caught: not kept
                        raise StoreError("store write failed: the transaction was aborted")
                    db.execute(b"COMMIT")
                finally:
                    self._local.db = None
        except psycopg.Error as exc:
            raise StoreError(f"store write failed: {first_line(exc)}") from exc
        except PoolTimeout as exc:
            raise StoreError(f"store unavailable: {first_line(exc)}") from exc

    def _read(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            with self._connection() as db:
                return db.execute(sql.encode("utf-8"), params).fetchall()
        except psycopg.Error as exc:
            raise StoreError(f"store read failed: {first_line(exc)}") from exc

    def _write(self, sql: str, params: tuple[object, ...] = ()) -> int:
        """One statement in its own transaction (or the thread's): the rows it changed."""
        with self._begin() as db:
            return db.execute(sql.encode("utf-8"), params).rowcount


def at(moment: datetime) -> datetime:
    """A moment as stored: aware, in UTC (a naive one is a bug, as in the SQLite store)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime reached the store")
    return moment.astimezone(UTC)


def utc(value: object) -> datetime:
    if not isinstance(value, datetime):
        raise StoreError(f"store read failed: a moment came back as {type(value).__name__}")
    return value.astimezone(UTC)


def first_line(exc: BaseException) -> str:
    """An error's first line: psycopg adds context lines (and may quote the statement)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
