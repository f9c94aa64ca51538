"""Drop-folder intake: files in the inbox become tickets; after commit they move to processed/
(or failed/ with a .error file saying why).

Start-up scan, watchdog events, and a periodic rescan as a safety net. A file is read only
once it is complete (see connectors.stability); symlinks and anything but regular files are
refused. A file whose result could not be committed stays in the inbox and is retried.
"""

from __future__ import annotations

import os
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import structlog

from connectors.folders import Folders, printable
from connectors.stability import StabilityTracker, is_ignored_name
from triage.errors import StoreError
from triage.faultlog import FaultLog
from triage.files import read_file_input
from triage.logs import crash_site
from triage.ports import NodeLiveness, TicketHandler
from triage.records import Outcome
from triage.result import Result
from triage.ticket import RawInput, input_id

log = structlog.get_logger("triage.dropfolder")

SOURCE = "dropfolder"
_TICK_SECONDS = 0.2
_RETRY_FIRST, _RETRY_MAX = 2.0, 300.0
_BATCH_FILES, _BATCH_BYTES = 200, 64 << 20  # read from a backlog per batch, at most
# In a fleet a batch is claimed before it is triaged: small, so the work spreads over the
# daemons and a daemon that dies holds little that must wait for its lease to run out.
_FLEET_BATCH_FILES = 16


@dataclass(frozen=True)
class DropFolderOptions:
    inbox: Path
    processed: Path
    failed: Path
    settle_seconds: float
    rescan_seconds: float
    max_bytes: int
    abandoned_seconds: float = 3600.0
    # Several daemons share the inbox (a fleet on one PostgreSQL store): each file is claimed
    # by renaming it into CLAIMS/<node>/ before it is read. None: this daemon alone.
    node: str | None = None


CLAIMS = ".claims"  # a dot name: never taken for input itself


class DropFolder:
    """Runs in its own thread (`run`) until `stop` is set."""

    name = "dropfolder"

    def __init__(
        self,
        options: DropFolderOptions,
        handler: TicketHandler,
        stop: threading.Event,
        monotonic: Callable[[], float] = time.monotonic,
        liveness: NodeLiveness | None = None,
    ) -> None:
        """`liveness` (with options.node) tells which nodes of the fleet are alive: the
        files claimed by a node that is not are taken over."""
        self.options = options
        self._liveness = liveness
        self._claims = options.inbox / CLAIMS / options.node if options.node else None
        self._claimed: set[str] = set()  # names in our claims folder, to be triaged
        self._batch_files = _FLEET_BATCH_FILES if options.node else _BATCH_FILES
        self._handler = handler
        self._stop = stop
        self._monotonic = monotonic
        self._stability = StabilityTracker(options.settle_seconds)
        self._pending: set[str] = set()
        self._pending_lock = threading.Lock()
        self._retry_at: dict[str, tuple[float, float]] = {}  # name -> (when, backoff)
        self.last_activity = monotonic()  # for the service watchdog: the loop is alive
        # Since when input has waited that could not be committed or acknowledged, with no
        # file acknowledged since: the daemon stops the watchdog pings when it lasts.
        self.waiting_since: float | None = None
        self._faults = FaultLog(log)
        self.folders = Folders(
            options.inbox, options.processed, options.failed, self._note, self._faults
        )

    # -- lifecycle ----------------------------------------------------------------------

    def prepare(self) -> None:
        self.folders.prepare()
        if self._claims is not None:
            try:
                self._claims.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                log.error("dropfolder.claims_unusable", folder=str(self._claims), error=str(exc))

    def run(self) -> None:
        self.prepare()
        self.folders.watch()
        log.info("dropfolder.watching", inbox=str(self.options.inbox))
        try:
            self.scan()
            next_rescan = self._monotonic() + self.options.rescan_seconds
            while not self._stop.is_set():
                self.last_activity = self._monotonic()
                more = self.tick()
                if self._monotonic() >= next_rescan:
                    self.folders.ensure()  # made again when removed or rotated away
                    self.scan()
                    next_rescan = self._monotonic() + self.options.rescan_seconds
                if not more:
                    self._stop.wait(_TICK_SECONDS)
        finally:
            self.folders.unwatch()
            log.info("dropfolder.stopped")

    def fault(self) -> str | None:
        """What keeps input from being taken or acknowledged now, for STATUS= and `check`."""
        active = self._faults.active()
        return "; ".join(active) if active else None

    # -- discovery ----------------------------------------------------------------------

    def scan(self) -> None:
        abandoned: list[str] = []
        cutoff = time.time() - self.options.abandoned_seconds
        try:
            with os.scandir(self.options.inbox) as entries:
                for entry in entries:
                    self._note(entry.name)
                    if entry.name == CLAIMS:
                        continue  # the fleet's claimed files: never abandoned
                    if is_ignored_name(entry.name) and _older(entry, cutoff):
                        abandoned.append(entry.name)
        except OSError as exc:
            self._faults.report(
                "scan",
                "dropfolder.scan_failed",
                f"cannot read the inbox {self.options.inbox}: {exc.strerror or exc}",
                inbox=str(self.options.inbox),
                error=str(exc),
            )
        else:
            self._faults.clear("scan", "dropfolder.scan_ok", inbox=str(self.options.inbox))
        for name in abandoned:
            self._abandoned(name)
        if self._claims is not None:
            self._scan_claims()

    # -- claims (a fleet sharing the inbox) ----------------------------------------------

    def _scan_claims(self) -> None:
        """Our own claimed files (left by an earlier run under this node's name) and those
        of nodes that are dead, taken over: each is triaged here (its result, if committed
        before the claimer died, is found: nothing is triaged twice)."""
        assert self._claims is not None
        root = self._claims.parent
        try:
            nodes = [entry.name for entry in os.scandir(root) if entry.is_dir()]
        except OSError:
            return
        for node in nodes:
            if node == self.options.node:
                continue
            if self._liveness is None or self._liveness.alive(node):
                continue
            for name in _names(root / node):
                target = self._claims / name
                if target.exists():
                    continue  # a file of ours by that name: later
                try:
                    (root / node / name).rename(target)
                except OSError:
                    continue  # another node took it first
                log.info("dropfolder.taken_over", file=name, node=node, by=self.options.node)
        with self._pending_lock:
            self._claimed.update(_names(self._claims))

    def _claim(self, path: Path) -> Path | None:
        """Rename a ready file into our claims folder: ours alone from then on. None when
        another node claimed it first (or our folder holds a file of that name)."""
        assert self._claims is not None
        target = self._claims / path.name
        if target.exists():
            return None
        try:
            path.rename(target)
        except FileNotFoundError:
            return None
        with self._pending_lock:
            self._claimed.add(path.name)
        return target

    def claimed(self) -> int:
        """Files claimed and not yet acknowledged, for STATUS= and /metrics."""
        with self._pending_lock:
            return len(self._claimed)

    def _abandoned(self, name: str) -> None:
        """A temporary name its writer never renamed: quarantined, so nothing is left behind."""
        path = self.options.inbox / name
        try:
            info = path.lstat()
        except OSError:
            return
        minutes = self.options.abandoned_seconds / 60
        reason = (
            f"a temporary name unchanged for over {minutes:g} minutes: the writer never renamed "
            "it (rename it without the leading '.' or the .tmp/.part ending to have it triaged)"
        )
        self._refuse(path, info, reason)

    def _note(self, name: str) -> None:
        if not is_ignored_name(name):
            with self._pending_lock:
                self._pending.add(name)

    def tick(self) -> bool:
        """Look at every pending file once; take those that are complete. True when a batch
        was full and more files wait."""
        with self._pending_lock:
            names = sorted(self._pending - self._claimed)
            claimed = sorted(self._claimed)
        now = self._monotonic()
        ready: list[tuple[Path, RawInput]] = []
        held, full = 0, False
        for name in claimed:
            if len(ready) >= self._batch_files or held >= _BATCH_BYTES:
                break
            retry = self._retry_at.get(name)
            if retry and now < retry[0]:
                continue
            taken = self._take_claimed(name)
            if taken is None:
                self._finished(name)
            else:
                ready.append(taken)
                held += len(taken[1].data)
        for name in names:
            if self._stop.is_set():
                return False
            if len(ready) >= self._batch_files or held >= _BATCH_BYTES:
                full = True  # a backlog is read a batch at a time: memory stays bounded
                break
            retry = self._retry_at.get(name)
            if retry and now < retry[0]:
                continue
            state = self._examine(name, now)
            if isinstance(state, tuple):
                ready.append(state)
                held += len(state[1].data)
            elif state:
                self._finished(name)
        if ready:
            # Together, so that a backlog can be offloaded as a batch (see Pipeline.handle_batch).
            self._commit_batch(ready, now)
        return full

    def _take_claimed(self, name: str) -> tuple[Path, RawInput] | None:
        """A file in our claims folder, read for triage; None when it is gone."""
        assert self._claims is not None
        path = self._claims / name
        try:
            info = path.lstat()
            if not stat.S_ISREG(info.st_mode):
                return None
            return path, self._read(path, info, self.options.inbox / name)
        except (OSError, _Unstable):
            return None

    def _finished(self, name: str) -> None:
        with self._pending_lock:
            self._pending.discard(name)
            self._claimed.discard(name)
        self._stability.forget(name)
        if self._retry_at.pop(name, None) is not None and not self._retry_at:
            self.waiting_since = None  # the last file that waited is gone

    def _commit_batch(self, ready: list[tuple[Path, RawInput]], now: float) -> None:
        paths = {raw.id: path for path, raw in ready}
        settled: set[str] = set()

        def acknowledge(raw: RawInput, outcome: Outcome) -> None:
            path = paths[raw.id]
            settled.add(path.name)
            self._acknowledge(path, outcome.result, now)
            self.last_activity = self._monotonic()

        try:
            self._handler.handle_batch(
                [raw for _, raw in ready], on_result=acknowledge, stop=self._stop
            )
        except Exception as exc:  # StoreError or worse: the rest is tried again later
            if not isinstance(exc, StoreError):
                log.error("dropfolder.handle_crashed", files=len(ready), **crash_site(exc))
            for path, _ in ready:
                if path.name not in settled:
                    self._retry_later(path.name, now, str(exc) or type(exc).__name__)

    def pending(self) -> int:
        with self._pending_lock:
            return len(self._pending)

    # -- one file -----------------------------------------------------------------------

    def _examine(self, name: str, now: float) -> bool | tuple[Path, RawInput]:
        """True when the file is finished with (refused, or gone); its input when it is ready
        to be triaged; False to look again later."""
        path = self.options.inbox / name
        try:
            info = path.lstat()
        except FileNotFoundError:
            return True
        except OSError as exc:
            return self._refuse(path, None, f"cannot stat the file: {exc.strerror}")
        if stat.S_ISDIR(info.st_mode):
            return True  # folders in the inbox are not read (see README)
        if stat.S_ISLNK(info.st_mode):
            return self._refuse(path, info, "symbolic links are refused: drop the file itself")
        if not stat.S_ISREG(info.st_mode):
            return self._refuse(path, info, "not a regular file (FIFO, socket or device)")
        if not self._stability.observe(name, info.st_size, info.st_mtime_ns, now):
            return False
        inbox_path = path
        if self._claims is not None:
            claimed = self._claim(path)
            if claimed is None:
                return True  # another node has it (or will: ours is busy with that name)
            path = claimed
        try:
            raw = self._read(path, info, inbox_path)
        except _Unstable:
            self._stability.forget(name)
            return False
        except OSError as exc:
            return self._refuse(path, info, f"cannot read the file: {exc.strerror or exc}")
        return path, raw

    def _read(self, path: Path, info: os.stat_result, named: Path | None = None) -> RawInput:
        """The input in `path`, named (source_ref) as the inbox file `named` it was."""
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        fd = os.open(path, flags)
        with os.fdopen(fd, "rb") as handle:
            opened = os.fstat(handle.fileno())
            if not stat.S_ISREG(opened.st_mode) or opened.st_ino != info.st_ino:
                raise _Unstable  # replaced between lstat and open
            received_at = datetime.fromtimestamp(opened.st_mtime, UTC)
            ref = printable(named or path)
            raw = read_file_input(
                handle, path.name, self.options.max_bytes, SOURCE, ref, received_at
            )
            after = os.fstat(handle.fileno())
        if (after.st_size, after.st_mtime_ns) != (info.st_size, info.st_mtime_ns):
            raise _Unstable  # still being written
        return raw

    def _commit_and_move(self, path: Path, raw: RawInput, now: float) -> bool:
        try:
            outcome = self._handler.handle(raw)
        except StoreError as exc:
            self._retry_later(path.name, now, str(exc))
            return False
        except Exception as exc:
            log.error("dropfolder.handle_crashed", file=printable(path), **crash_site(exc))
            self._retry_later(path.name, now, type(exc).__name__)
            return False
        return self._acknowledge(path, outcome.result, now)

    def _acknowledge(self, path: Path, result: Result, now: float) -> bool:
        """After the commit the file leaves the inbox. One that cannot be moved stays
        pending and is tried again later (its result is found then: nothing is triaged
        twice); True when it is finished with."""
        self._faults.clear("commit", "dropfolder.commits_again")
        if not self.folders.settle(path, result):
            self._retry_later(path.name, now, "", quiet=True)
            return False
        self._finished(path.name)
        self.waiting_since = self._monotonic() if self._retry_at else None  # progress
        return True

    def _refuse(self, path: Path, info: os.stat_result | None, reason: str) -> bool:
        """Quarantine an input that will not be read: a result, then the move to failed/."""
        received_at = datetime.fromtimestamp(info.st_mtime if info else time.time(), UTC)
        identity = f"{reason}\0{info.st_size if info else 0}\0{info.st_mtime_ns if info else 0}"
        raw = RawInput(
            id=input_id(path.name, [identity.encode()]),
            data=b"",
            source=SOURCE,
            source_ref=printable(path),
            received_at=received_at,
            refused=reason,
        )
        return self._commit_and_move(path, raw, self._monotonic())

    def _retry_later(self, name: str, now: float, why: str, quiet: bool = False) -> None:
        """Try the file again after a backoff. A fault that hits every file (the store or
        the outbox failing) is logged once, not once per file and attempt."""
        backoff = min(self._retry_at.get(name, (0.0, _RETRY_FIRST / 2))[1] * 2, _RETRY_MAX)
        if quiet:  # only the move is left: cheap to try, so soon after a fix, not minutes
            backoff = min(self.options.rescan_seconds, _RETRY_MAX)
        self._retry_at[name] = (now + backoff, backoff)
        if self.waiting_since is None:
            self.waiting_since = self._monotonic()
        if quiet:
            return
        self._faults.report(
            "commit",
            "dropfolder.retry_later",
            f"results cannot be committed: {why}",
            level="warning",
            file=name,
            in_seconds=backoff,
            why=why,
        )


def _names(folder: Path) -> list[str]:
    try:
        with os.scandir(folder) as entries:
            return [e.name for e in entries if e.is_file(follow_symlinks=False)]
    except OSError:
        return []


class _Unstable(Exception):
    """The file changed while it was being read; look again later."""


def _older(entry: os.DirEntry[str], cutoff: float) -> bool:
    try:
        return entry.stat(follow_symlinks=False).st_mtime < cutoff
    except OSError:
        return False
