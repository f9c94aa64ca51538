"""Small file operations the intakes, the outbox and the quarantine share."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from triage.ticket import RawInput, input_id

_CHUNK = 1 << 20


def write_atomically(path: Path, data: bytes) -> None:
    """Write under a temporary name, fsync, then rename: a reader never sees half a file,
    and a crash leaves the old file or the new one."""
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(path)


def free_name(folder: Path, name: str) -> Path:
    """`folder/name`, or `name.1.ext`, `name.2.ext`... when taken."""
    target = folder / name
    counter = 1
    while target.exists() or target.is_symlink():
        stem, dot, suffix = name.rpartition(".")
        target = folder / (f"{stem}.{counter}.{suffix}" if dot and stem else f"{name}.{counter}")
        counter += 1
    return target


def read_file_input(
    handle: BinaryIO,
    name: str,
    limit: int,
    source: str,
    source_ref: str,
    received_at: datetime,
) -> RawInput:
    """An open file as input. One over `limit` bytes is refused unread (its id still comes
    from its bytes, hashed in chunks), to be quarantined with the reason."""
    size = os.fstat(handle.fileno()).st_size
    if size > limit:
        digest = input_id(name, iter(lambda: handle.read(_CHUNK), b""))
        reason = f"file is {size / 1e6:.1f} MB, over [dropfolder] max_file_mb"
        return RawInput(digest, b"", source, source_ref, received_at, refused=reason)
    data = handle.read(limit + 1)
    return RawInput.of(
        data, name=name, source=source, source_ref=source_ref, received_at=received_at
    )
