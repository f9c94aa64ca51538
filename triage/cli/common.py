"""What the command modules share: exit codes (CONTRACT.md) and the one map from errors to
them, file walking and progress output."""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from triage.errors import (
    AccountError,
    BackendUnavailable,
    ConfigError,
    InputError,
    StoreError,
    TriageError,
)
from triage.files import read_file_input
from triage.ticket import RawInput

if TYPE_CHECKING:
    from triage.config.settings import Settings
    from triage.pipeline import Pipeline
    from triage.ports import BatchStore, Store

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_CONFIG = 0, 1, 2, 78

# The one map from errors (triage.errors) to exit codes, most specific first: a model file of
# the wrong kind is both a ConfigError and a LocalModelError, and a configuration error.
EXIT_CODES: tuple[tuple[type[TriageError], int], ...] = (
    (ConfigError, EXIT_CONFIG),
    (StoreError, EXIT_FAILURE),
    (BackendUnavailable, EXIT_FAILURE),
    (AccountError, EXIT_FAILURE),
    (InputError, EXIT_FAILURE),
)

# argparse's sub-parser collection, as each command module's `register` receives it.
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

NEW_STORE_HELP = (
    "start with an empty store although the outbox holds results of an earlier one "
    "(forgets which inputs were triaged and what this month cost)"
)


def exit_code(exc: TriageError) -> int:
    for kind, code in EXIT_CODES:
        if isinstance(exc, kind):
            return code
    return EXIT_FAILURE


def refuse(exc: TriageError) -> int:
    """Say why a command stops (the message names what to fix) and return its exit code."""
    print(f"triage: {exc}", file=sys.stderr)
    return exit_code(exc)


def files_in(paths: Sequence[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink())
        else:
            yield path


TICKET_SUFFIXES = frozenset({".eml", ".txt", ".md", ".json", ".msg", ".tnef", ".mbox"})
# Names and suffixes of what sits beside tickets in a folder but is never one.
NOT_TICKET_NAMES = ("license", "copying", "notice", "authors", "readme", "changelog", "manifest")
NOT_TICKET_SUFFIXES = frozenset(
    {
        ".csv",
        ".jsonl",
        ".ndjson",
        ".py",
        ".sh",
        ".toml",
        ".yaml",
        ".yml",
        ".ini",
        ".cfg",
        ".lock",
        ".html",
        ".htm",
        ".png",
        ".jpg",
        ".jpeg",
        ".gif",
        ".svg",
        ".pdf",
        ".zip",
        ".gz",
        ".tar",
        ".pyc",
        ".xml",
    }
)
_HEADER_LINE = re.compile(rb"^[A-Za-z][A-Za-z0-9-]*:[ \t]")
_MAIL_HEADER = re.compile(rb"^(from|subject|message-id|date|to|received|return-path):", re.I | re.M)


def ticket_files(paths: Sequence[Path]) -> tuple[list[Path], list[Path]]:
    """(files to triage, files skipped) for `process`. A file named on the command line is
    always taken. In a folder, what is plainly not a ticket is skipped: a LICENSE, a README,
    a .csv or a picture, and a text file without a ticket's name that does not start like a
    mail or JSON. Binary mail formats (.msg, TNEF, no name) are taken: they are quarantined
    with the reason, so an admin sees them. Hidden files and folders (.git) are left out."""
    taken: list[Path] = []
    skipped: list[Path] = []
    for path in paths:
        if not path.is_dir():
            taken.append(path)
            continue
        for found in sorted(path.rglob("*")):
            relative = found.relative_to(path).parts
            if any(part.startswith(".") for part in relative):
                continue
            if not found.is_file() or found.is_symlink():
                continue
            (taken if _looks_like_ticket(found) else skipped).append(found)
    return taken, skipped


def _looks_like_ticket(path: Path) -> bool:
    suffix = path.suffix.lower()
    if path.stem.lower() in NOT_TICKET_NAMES:  # README.md, LICENSE.txt, CHANGELOG.md
        return False
    if suffix in TICKET_SUFFIXES:
        return True
    if suffix in NOT_TICKET_SUFFIXES or path.name.lower().startswith(NOT_TICKET_NAMES):
        return False
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError:
        return True  # let the reading report why it cannot be read
    if b"\0" in head:
        return True  # binary: a mail format we cannot read is quarantined, not hidden
    text = head.lstrip()
    mail = bool(_HEADER_LINE.match(text)) and bool(_MAIL_HEADER.search(text))
    return mail or text.startswith((b"From ", b"{"))


def read_input(path: Path, limit: int) -> RawInput:
    """A file as input; one over the limit is quarantined unread, as the drop folder does."""
    with path.open("rb") as handle:
        received_at = datetime.fromtimestamp(os.fstat(handle.fileno()).st_mtime, UTC)
        # The absolute path, as the drop folder stores it: a relative one means nothing later.
        ref = str(path.absolute())
        return read_file_input(handle, path.name, limit, "cli", ref, received_at)


def plural(count: int, word: str) -> str:
    """ "1 input", "2 inputs"."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def refuse_missing_store(settings: Settings) -> int | None:
    """EXIT_CONFIG (the message printed) when the store is missing yet the outbox holds
    results (store_guard.missing_store); None when going on is safe."""
    from triage.store.guard import missing_store

    problem = missing_store(settings.store.path, settings.outbox.dir)
    if problem:
        print(f"triage: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    return None


def open_existing_store(settings: Settings) -> Store | int | None:
    """The store opened read-only, creating and migrating nothing; None when there is none
    yet (nothing was triaged); an exit code (the message printed) when it is missing while
    the outbox holds results, or cannot be opened."""
    from triage.store import open_store

    if settings.store.url is not None:  # a fleet's PostgreSQL store
        try:
            return open_settings_store(settings, read_only=True)
        except TriageError as exc:
            return refuse(exc)
    refused = refuse_missing_store(settings)
    if refused is not None:
        return refused
    path = settings.store.path
    if not path.exists():
        return None
    try:
        return open_store(path, read_only=True)
    except StoreError as exc:
        print(f"triage: {exc}", file=sys.stderr)
        return EXIT_FAILURE


def open_settings_store(settings: Settings, *, read_only: bool = False) -> Store:
    """The configured store for a command: the fleet's PostgreSQL store when `[store] url`
    is set (`read_only`: its schema is left as it is), else the SQLite file at `path`."""
    from triage.store import open_shared, open_store

    if settings.store.url is None:
        return open_store(settings.store.path, read_only=read_only)
    try:
        return open_shared(
            settings.store.url.get_secret_value(),
            node=f"cli-{os.getpid()}",
            pool_size=1,
            migrate=not read_only,
        )
    except ImportError as exc:
        raise ConfigError(
            f"[store] url: psycopg is missing ({exc}): pip install 'triage[postgres]'"
        ) from None


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


def open_batch(settings: Settings, dry_run: bool = False) -> tuple[Pipeline, BatchStore] | int:
    """The pipeline and store of a one-off command, or the exit code of why there is none
    (the message already printed)."""
    from triage.compose.app import build_batch

    try:
        return build_batch(settings, dry_run=dry_run)
    except TriageError as exc:
        return refuse(exc)
