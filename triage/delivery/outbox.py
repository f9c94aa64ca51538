"""The outbox: one `<id>.json` per result, written atomically (temp file, fsync, rename).

An outbox folder removed or rotated away while the daemon runs is made again at the next
write (said once in the log); one that cannot be made fails the write, so the input stays
unacknowledged and is retried. A temporary file left by a writer killed mid-write (kill -9,
power loss) is removed when the outbox is next opened, once it is old enough that no live
writer can still own it."""

from __future__ import annotations

import time
from pathlib import Path

import structlog

from triage.files import write_atomically
from triage.redaction import published
from triage.result import Result

log = structlog.get_logger("triage.delivery.outbox")

# A write takes milliseconds; a temporary file this old belongs to a writer that died.
STALE_SECONDS = 600.0


class Outbox:
    def __init__(self, directory: Path, now: float | None = None) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.sweep(time.time() if now is None else now)

    def sweep(self, now: float) -> int:
        """Remove temporary files (`.<id>.json.<pid>-<n>.tmp`) older than STALE_SECONDS:
        left by a writer killed mid-write. How many were removed."""
        removed = 0
        for path in self.directory.glob(".*.json.*.tmp"):
            try:
                if now - path.stat().st_mtime >= STALE_SECONDS:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue  # its writer finished (or another daemon swept it) meanwhile
        if removed:
            log.info("outbox.swept", dir=str(self.directory), temporary_files=removed)
        return removed

    def path_for(self, ticket_id: str) -> Path:
        return self.directory / f"{ticket_id}.json"

    def exists(self, ticket_id: str) -> bool:
        return self.path_for(ticket_id).is_file()

    def write(self, result: Result) -> None:
        data = (published(result).to_json() + "\n").encode("utf-8")
        try:
            write_atomically(self.path_for(result.id), data)
        except FileNotFoundError:
            if self.directory.is_dir():
                raise
            self.directory.mkdir(parents=True, exist_ok=True)  # OSError: the caller retries
            log.warning("outbox.recreated", dir=str(self.directory))
            write_atomically(self.path_for(result.id), data)
