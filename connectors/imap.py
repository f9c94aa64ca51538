"""IMAP intake: one watcher per (account, folder), each in its own thread.

New mail is noticed with IDLE (re-issued well inside the 29-minute limit) or by polling.
Mail is fetched with BODY.PEEK[] (never marked read), oversize mail is not downloaded, and a
mail is acknowledged (keyword, then the optional move) only after its result is committed.
The cursor (UIDVALIDITY:UID) lives in the store; a changed UIDVALIDITY means a rescan, in
which the ids of mails already handled make them acknowledgements, not new tickets.

Mail that a search found and that is not acknowledged yet is known to wait (`pending`);
`waiting_since` says since when it has waited with none of it acknowledged, through failed
commits and lost connections alike, so the daemon reports the stall (`fault` says why). A
mailbox where nothing waits never stalls, whatever its connection does.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from connectors.backoff import Backoff
from connectors.imap_session import (
    SessionInfo,
    close_session,
    open_session,
    session_info,
)
from triage.config.sections import ImapAccountConfig
from triage.errors import ImapAuthError, ImapSetupError, StoreError
from triage.logs import crash_site
from triage.ports import Clock, CursorStore, TicketHandler
from triage.quarantine import keep_mail
from triage.records import Outcome
from triage.result import Result
from triage.ticket import RawInput, input_id

log = structlog.get_logger("triage.imap")

_IDLE_CHECK_SECONDS = 1.0  # how often an IDLE wait looks at the stop event
_THROTTLED = ("THROTTLED", "UNAVAILABLE", "LIMIT", "TOO MANY", "OVERQUOTA")


class ImapFolder:
    """Watches one folder of one account until `stop` is set. Never raises out of `run`."""

    def __init__(
        self,
        account: str,
        config: ImapAccountConfig,
        folder: str,
        handler: TicketHandler,
        store: CursorStore,
        stop: threading.Event,
        clock: Clock,
        connect: Callable[[ImapAccountConfig], IMAPClient] = open_session,
        quarantine: Path | None = None,
    ) -> None:
        self.account = account
        self.config = config
        self.folder = folder
        self.name = f"imap:{account}/{folder}"
        self._handler = handler
        self._store = store
        self._stop = stop
        self._clock = clock
        self._connect = connect
        self._quarantine = quarantine  # where quarantined mail is copied for `triage replay`
        self._backoff = Backoff(first=1.0, cap=300.0)
        self._known_folders: set[str] = set()
        self.last_activity = time.monotonic()
        self.last_sync: datetime | None = None
        self.connected = False
        self._waiting: set[int] = set()  # UIDs found by the searches, not acknowledged yet
        self.waiting_since: float | None = None  # time.monotonic(); None: nothing waits
        self._problem: str | None = None  # the latest error since the latest acknowledgement

    # -- the loop -----------------------------------------------------------------------

    def run(self) -> None:
        while not self._stop.is_set():
            client: IMAPClient | None = None
            try:
                client = self._connect(self.config)
                self.connected = True
                self._backoff.reset()
                log.info("imap.connected", source=self.name)
                self._session(client)
            except ImapAuthError as exc:
                # Credentials will not fix themselves: say what to do, and try again rarely.
                log.error(
                    "imap.login_failed",
                    source=self.name,
                    account=self.account,
                    server_said=str(exc),
                    hint="check [imap] username and password (or oauth2_token_command); "
                    "`triage check` tries the login",
                )
                self._problem = f"the server refused the login: {exc}"
                self._pause(self._backoff.next_delay(floor=60.0))
            except ImapSetupError as exc:
                log.error("imap.setup_failed", source=self.name, error=str(exc))
                self._problem = str(exc)
                self._pause(self._backoff.next_delay(floor=60.0))
            except StoreError as exc:
                log.error("imap.store_failed", source=self.name, error=str(exc))
                self._problem = f"results cannot be committed: {exc}"
                self._pause(self._backoff.next_delay(floor=5.0))
            except (OSError, IMAPClientError, EOFError) as exc:
                self._problem = f"the session failed: {type(exc).__name__}: {str(exc)[:200]}"
                throttled = any(word in str(exc).upper() for word in _THROTTLED)
                delay = self._backoff.next_delay(floor=30.0 if throttled else 0.0)
                log.warning(
                    "imap.disconnected",
                    source=self.name,
                    error=type(exc).__name__,
                    detail=str(exc)[:200],
                    throttled=throttled,
                    retry_in=round(delay, 1),
                )
                self._pause(delay)
            except Exception as exc:
                self._problem = f"crashed: {type(exc).__name__}"
                delay = self._backoff.next_delay(floor=5.0)
                log.error(
                    "imap.crashed", source=self.name, retry_in=round(delay, 1), **crash_site(exc)
                )
                self._pause(delay)
            finally:
                self.connected = False
                if client is not None:
                    close_session(client)
        log.info("imap.stopped", source=self.name)

    def pending(self) -> int:
        """Mails known to wait: found by a search, not acknowledged yet."""
        return len(self._waiting)

    def fault(self) -> str | None:
        """Why the mail known to wait is not acknowledged, for STATUS= and `check`."""
        count = len(self._waiting)
        if not count:
            return None
        text = f"{count} mail{'' if count == 1 else 's'} waiting in {self.folder}"
        return f"{text}; last error: {self._problem}" if self._problem else text

    def _pause(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self._stop.is_set() and time.monotonic() < deadline:
            self.last_activity = time.monotonic()
            self._stop.wait(min(1.0, max(0.0, deadline - time.monotonic())))

    def _session(self, client: IMAPClient) -> None:
        info = session_info(client)
        selected = client.select_folder(self.folder)
        uidvalidity = int(selected[b"UIDVALIDITY"])
        use_idle = self.config.idle and info.idle
        log.info("imap.watching", source=self.name, idle=use_idle, uidvalidity=uidvalidity)
        next_sweep = 0.0
        while not self._stop.is_set():
            self.last_activity = time.monotonic()
            full = time.monotonic() >= next_sweep
            # Mail that arrived during a pass was announced to the commands of that pass, not
            # to the next IDLE: pass again until a pass finds nothing new.
            while self.sync(client, info, uidvalidity, full_sweep=full) and not self._stop.is_set():
                full = False
            if time.monotonic() >= next_sweep:
                next_sweep = time.monotonic() + self.config.poll_seconds
            if use_idle:
                self._idle(client, until=next_sweep)
            else:
                self._pause(max(0.0, next_sweep - time.monotonic()))
                client.noop()

    def _idle(self, client: IMAPClient, until: float) -> None:
        deadline = min(until, time.monotonic() + self.config.idle_seconds)
        client.idle()
        closed = False
        try:
            while not self._stop.is_set() and time.monotonic() < deadline:
                self.last_activity = time.monotonic()
                responses = client.idle_check(timeout=_IDLE_CHECK_SECONDS)
                if any(r and r[0] == b"BYE" for r in responses):
                    closed = True
                    raise ConnectionError("the server closed the connection (BYE)")
                if any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses):
                    return
        finally:
            if not closed:
                client.idle_done()

    # -- one pass -----------------------------------------------------------------------

    def sync(
        self, client: IMAPClient, info: SessionInfo, uidvalidity: int, full_sweep: bool
    ) -> int:
        """Triage every unacknowledged mail; returns how many were handed to the pipeline."""
        last_uid = self._cursor(uidvalidity)
        criteria: list[Any] = ["UNKEYWORD", self.config.keyword, "NOT", "DELETED"]
        if not full_sweep:
            criteria = ["UID", f"{last_uid + 1}:*", *criteria]
        uids = sorted(uid for uid in client.search(criteria) if full_sweep or uid > last_uid)
        self._found(uids, full_sweep)
        handled = 0
        for start in range(0, len(uids), self.config.batch_size):
            if self._stop.is_set():
                break
            batch = uids[start : start + self.config.batch_size]
            handled += self._handle_batch(client, info, uidvalidity, batch)
            self._store.set_cursor(self.name, f"{uidvalidity}:{max(batch)}", self._clock())
        if full_sweep and self.config.processed_folder:
            self._retry_moves(client, info)
        self.last_sync = self._clock()
        return handled

    def _found(self, uids: list[int], full_sweep: bool) -> None:
        """A full sweep sees all that waits; a pass over new mail adds to it."""
        self._waiting = set(uids) if full_sweep else self._waiting | set(uids)
        if not self._waiting:
            self.waiting_since = None
        elif self.waiting_since is None:
            self.waiting_since = time.monotonic()

    def _settled(self, uid: int, acknowledged: bool) -> None:
        """The mail no longer waits (acknowledged, or expunged meanwhile)."""
        self._waiting.discard(uid)
        if acknowledged:
            self._problem = None
        if not self._waiting:
            self.waiting_since = None
        elif acknowledged:
            self.waiting_since = time.monotonic()  # progress: the rest waits from now

    def _cursor(self, uidvalidity: int) -> int:
        saved = self._store.get_cursor(self.name)
        if saved is None:
            return 0
        saved_validity, _, saved_uid = saved.partition(":")
        if int(saved_validity) != uidvalidity:
            log.warning(
                "imap.uidvalidity_changed",
                source=self.name,
                old=saved_validity,
                new=uidvalidity,
                action="rescanning; handled mail is recognised by id",
            )
            return 0
        return int(saved_uid)

    def _handle_batch(
        self, client: IMAPClient, info: SessionInfo, uidvalidity: int, batch: list[int]
    ) -> int:
        limit = int(self.config.max_message_mb * 1_000_000)
        meta = client.fetch(batch, ["RFC822.SIZE", "INTERNALDATE"])
        small = [uid for uid in batch if uid in meta and meta[uid].get(b"RFC822.SIZE", 0) <= limit]
        large = [uid for uid in batch if uid in meta and uid not in small]
        bodies = client.fetch(small, ["BODY.PEEK[]"]) if small else {}
        envelopes = client.fetch(large, ["ENVELOPE"]) if large else {}
        ready: list[tuple[int, RawInput]] = []
        for uid in batch:
            if uid not in meta:
                self._settled(uid, acknowledged=False)  # expunged meanwhile
                continue
            received_at = _aware(meta[uid].get(b"INTERNALDATE"))
            ref = f"{self.folder}/{uidvalidity}/{uid}"
            if uid in bodies:
                raw = RawInput.of(
                    bodies[uid][b"BODY[]"],
                    name="",
                    source=self.name,
                    source_ref=ref,
                    received_at=received_at,
                )
            elif uid in envelopes:
                raw = self._oversize(meta[uid][b"RFC822.SIZE"], envelopes[uid], ref, received_at)
            else:
                self._settled(uid, acknowledged=False)  # expunged meanwhile
                continue
            ready.append((uid, raw))
        # StoreError: nothing after the failing mail is acknowledged; all are fetched again.
        # The same bytes twice in the folder are one input, and both mails are acknowledged.
        uids: dict[str, list[int]] = {}
        for uid, raw in ready:
            uids.setdefault(raw.id, []).append(uid)

        def acknowledge(raw: RawInput, outcome: Outcome) -> None:
            if outcome.result.status == "quarantined":
                self._keep(raw, outcome.result)
            uid = uids[raw.id].pop(0)
            self._acknowledge(client, info, uid, outcome.result)
            self._settled(uid, acknowledged=True)
            self.last_activity = time.monotonic()

        self._handler.handle_batch(
            [raw for _, raw in ready], on_result=acknowledge, stop=self._stop
        )
        return len(bodies) + len(envelopes)

    def _oversize(self, size: int, fetched: dict[bytes, Any], ref: str, at: datetime) -> RawInput:
        envelope = fetched.get(b"ENVELOPE")
        message_id = envelope.message_id if envelope is not None else b""
        identity = f"{message_id!r}\0{size}\0{at.isoformat()}".encode()
        reason = f"mail is {size / 1e6:.1f} MB, over [imap] max_message_mb: not downloaded"
        return RawInput(input_id("", [identity]), b"", self.name, ref, at, refused=reason)

    # -- acknowledgement ----------------------------------------------------------------

    def _keep(self, raw: RawInput, result: Result) -> None:
        """A copy of quarantined mail beside the dropped files that failed, for replay."""
        if self._quarantine is None:
            return
        try:
            keep_mail(self._quarantine, raw, result)
        except OSError as exc:
            # The mail itself stays in the mailbox: it can still be saved and replayed.
            log.error("imap.quarantine_copy_failed", source=self.name, id=raw.id, error=str(exc))

    def _acknowledge(self, client: IMAPClient, info: SessionInfo, uid: int, result: Result) -> None:
        client.add_flags([uid], [self.config.keyword.encode()], silent=True)
        if self.config.processed_folder:
            self._move(client, info, [uid], result.category)

    def _move(self, client: IMAPClient, info: SessionInfo, uids: list[int], category: str) -> None:
        target = self.config.processed_folder or ""
        if self.config.folder_per_category:
            target = f"{target}{info.delimiter}{category}"
        try:
            if target not in self._known_folders:
                if not client.folder_exists(target):
                    client.create_folder(target)
                self._known_folders.add(target)
            if info.move:
                client.move(uids, target)
            else:
                client.copy(uids, target)  # no MOVE: copied, and the keyword marks the original
        except IMAPClientError as exc:
            # Marked already, so never triaged again; the next full sweep retries the move.
            log.error(
                "imap.move_failed", source=self.name, uids=uids, target=target, error=str(exc)[:200]
            )

    def _retry_moves(self, client: IMAPClient, info: SessionInfo) -> None:
        """Mail marked triaged but still here: a move that failed earlier."""
        if not info.move:
            return
        stranded = client.search(["KEYWORD", self.config.keyword, "NOT", "DELETED"])
        if not stranded:
            return
        if not self.config.folder_per_category:
            self._move(client, info, sorted(stranded), "")
            return
        for uid, data in client.fetch(stranded, ["BODY.PEEK[]"]).items():
            result = self._store.get_result(input_id("", [data[b"BODY[]"]]))
            self._move(client, info, [uid], result.category if result else "other")


def _aware(moment: object) -> datetime:
    """INTERNALDATE as an aware datetime (imapclient gives naive local time by default)."""
    if isinstance(moment, datetime):
        return moment if moment.tzinfo else moment.astimezone()
    return datetime.now(UTC)
