"""Quarantine on disk, so that it can be acted on.

A quarantined input sits in the failed folder (`[dropfolder] failed`) with a `<name>.error`
note beside it: the reason, the ticket id and where it came from. Dropped files are moved
there; quarantined mail is copied there as `imap-<id>.eml` (the mail itself stays in its
mailbox). `triage replay` reads the notes back to find an id's input.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

from triage.files import write_atomically
from triage.redaction import scrub_text
from triage.result import Result
from triage.ticket import RawInput

NOTE_SUFFIX = ".error"
_ID_LINE = re.compile(r"^id: (t-[0-9a-f]{20})\s*$", re.MULTILINE)
TICKET_ID = re.compile(r"t-[0-9a-f]{20}")


def note_text(result: Result) -> str:
    """The note an admin reads. The result keeps `source_ref` as it is (the contract), but a
    credential in the input's name is masked here, as in the digest and the logs."""
    return (
        f"{scrub_text(result.status_reason or '')}\n"
        f"id: {result.id}\n"
        f"source: {result.source} {scrub_text(result.source_ref)}\n"
        f"after fixing the cause: triage replay {result.id}\n"
    )


def note_of(path: Path) -> Path:
    return path.with_name(path.name + NOTE_SUFFIX)


def note_id(note: Path) -> str | None:
    """The ticket id a note names; None when there is no readable note."""
    try:
        text = note.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    found = _ID_LINE.search(text)
    return found.group(1) if found else None


def write_note(path: Path, result: Result, *, replace: bool = True) -> None:
    """The note of `path`. replace=False: FileExistsError rather than overwrite a file."""
    text = note_text(result).encode("utf-8", "backslashreplace")
    write_atomically(note_of(path), text, replace=replace)


def keep_mail(folder: Path, raw: RawInput, result: Result) -> Path:
    """A quarantined mail's copy and note. Mail that was not downloaded (too large) gets
    the note alone; the admin saves the mail under the copy's name to replay it."""
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / f"imap-{raw.id}.eml"
    if raw.data:
        write_atomically(copy, raw.data)
    write_note(copy, result)
    return copy


def find_input(folder: Path, ticket_id: str) -> Path | None:
    """The quarantined input whose note names `ticket_id` (the file may be missing)."""
    for note in _notes(folder):
        if note_id(note) == ticket_id:
            return note.with_name(note.name[: -len(NOTE_SUFFIX)])
    return None


def _notes(folder: Path) -> Iterator[Path]:
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        if entry.name.endswith(NOTE_SUFFIX) and entry.is_file(follow_symlinks=False):
            yield Path(entry.path)
