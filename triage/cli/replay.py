"""`triage replay PATH|ID...`: triage quarantined input again, after its cause was fixed.

A PATH is a file (or a folder of them), usually in the failed folder beside its `.error`
note; an ID is a quarantined ticket's id, whose input the notes in the failed folder locate.
The quarantined result is replaced in place, so an input never has two results; input that
was triaged already keeps its result. A replayed file that is triaged now moves to processed/.
"""

from __future__ import annotations

import argparse
import os
import stat
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from triage.cli.common import (
    EXIT_CONFIG,
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_USAGE,
    Commands,
    Progress,
    files_in,
    open_batch,
)
from triage.config.settings import LoadedSettings, Settings
from triage.errors import ReplayError, StoreError
from triage.files import move_without_clobber, placed_name
from triage.pipeline import Pipeline
from triage.ports import TicketStore
from triage.quarantine import (
    NOTE_SUFFIX,
    TICKET_ID,
    find_input,
    note_id,
    note_of,
    write_note,
)
from triage.records import Outcome
from triage.redaction import published
from triage.result import Result
from triage.store.guard import missing_store
from triage.ticket import RawInput, input_id


@dataclass(frozen=True)
class Target:
    path: Path
    ticket_id: str | None  # the quarantined ticket this file is the input of, when known


def register(commands: Commands) -> None:
    replay = commands.add_parser(
        "replay", help="triage quarantined input again after a fix (files, folders or ids)"
    )
    replay.add_argument("targets", nargs="+", metavar="PATH|ID")
    replay.add_argument("--json", action="store_true", help="print one result per line")
    replay.set_defaults(handler=replay_command)


def replay_command(loaded: LoadedSettings, args: argparse.Namespace) -> int:
    settings = loaded.settings
    unknown = [t for t in args.targets if not Path(t).exists() and not TICKET_ID.fullmatch(t)]
    if unknown:
        print(f"triage: not a file, folder or ticket id: {', '.join(unknown)}", file=sys.stderr)
        return EXIT_USAGE
    # A missing store would be made anew, forgetting every earlier ticket: refused, as in `run`.
    problem = missing_store(settings.store.path, settings.outbox.dir)
    if problem:
        print(f"triage: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    opened = open_batch(settings)
    if isinstance(opened, int):
        return opened
    pipeline, store = opened
    failures = 0
    try:
        targets: list[Target] = []
        for given in args.targets:
            try:
                targets.extend(_targets(given, store, settings))
            except ReplayError as exc:
                print(f"triage: {exc}", file=sys.stderr)
                failures += 1
        progress = Progress(len(targets), enabled=not args.json and sys.stderr.isatty())
        for target in targets:
            try:
                outcome = _replay(target, pipeline, store, settings)
            except (ReplayError, StoreError) as exc:
                print(f"triage: {target.path}: {exc}", file=sys.stderr)
                failures += 1
                continue
            finally:
                progress.step()
            _say(outcome, target.path, args.json)
            failures += outcome.result.status == "quarantined"
        progress.done()
    finally:
        store.close()
    return EXIT_OK if failures == 0 else EXIT_FAILURE


def _targets(given: str, store: TicketStore, settings: Settings) -> list[Target]:
    path = Path(given)
    if path.exists() or path.is_symlink():
        files = [p for p in files_in([path]) if not p.name.endswith(NOTE_SUFFIX)]
        return [Target(p, note_id(note_of(p))) for p in files]
    result = store.get_result(given)
    if result is None:
        raise ReplayError(f"{given}: no ticket with this id in {settings.store.path}")
    if result.status != "quarantined":
        print(f"{given} was {result.status} already, nothing replayed")
        return []
    found = find_input(settings.dropfolder.failed, given)
    if found is None or not found.exists():
        where = found or settings.dropfolder.failed / f"imap-{given}.eml"
        raise ReplayError(
            f"{given}: its input is not in the failed folder (it was quarantined as "
            f'"{result.status_reason}", from {result.source} {result.source_ref}); save it '
            f"as {where} and run `triage replay {given}` again"
        )
    return [Target(found, given)]


def _replay(target: Target, pipeline: Pipeline, store: TicketStore, settings: Settings) -> Outcome:
    data, modified = _read(target.path, int(settings.dropfolder.max_file_mb * 1_000_000))
    stored = store.get_result(target.ticket_id) if target.ticket_id else None
    if stored is not None:
        # The input of a known ticket: its quarantine is replaced (or its result stands).
        raw = RawInput(stored.id, data, stored.source, stored.source_ref, stored.received_at)
    else:
        raw = RawInput.of(
            data,
            name=target.path.name,
            source="cli",
            source_ref=str(target.path),
            received_at=modified,
        )
    # The fixed file's own id names the same ticket from now on (dropped again: no new one).
    outcome = pipeline.replay(raw, alias=input_id(target.path.name, [data]))
    _settle(target, outcome.result, settings)
    return outcome


def _read(path: Path, limit: int) -> tuple[bytes, datetime]:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        if path.is_symlink():
            raise ReplayError("a symbolic link: put the file itself in its place") from exc
        raise ReplayError(f"cannot read it: {exc.strerror}") from exc
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ReplayError("not a regular file: put the file itself in its place")
        if info.st_size > limit:
            raise ReplayError(
                f"{info.st_size / 1e6:.1f} MB, over [dropfolder] max_file_mb: raise it first"
            )
        return handle.read(limit + 1), datetime.fromtimestamp(info.st_mtime, UTC)


def _settle(target: Target, result: Result, settings: Settings) -> None:
    """A file of the failed folder that is triaged now moves to processed/; one that is
    still quarantined gets its note brought up to date."""
    note = note_of(target.path)
    in_quarantine = note.exists() or target.path.parent == settings.dropfolder.failed
    if not in_quarantine:
        return
    if result.status == "quarantined":
        write_note(target.path, result)
        return
    folder = settings.dropfolder.processed
    folder.mkdir(parents=True, exist_ok=True)
    move_without_clobber(target.path, placed_name(folder, target.path.name, result.id))
    note.unlink(missing_ok=True)


def _say(outcome: Outcome, path: Path, as_json: bool) -> None:
    result = outcome.result
    if as_json:
        sys.stdout.write(published(result).to_json() + "\n")
    elif result.status == "quarantined":
        print(f"{result.id} still quarantined: {result.status_reason} ({path})")
    elif not outcome.new:
        print(f"{result.id} was {result.status} already, nothing replayed ({path})")
    else:
        print(
            f"{result.id} {result.status}: {result.category}, {result.priority}, "
            f"{result.risk} risk ({path})"
        )
    sys.stdout.flush()
