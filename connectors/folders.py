"""The drop folder's folders: the inbox (watched for events) and where acknowledged files go,
`processed/` and `failed/` (with a `.error` note beside each quarantined input).

A folder removed or rotated away while the daemon runs is made again, said once; a fault
that stays (a folder that cannot be made, a move that fails) is logged once with what to do
and kept in `faults` for STATUS= and `check`. Files are placed under names no earlier file
has (triage.files.placed_name), never over one.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import structlog
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from triage.faultlog import FaultLog
from triage.files import move_without_clobber, placed_name
from triage.quarantine import NOTE_SUFFIX, note_of, write_note
from triage.result import Result

log = structlog.get_logger("triage.dropfolder")


class Folders:
    def __init__(
        self,
        inbox: Path,
        processed: Path,
        failed: Path,
        note: Callable[[str], None],
        faults: FaultLog,
    ) -> None:
        self.inbox, self.processed, self.failed = inbox, processed, failed
        self._note = note  # told the name of each file an event mentions
        self._faults = faults
        self._observer: Any = None
        self._watched: tuple[int, int] | None = None

    def prepare(self) -> None:
        """Every folder is there, made if need be; one that cannot be is reported (once)."""
        for role in ("inbox", "processed", "failed"):
            self._ensure(role, made="dropfolder.folder_made")

    def ensure(self) -> None:
        """Every folder is there (made again if need be); a new inbox is watched anew."""
        for role in ("inbox", "processed", "failed"):
            self._ensure(role)
        if _identity(self.inbox) != self._watched:
            self.unwatch()
            self.watch()

    def _ensure(self, role: str, made: str = "dropfolder.folder_recreated") -> bool:
        folder: Path = getattr(self, role)
        if folder.is_dir():
            self._faults.clear(f"folder:{role}", "dropfolder.folder_ok", folder=str(folder))
            return True
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            hint = f"remove what is in the way or fix [dropfolder] {role}"
            self._faults.report(
                f"folder:{role}",
                "dropfolder.folder_unusable",
                f"the {role} folder {folder} is missing and cannot be made "
                f"({exc.strerror or exc}): {hint}",
                folder=str(folder),
                error=str(exc),
                hint=hint,
            )
            return False
        if made == "dropfolder.folder_made":
            log.info(made, folder=str(folder), role=role)
        else:  # it was there, and has gone while running
            log.warning(made, folder=str(folder), role=role)
        self._faults.clear(f"folder:{role}", "dropfolder.folder_ok", folder=str(folder))
        return True

    # -- the inbox's events -------------------------------------------------------------

    def watch(self) -> None:
        try:
            observer = Observer()
            observer.schedule(_Events(self._note), str(self.inbox), recursive=False)
            observer.start()
        except OSError as exc:  # the rescan still finds the files, only later
            log.warning("dropfolder.watch_failed", inbox=str(self.inbox), error=str(exc))
            return
        self._observer = observer
        self._watched = _identity(self.inbox)

    def unwatch(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
            self._observer = None

    # -- acknowledgement ----------------------------------------------------------------

    def settle(self, path: Path, result: Result) -> bool:
        """Move a committed input out of the inbox: to failed/ with its note when it was
        quarantined, else to processed/. False when it could not be moved (it stays)."""
        if result.status == "quarantined":
            return self._move(path, "failed", result, with_note=True)
        return self._move(path, "processed", result)

    def _move(self, path: Path, role: str, result: Result, with_note: bool = False) -> bool:
        if not self._ensure(role):
            return False
        folder: Path = getattr(self, role)
        try:
            target = placed_name(folder, path.name, result.id, NOTE_SUFFIX)
            if with_note:
                write_note(target, result, replace=False)
            try:
                move_without_clobber(path, target)
            except BaseException:
                if with_note:
                    note_of(target).unlink(missing_ok=True)
                raise
        except FileNotFoundError as exc:
            if path.exists() or path.is_symlink():
                return self._move_failed(path, role, folder, exc)
            return True  # gone from the inbox meanwhile: nothing left to acknowledge
        except OSError as exc:
            return self._move_failed(path, role, folder, exc)
        self._faults.clear(f"move:{role}", "dropfolder.moves_again", folder=str(folder))
        log.debug("dropfolder.moved", file=printable(path), to=printable(target))
        return True

    def _move_failed(self, path: Path, role: str, folder: Path, exc: OSError) -> bool:
        # Committed but not moved: the retry finds it handled and moves it then.
        hint = f"make {folder} writable by this user, or fix [dropfolder] {role}"
        self._faults.report(
            f"move:{role}",
            "dropfolder.move_failed",
            f"cannot move files to {folder} ({exc.strerror or exc}): {hint}",
            file=printable(path),
            error=str(exc),
            hint=hint,
        )
        return False


class _Events(FileSystemEventHandler):
    # Reading a file raises "opened" and "closed_no_write" events of its own: taking them
    # as news would queue every file again each time it is read.
    _IGNORED = frozenset({"opened", "closed_no_write", "deleted"})

    def __init__(self, note: Callable[[str], None]) -> None:
        self._note = note

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in self._IGNORED:
            return
        for attribute in ("src_path", "dest_path"):
            raw_path = getattr(event, attribute, "")
            if raw_path:
                self._note(Path(os.fsdecode(raw_path)).name)


def _identity(folder: Path) -> tuple[int, int] | None:
    try:
        info = folder.stat()
    except OSError:
        return None
    return info.st_dev, info.st_ino


def printable(path: Path) -> str:
    """A path as text even when its name is not valid UTF-8."""
    with contextlib.suppress(UnicodeEncodeError):
        return str(path).encode("utf-8").decode("utf-8")
    return os.fsencode(path).decode("utf-8", "backslashreplace")
