"""The only home of SQL: the store's implementations of the ports (triage.ports), the schema
and its migrations. `open_store` is the one way in: nothing outside this package names a
concrete store or a database driver."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from triage.ports import Store
    from triage.store.dryrun import DryRunStore
    from triage.store.postgres import PostgresStore


def open_store(location: Path | str, *, read_only: bool = False) -> Store:
    """The store at `location`: a SQLite file (":memory:" for one that lives as long as the
    process). `read_only` opens it leaving no trace, creating and migrating nothing. Raises
    StoreError when it cannot be opened."""
    from triage.store.sqlite import SqliteStore

    return SqliteStore(location, read_only=read_only)


def open_shared(
    url: str, *, node: str, pool_size: int = 4, migrate: bool = True, lease_seconds: float = 30.0
) -> PostgresStore:
    """The PostgreSQL store at `url` that several daemons share, as `node` (its name in
    leases and heartbeats). `migrate=False` (check) changes nothing. Raises StoreError when
    it cannot be reached, ImportError when psycopg (the `postgres` extra) is missing."""
    from triage.store.postgres import PostgresStore

    return PostgresStore(
        url, node=node, pool_size=pool_size, migrate=migrate, lease_seconds=lease_seconds
    )


def copy_sqlite_to(path: Path, target: PostgresStore) -> dict[str, int]:
    """Copy the SQLite store at `path` into the empty PostgreSQL store `target`, all or
    nothing (`triage store-to-postgres`): rows copied per table."""
    from triage.store.postgres.copy import copy_to_postgres

    return copy_to_postgres(path, target).rows


def safe_url(url: str) -> str:
    """A PostgreSQL URL without its password, for messages."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


def open_dry_run(real: Path | None) -> DryRunStore:
    """A store for `process --dry-run`: reads see the real store at `real` (when there is
    one) and this run; writes stay in memory."""
    from triage.store.dryrun import DryRunStore

    return DryRunStore(real)
