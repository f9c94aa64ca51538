"""The outbox: one `<id>.json` per result, written atomically (temp file, fsync, rename)."""

from __future__ import annotations

from pathlib import Path

from triage.files import write_atomically
from triage.result import Result


class Outbox:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def path_for(self, ticket_id: str) -> Path:
        return self.directory / f"{ticket_id}.json"

    def exists(self, ticket_id: str) -> bool:
        return self.path_for(ticket_id).is_file()

    def write(self, result: Result) -> None:
        write_atomically(self.path_for(result.id), (result.to_json() + "\n").encode("utf-8"))
