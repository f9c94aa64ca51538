"""Daemons of a fleet as real processes: `triage run` per node, each with its own folder (its
config, log and notify socket), sharing one PostgreSQL store and one drop folder."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from tests.conftest import NotifySocket, child_env, triage_command


def shared_folders(root: Path) -> dict[str, Path]:
    folders = {name: root / "shared" / name for name in ("inbox", "processed", "failed", "outbox")}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    return folders


class Node:
    """One daemon of the fleet; `start` waits for READY."""

    def __init__(
        self,
        root: Path,
        name: str,
        url: str,
        lease_seconds: float = 2,
        extra: str = "",
        drop: bool = True,
    ) -> None:
        """`drop=False`: the drop folder off (an IMAP-only node)."""
        self.name = name
        self.cwd = root / name
        self.cwd.mkdir(parents=True, exist_ok=True)
        shared = shared_folders(root)
        self.config = self.cwd / "config.toml"
        self.config.write_text(
            f'[store]\nurl = "{url}"\nnode = "{name}"\nlease_seconds = {lease_seconds}\n'
            f'[outbox]\ndir = "{shared["outbox"]}"\n'
            f'[dropfolder]\ninbox = "{shared["inbox"]}"\nprocessed = "{shared["processed"]}"\n'
            f'failed = "{shared["failed"]}"\nsettle_seconds = 0.2\nrescan_seconds = 0.5\n'
            f"enabled = {'true' if drop else 'false'}\n" + extra,
            encoding="utf-8",
        )
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self, wait: bool = True) -> None:
        self.starts += 1
        notify = NotifySocket(self.cwd) if wait else None
        if notify is None:
            (self.cwd / "notify.sock").unlink(missing_ok=True)
        with (self.cwd / f"daemon{self.starts}.log").open("wb") as log:
            self.process = subprocess.Popen(
                [*triage_command(), "--config", str(self.config), "run"],
                cwd=self.cwd,
                env=child_env(**({"NOTIFY_SOCKET": notify.path} if notify else {})),
                stderr=log,
            )
        if notify is not None:
            try:
                notify.wait_for("READY", "1", seconds=90)
            finally:
                notify.close()
                Path(notify.path).unlink(missing_ok=True)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no lease given back; its claims wait for the lease to run out."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)

    def log(self) -> str:
        return "".join(
            path.read_text(errors="replace") for path in sorted(self.cwd.glob("daemon*.log"))
        )


def drop(inbox: Path, name: str, data: bytes) -> None:
    (inbox / f".{name}.tmp").write_bytes(data)
    (inbox / f".{name}.tmp").rename(inbox / name)


def wait_until(condition, seconds: float, every: float = 0.2) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return bool(condition())


def files_in(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]
