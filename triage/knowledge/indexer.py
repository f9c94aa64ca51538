"""Keeping the knowledge index in step with the folders and the history export: new, changed
and removed articles found by their digest, at start, every `rescan_seconds`, on SIGHUP
(`wake`) and by `triage knowledge`; in a thread of its own, never in a ticket's way (a ticket
triaged before the first build simply gets no suggestions).

Why a periodic rescan rather than file-system events (watchdog): articles live on file
shares as often as on local disks, and inotify sees nothing that another machine writes to an
NFS or SMB share; a rescan sees everything. It costs one stat per file (5,000 articles: tens of
milliseconds): a file is read again only when its size or modification time changed, and
re-indexed only when its digest did.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from triage.errors import InputError, StoreError
from triage.knowledge.articles import MAX_BYTES, article, digest, history, scan
from triage.ports import KnowledgeStore
from triage.records import KnowledgeDoc

log = structlog.get_logger("triage.knowledge")

BATCH = 500  # documents per transaction: a big first build never holds the store long
SKIPPED_NAMED = 5  # files skipped in a pass named with the reason (the rest counted)


@dataclass
class SyncCounts:
    """What one pass did: documents added, changed, removed and left as they were; files
    skipped (unreadable, too large); folders missing; the history's problem, if any."""

    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: int = 0
    skipped_files: list[str] = field(default_factory=list)  # "path (why)", the first few
    missing: list[Path] = field(default_factory=list)
    history_error: str | None = None

    def skip(self, path: Path, why: str) -> None:
        self.skipped += 1
        if len(self.skipped_files) < SKIPPED_NAMED:
            self.skipped_files.append(f"{path} ({why})")

    @property
    def indexed(self) -> int:
        return self.added + self.changed + self.unchanged

    def describe(self) -> str:
        text = (
            f"{self.indexed} indexed ({self.added} added, {self.changed} changed, "
            f"{self.unchanged} unchanged), {self.removed} removed"
        )
        if self.skipped:
            more = self.skipped - len(self.skipped_files)
            named = ", ".join(self.skipped_files) + (f" and {more} more" if more else "")
            text += f", {self.skipped} skipped: {named}"
        if self.missing:
            text += ", missing folders: " + ", ".join(str(p) for p in self.missing)
        if self.history_error:
            text += f", history not read: {self.history_error}"
        return text


class KnowledgeIndexer:
    """Syncs the index of `store` with `dirs` and `history_file`."""

    def __init__(
        self,
        store: KnowledgeStore,
        dirs: Sequence[Path],
        history_file: Path | None,
        rescan_seconds: float = 60.0,
    ) -> None:
        self._store = store
        self._dirs, self._history = tuple(dirs), history_file
        self.rescan_seconds = rescan_seconds
        # path -> (size, mtime_ns, digest): a file whose stat is unchanged is not read again
        self._seen: dict[Path, tuple[int, int, str]] = {}
        self._history_seen: tuple[int, int] | None = None
        # source -> the folder it was last found in: what a missing folder held
        self._folder_of: dict[str, Path] = {}
        self._reread_history = False
        self._lock = threading.Lock()  # one pass at a time
        self._config_lock = threading.Lock()  # a reload never waits for a pass
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.last: SyncCounts | None = None

    def replace(self, dirs: Sequence[Path], history_file: Path | None, rescan: float) -> None:
        """A reload: the next pass (started now) follows the new folders."""
        with self._config_lock:
            self._dirs, self._history, self.rescan_seconds = tuple(dirs), history_file, rescan
            self._reread_history = True
        self.wake()

    def wake(self) -> None:
        """Run a pass now (SIGHUP) rather than at the next rescan."""
        self._wake.set()

    def sync(self, rebuild: bool = False) -> SyncCounts:
        """One pass: index what is new or changed, drop what is gone. `rebuild`: every
        document read and indexed again. Raises StoreError when the store fails."""
        with self._lock:
            with self._config_lock:
                dirs, history_file = self._dirs, self._history
                if self._reread_history:
                    self._history_seen, self._reread_history = None, False
            if rebuild:
                self._seen.clear()
                self._history_seen = None
            counts = SyncCounts()
            indexed = self._store.knowledge_digests()
            wanted: dict[str, str] = {}  # source -> digest, of what the folders hold now
            put: list[KnowledgeDoc] = []
            found, counts.missing = scan(dirs)
            for item in found:
                self._folder_of[item.source] = item.folder
                known = self._fingerprint(item.path, counts)
                if known is None:
                    continue
                fingerprint, data = known
                wanted[item.source] = fingerprint
                if indexed.get(item.source) == fingerprint and not rebuild:
                    counts.unchanged += 1
                    continue
                if data is None:  # unchanged on disk, yet wanted again (a rebuild, say)
                    data = self._bytes(item.path, counts)
                    if data is None:
                        wanted.pop(item.source)
                        continue
                doc = article(item.source, item.path, data)
                wanted[item.source] = doc.digest
                put.append(doc)
                if item.source in indexed:
                    counts.changed += 1
                else:
                    counts.added += 1
            if counts.missing:
                self._keep_missing_folders_articles(indexed, wanted, counts.missing)
            self._history_docs(history_file, indexed, wanted, put, counts, rebuild)
            removed = [source for source in indexed if source not in wanted]
            counts.removed = len(removed)
            if put or removed:
                for start in range(0, max(len(put), 1), BATCH):
                    batch = put[start : start + BATCH]
                    self._store.knowledge_update(batch, removed if not start else ())
            self.last = counts
            return counts

    def _fingerprint(self, path: Path, counts: SyncCounts) -> tuple[str, bytes | None] | None:
        """The file's digest, and its bytes when they had to be read for it: a file whose
        size and time are unchanged is not read again. None when it is skipped."""
        try:
            info = path.stat()
        except OSError as exc:
            counts.skip(path, f"unreadable: {exc.strerror or exc}")
            return None
        if info.st_size > MAX_BYTES:
            counts.skip(path, f"over {MAX_BYTES // 1_000_000} MB")
            return None
        seen = self._seen.get(path)
        if seen is not None and seen[:2] == (info.st_size, info.st_mtime_ns):
            return seen[2], None
        data = self._bytes(path, counts)
        return None if data is None else (self._seen[path][2], data)

    def _bytes(self, path: Path, counts: SyncCounts) -> bytes | None:
        """The file's bytes, read once, its size, time and digest remembered. The size and
        time are those of the file as opened (a file replaced or removed after the read
        cannot end the pass), and no more than MAX_BYTES is read of a file that grew past
        it since it was measured."""
        try:
            with path.open("rb") as handle:
                info = os.fstat(handle.fileno())
                data = handle.read(MAX_BYTES + 1)
        except OSError as exc:
            counts.skip(path, f"unreadable: {exc.strerror or exc}")
            return None
        if len(data) > MAX_BYTES:
            counts.skip(path, f"over {MAX_BYTES // 1_000_000} MB")
            return None
        self._seen[path] = (info.st_size, info.st_mtime_ns, digest(data))
        return data

    def _history_docs(
        self,
        history_file: Path | None,
        indexed: dict[str, str],
        wanted: dict[str, str],
        put: list[KnowledgeDoc],
        counts: SyncCounts,
        rebuild: bool,
    ) -> None:
        """The solved tickets: the export is read again only when its size or modification
        time changed; meanwhile the ones indexed stay."""
        if history_file is None:
            return
        try:
            info = history_file.stat()
        except OSError as exc:
            counts.history_error = f"{history_file}: {exc.strerror or exc}"
            self._keep_indexed_tickets(indexed, wanted)
            return
        stamp = (info.st_size, info.st_mtime_ns)
        if stamp == self._history_seen and not rebuild:
            for source, fingerprint in indexed.items():
                if source.startswith("ticket:"):
                    wanted[source] = fingerprint
                    counts.unchanged += 1
            return
        try:
            docs = list(history(history_file))
        except InputError as exc:
            counts.history_error = str(exc)
            self._keep_indexed_tickets(indexed, wanted)
            return
        for doc in docs:
            if doc.source in wanted:
                continue  # the same id twice: the first row's
            wanted[doc.source] = doc.digest
            if indexed.get(doc.source) == doc.digest and not rebuild:
                counts.unchanged += 1
            else:
                put.append(doc)
                if doc.source in indexed:
                    counts.changed += 1
                else:
                    counts.added += 1
        self._history_seen = stamp

    def _keep_missing_folders_articles(
        self, indexed: dict[str, str], wanted: dict[str, str], missing: list[Path]
    ) -> None:
        """A folder that is missing now (a share gone for a while) keeps what was indexed
        from it, as the history export does, until it is back or taken out of `dirs`: the
        articles last found in it, and those not found since the daemon started (a source
        does not say which folder it came from)."""
        for source, fingerprint in indexed.items():
            if source.startswith("kb/") and source not in wanted:
                folder = self._folder_of.get(source)
                if folder is None or folder in missing:
                    wanted[source] = fingerprint

    @staticmethod
    def _keep_indexed_tickets(indexed: dict[str, str], wanted: dict[str, str]) -> None:
        """A history export that cannot be read now (being rewritten) keeps what was
        indexed from it."""
        for source, fingerprint in indexed.items():
            if source.startswith("ticket:"):
                wanted[source] = fingerprint

    # -- the background thread -------------------------------------------------------------

    def start(self, stop: threading.Event) -> None:
        """Sync now and every rescan_seconds (or when woken) until `stop` is set."""
        self._thread = threading.Thread(
            target=self._loop, args=(stop,), name="knowledge-indexer", daemon=True
        )
        self._thread.start()

    def _loop(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self._wake.clear()
            try:
                counts = self.sync()
                if counts.added or counts.changed or counts.removed or counts.missing:
                    log.info(
                        "knowledge.synced",
                        added=counts.added,
                        changed=counts.changed,
                        removed=counts.removed,
                        indexed=counts.indexed,
                        missing=[str(p) for p in counts.missing],
                        history_error=counts.history_error,
                    )
            except StoreError as exc:
                log.warning("knowledge.sync_failed", error=str(exc))
            except Exception as exc:  # a bad article must not end the indexing for good
                log.error("knowledge.sync_crashed", error=type(exc).__name__)
            # Woken by SIGHUP, or by `stop_and_join` once `stop` is set.
            self._wake.wait(self.rescan_seconds)

    def stop_and_join(self, timeout: float = 10.0) -> None:
        """At shutdown, after the daemon's stop event is set: a pass under way finishes
        its batch (each is one transaction)."""
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
