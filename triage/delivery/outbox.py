"""The outbox: one `<id>.json` per result, written atomically (temp file, fsync, rename).

An outbox folder removed or rotated away while the daemon runs is made again at the next
write (said once in the log); one that cannot be made fails the write, so the input stays
unacknowledged and is retried."""

from __future__ import annotations

from pathlib import Path

import structlog

from triage.files import write_atomically
from triage.redaction import published
from triage.result import Result

log = structlog.get_logger("triage.delivery.outbox")


class Outbox:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

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
