"""The only home of SQL: the store's implementations of the ports (triage.ports), the schema
and its migrations. `open_store` is the one way in: nothing outside this package names a
concrete store or a database driver."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from triage.ports import Store
    from triage.store.dryrun import DryRunStore


def open_store(location: Path | str, *, read_only: bool = False) -> Store:
    """The store at `location`: a SQLite file (":memory:" for one that lives as long as the
    process). `read_only` opens it leaving no trace, creating and migrating nothing. Raises
    StoreError when it cannot be opened."""
    from triage.store.sqlite import SqliteStore

    return SqliteStore(location, read_only=read_only)


def open_dry_run(real: Path | None) -> DryRunStore:
    """A store for `process --dry-run`: reads see the real store at `real` (when there is
    one) and this run; writes stay in memory."""
    from triage.store.dryrun import DryRunStore

    return DryRunStore(real)
