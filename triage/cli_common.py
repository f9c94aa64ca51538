"""What the command modules share: exit codes (CONTRACT.md), start-up errors, file walking
and progress output."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from triage.errors import ConfigError, StoreError

if TYPE_CHECKING:
    from triage.config import Settings
    from triage.dryrun import DryRunStore
    from triage.pipeline import Pipeline
    from triage.store import SqliteStore

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_CONFIG = 0, 1, 2, 78


def start_errors() -> tuple[type[Exception], ...]:
    """What stops a command at start: the store, and the model tiers that are configured
    (imported lazily)."""
    from triage.learned.model_file import ModelFileError

    try:
        from models.local import LocalModelError
    except ImportError:  # llama-cpp-python not installed: [local] cannot be enabled anyway
        return (StoreError, ModelFileError)
    return (StoreError, ModelFileError, LocalModelError)


def files_in(paths: Sequence[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink())
        else:
            yield path


class Progress:
    """A one-line counter on a terminal for long runs; silent otherwise."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.count, self.enabled = total, 0, enabled and total > 20

    def step(self) -> None:
        self.count += 1
        if self.enabled and (self.count % 10 == 0 or self.count == self.total):
            print(f"\r{self.count}/{self.total}", end="", file=sys.stderr, flush=True)

    def done(self) -> None:
        if self.enabled:
            print(file=sys.stderr)


def open_batch(
    settings: Settings, dry_run: bool = False
) -> tuple[Pipeline, SqliteStore | DryRunStore] | int:
    """The pipeline and store of a one-off command, or the exit code of why there is none
    (the message already printed)."""
    from triage.compose import build_batch

    try:
        return build_batch(settings, dry_run=dry_run)
    except ConfigError as exc:
        print(f"triage: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except start_errors() as exc:
        print(f"triage: {exc}", file=sys.stderr)
        return EXIT_FAILURE
