"""Guards around the store file.

One daemon per store: `triage run` holds an exclusive lock on `<store>.lock` while it runs
and publishes its status line in `<store>.status`, for `triage check` to read. A store that
is missing while the outbox holds results is not silently made anew (`missing_store`).

The lock is flock(2): the kernel drops it when the process ends, however it ends, so a
daemon killed with SIGKILL never leaves a stale lock behind. `process` and `replay` take no
lock: they share the store with a running daemon (the store's transactions keep them apart).
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from triage.errors import StoreLocked
from triage.files import write_atomically


def lock_path(store: Path) -> Path:
    return store.with_name(store.name + ".lock")


def status_path(store: Path) -> Path:
    return store.with_name(store.name + ".status")


class DaemonLock:
    """Held for the daemon's life; `release` (or the process's end) lets it go."""

    def __init__(self, store: Path) -> None:
        self.store = store
        path = lock_path(store)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            who = f"pid {holder}" if holder else "another process"
            raise StoreLocked(
                f"another triage daemon ({who}) runs on the store {store}: stop it first "
                f"(systemctl stop triage, or kill {holder or 'it'}), or give this one its "
                "own [store] path"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd: int | None = fd

    def publish(self, status: str) -> None:
        """The daemon's current status line, for `triage check`."""
        text = json.dumps({"pid": os.getpid(), "at": time.time(), "status": status})
        write_atomically(status_path(self.store), (text + "\n").encode("utf-8"))

    def release(self) -> None:
        if self._fd is not None:
            status_path(self.store).unlink(missing_ok=True)
            os.close(self._fd)  # closing the descriptor drops the lock
            self._fd = None


@dataclass(frozen=True)
class RunningDaemon:
    pid: int | None
    status: str | None  # its latest status line, None when it published none
    age_seconds: float | None  # how old that line is


def running_daemon(store: Path) -> RunningDaemon | None:
    """The daemon that holds the store's lock now, or None. Reads only: creates nothing."""
    try:
        fd = os.open(lock_path(store), os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _read_pid(fd)
        else:
            return None  # nobody holds it (our shared lock goes with the descriptor)
    finally:
        os.close(fd)
    try:
        published = json.loads(status_path(store).read_text(encoding="utf-8"))
        status, age = str(published["status"]), time.time() - float(published["at"])
    except (OSError, ValueError, KeyError, TypeError):
        status, age = None, None
    return RunningDaemon(pid, status, age)


def missing_store(store: Path, outbox: Path) -> str | None:
    """Why a new, empty store must not be made at `store`: it is missing, yet the outbox
    holds results, so tickets were triaged with a store that is gone. A new one would forget
    them (the same input triaged again) and this month's spending (the budget overshot).
    None when the store is there or nothing says there was one."""
    if str(store) == ":memory:" or store.exists():
        return None
    try:
        with os.scandir(outbox) as entries:
            earlier = next((e.name for e in entries if e.name.endswith(".json")), None)
    except OSError:
        return None
    if earlier is None:
        return None
    return (
        f"[store] path = {store}: the store is missing, yet the outbox {outbox} holds results "
        f"(such as {earlier}), so it existed. A new store would forget which inputs were "
        "triaged and what this month has cost. Put the store back (from a backup) or fix "
        "[store] path; to start over with an empty store on purpose, run once with "
        "`triage run --new-store`"
    )


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
