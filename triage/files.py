"""Small file operations the intakes, the outbox and the quarantine share."""

from __future__ import annotations

import ctypes
import errno
import itertools
import os
import shutil
import time
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from triage.ticket import RawInput, input_id

_CHUNK = 1 << 20
_serial = itertools.count()
_AT_FDCWD, _RENAME_NOREPLACE = -100, 1
_NAME_MAX = 255  # bytes in one file name, on every common Linux file system
_renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
if _renameat2 is not None:
    _renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    _renameat2.restype = ctypes.c_int


def write_atomically(path: Path, data: bytes, *, replace: bool = True) -> None:
    """Write under a temporary name, fsync, then rename: a reader never sees half a file,
    and a crash leaves the old file or the new one. The temporary name is this writer's own,
    so processes writing the same file at once never mix their bytes. With replace=False an
    existing file at `path` is never overwritten: FileExistsError instead."""
    short = os.fsdecode(os.fsencode(path.name)[:100])  # a long name's must still fit
    temporary = path.with_name(f".{short}.{os.getpid()}-{next(_serial)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            temporary.replace(path)
        else:
            rename_without_clobber(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def placed_name(folder: Path, name: str, tag: str, avoid_suffix: str = "") -> Path:
    """Where a file named `name` goes in `folder` (processed/, failed/): under its own name
    when that and `name + avoid_suffix` (its note's name) are free, else under
    `stem.<tag>-<time>.ext`, which no earlier file has. Two look-ups, however many files the
    folder holds (no probing of name.1, name.2 ...). A name ending in `avoid_suffix` is
    always tagged, so a file and a note can never be mistaken for one another."""
    plain = folder / name
    like_a_note = bool(avoid_suffix) and name.endswith(avoid_suffix)
    if not like_a_note:
        taken = _exists(plain) or (bool(avoid_suffix) and _exists(folder / (name + avoid_suffix)))
        if not taken:
            return plain
    return folder / tagged_name(name, tag, keep_extension=not like_a_note)


def tagged_name(name: str, tag: str, keep_extension: bool = True) -> str:
    """`stem.<tag>-<unique>.ext`: unique per process and moment, readable, the same
    extension (or `name.<tag>-<unique>` when the extension is not to be kept)."""
    unique = f"{tag}-{time.time_ns():x}-{os.getpid():x}-{next(_serial):x}"
    stem, dot, suffix = name.rpartition(".")
    if not (keep_extension and dot and stem and len(suffix) <= 8):
        stem, suffix = name, ""
    tail = f".{unique}" + (f".{suffix}" if suffix else "")
    room = _NAME_MAX - len(os.fsencode(tail)) - len(".error")  # its note must fit as well
    stem = os.fsdecode(os.fsencode(stem)[: max(room, 1)])
    return stem + tail


def move_without_clobber(source: Path, target: Path) -> None:
    """Move a file (a symbolic link stays a link) to a name that must not be taken:
    FileExistsError if it is. Atomic within a file system, copied across them."""
    try:
        rename_without_clobber(source, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        if _exists(target):
            raise FileExistsError(errno.EEXIST, "File exists", str(target)) from None
        shutil.move(source, target)


def rename_without_clobber(source: Path, target: Path) -> None:
    """rename(2) that fails with FileExistsError instead of replacing `target`: Linux's
    renameat2(RENAME_NOREPLACE), one atomic step; where the kernel or file system lacks it,
    a look then a rename."""
    if _renameat2 is not None:
        done = _renameat2(
            _AT_FDCWD, os.fsencode(source), _AT_FDCWD, os.fsencode(target), _RENAME_NOREPLACE
        )
        if done == 0:
            return
        code = ctypes.get_errno()
        if code not in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
            raise OSError(code, os.strerror(code), str(source), None, str(target))
    if _exists(target):
        raise FileExistsError(errno.EEXIST, "File exists", str(target))
    source.rename(target)


def _exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()


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
