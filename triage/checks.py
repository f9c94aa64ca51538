"""`triage check`: validate the set-up and reach every enabled part, saying what to fix."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from triage.config import LoadedSettings
from triage.errors import StoreError
from triage.store import SqliteStore


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def run_checks(loaded: LoadedSettings) -> list[Check]:
    settings = loaded.settings
    where = str(loaded.source) if loaded.source else "built-in defaults (no config file found)"
    checks = [Check("config", True, f"{where}; {len(settings.rules)} rules")]
    checks.append(_store(settings.store.path))
    checks.append(_folder("outbox", settings.outbox.dir))
    if settings.dropfolder.enabled:
        folders = settings.dropfolder
        for name, path in (
            ("dropfolder inbox", folders.inbox),
            ("dropfolder processed", folders.processed),
            ("dropfolder failed", folders.failed),
        ):
            checks.append(_folder(name, path))
    else:
        checks.append(Check("dropfolder", True, "disabled"))
    return checks


def _store(path: Path) -> Check:
    try:
        store = SqliteStore(path)
    except StoreError as exc:
        return Check("store", False, f"{exc}; check [store] path and its folder's permissions")
    try:
        count = store.count_tickets()
        version = store.schema_version
    finally:
        store.close()
    return Check("store", True, f"{path} (schema v{version}, {count} tickets)")


def _folder(name: str, path: Path) -> Check:
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".triage-check-"):
            pass
    except OSError as exc:
        return Check(name, False, f"{path}: {exc.strerror or exc}; create it or fix its owner")
    if not os.access(path, os.R_OK | os.W_OK | os.X_OK):
        return Check(name, False, f"{path}: not readable and writable by this user")
    return Check(name, True, str(path))
