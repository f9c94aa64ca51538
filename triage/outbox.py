"""The outbox: one `<id>.json` per result, written atomically (temp file, fsync, rename)."""

from __future__ import annotations

import os
from pathlib import Path

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
        target = self.path_for(result.id)
        temporary = target.with_name(f".{target.name}.tmp")
        with temporary.open("w", encoding="utf-8") as handle:
            handle.write(result.to_json() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(target)
