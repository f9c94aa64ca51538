"""The daemon's lifecycle: start every connector in its own thread, keep them running, tell
systemd how things are (READY, WATCHDOG while the loops are alive and input moves, STATUS),
reload on SIGHUP, and on SIGTERM/SIGINT stop intake, let in-flight tickets finish within a
bound, then close. A store that is no longer there (`health`) stops it with an error."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Protocol

import structlog

from triage.logs import crash_site
from triage.parsing.language import warm as warm_language_models
from triage.runtime.notify import Notifier

log = structlog.get_logger("triage.runtime.daemon")

_RESTART_FIRST, _RESTART_MAX = 1.0, 60.0
_STATUS_EVERY = 10.0


class Connector(Protocol):
    """A source of input. It may also have `waiting_since` (time.monotonic() since when input
    has waited that it could not commit or acknowledge, None while it makes progress) and
    `fault()` (what is wrong now): the daemon reads both when they are there."""

    name: str
    last_activity: float  # time.monotonic() of the loop's latest turn: the watchdog reads it

    def run(self) -> None:
        """Take input until the shared stop event is set."""


class Daemon:
    def __init__(
        self,
        connectors: list[Connector],
        stop: threading.Event,
        close: Callable[[], None],
        drain_seconds: float = 20.0,
        notifier: Notifier | None = None,
        status: Callable[[], str] = lambda: "running",
        reload: Callable[[], bool] = lambda: True,
        monotonic: Callable[[], float] = time.monotonic,
        start_jobs: Callable[[], None] = lambda: None,
        stop_jobs: Callable[[], None] = lambda: None,
        health: Callable[[], str | None] = lambda: None,
        publish: Callable[[str], None] = lambda _text: None,
        stall_seconds: float = 60.0,
    ) -> None:
        """`health` says what makes going on wrong (None: nothing), checked every turn;
        `publish` gets each status line (for `triage check`); input that waits longer than
        the watchdog interval (else `stall_seconds`) without progress is a stall."""
        self._connectors = connectors
        self._stop = stop
        self._close = close
        self._drain_seconds = drain_seconds
        self._notifier = notifier or Notifier({})
        self._status = status
        self._reload = reload
        self._monotonic = monotonic
        self._start_jobs = start_jobs
        self._stop_jobs = stop_jobs
        self._health = health
        self._publish = publish
        interval = self._notifier.watchdog_interval
        self._stall_after = interval if interval else stall_seconds
        self._reload_requested = threading.Event()
        self._threads: list[threading.Thread] = []
        self._failed = False
        self._stalled: set[str] = set()  # connectors whose stall has been logged

    def request_stop(self, signum: int | None = None, _frame: FrameType | None = None) -> None:
        if not self._stop.is_set():
            name = signal.Signals(signum).name if signum else "request"
            log.info("daemon.stopping", signal=name)
        self._stop.set()

    def request_reload(self, _signum: int | None = None, _frame: FrameType | None = None) -> None:
        self._reload_requested.set()

    def run(self, install_signals: bool = True, reload_pending: Callable[[], bool] = bool) -> int:
        """Until stopped; 0 after a clean stop, 1 when `health` found a fault. A reload asked
        for before the daemon took SIGHUP over (`reload_pending`) is done once it is ready."""
        if install_signals:  # only the main thread may; tests drive the daemon from another
            signal.signal(signal.SIGTERM, self.request_stop)
            signal.signal(signal.SIGINT, self.request_stop)
            signal.signal(signal.SIGHUP, self.request_reload)
        if reload_pending():
            self._reload_requested.set()
        warm_language_models()
        if not self._connectors:
            log.warning("daemon.no_connectors", hint="enable [dropfolder] or [imap] in the config")
        for connector in self._connectors:
            thread = threading.Thread(
                target=self._supervise, args=(connector,), name=connector.name, daemon=True
            )
            thread.start()
            self._threads.append(thread)
        try:
            self._start_jobs()  # the scheduler; a failing job never takes the daemon down
        except Exception as exc:
            log.error("jobs.start_failed", **crash_site(exc))
        log.info("daemon.started", connectors=[c.name for c in self._connectors])
        self._notifier.ready(self._safe_status())
        self._loop()
        return self._shutdown()

    def _loop(self) -> None:
        interval = self._notifier.watchdog_interval
        next_ping = next_status = self._monotonic()
        while not self._stop.wait(min(1.0, interval / 4) if interval else 1.0):
            now = self._monotonic()
            problem = self._safe_health()
            if problem:
                log.error("daemon.cannot_go_on", error=problem)
                self._notifier.status(f"failed: {problem}")
                self._failed = True
                self._stop.set()
                break
            if self._reload_requested.is_set():
                self._reload_requested.clear()
                self._notifier.reloading()
                self._reload()  # logs what it did, or why the new config was refused
                self._notifier.ready(self._safe_status())
            if interval and now >= next_ping:
                if self.alive(interval):
                    self._notifier.watchdog()
                next_ping = now + interval / 2
            if now >= next_status:
                self._notifier.status(self._safe_status())
                next_status = now + _STATUS_EVERY

    def alive(self, within: float) -> bool:
        """Every connector's loop has turned within the interval (a hung one stops the pings)
        and none has had input waiting without progress for longer (a stalled one does too)."""
        now = self._monotonic()
        stale = [c.name for c in self._connectors if now - c.last_activity > within]
        if stale:
            log.warning("daemon.loop_stalled", connectors=stale, seconds=within)
        stalled = self.stalls(within)
        names = {line.split(":", 1)[0] for line in stalled}
        if names - self._stalled:  # said when a stall starts, not at every check
            log.error("daemon.intake_stalled", stalls=stalled, seconds=within)
        elif self._stalled - names:
            log.info("daemon.intake_moves_again", connectors=sorted(self._stalled - names))
        self._stalled = names
        return not stale and not stalled

    def stalls(self, within: float) -> list[str]:
        """One line per connector whose input has waited longer than `within` seconds
        without any of it committed and acknowledged."""
        now = self._monotonic()
        found = []
        for connector in self._connectors:
            since = getattr(connector, "waiting_since", None)
            if since is None or now - since <= within:
                continue
            fault = getattr(connector, "fault", lambda: None)()
            line = f"{connector.name}: input waiting, none acknowledged for {now - since:.0f} s"
            found.append(f"{line}: {fault}" if fault else line)
        return found

    def _safe_status(self) -> str:
        try:
            text = self._status()
        except Exception as exc:  # a status line must never take the daemon down
            log.warning("daemon.status_failed", **crash_site(exc))
            text = "running"
        stalled = self.stalls(self._stall_after)
        if stalled:
            text = f"STALLED: {'; '.join(stalled)} | {text}"
        try:
            self._publish(text)
        except OSError as exc:
            log.warning("daemon.status_not_published", error=str(exc))
        return text

    def _safe_health(self) -> str | None:
        try:
            return self._health()
        except Exception as exc:
            log.warning("daemon.health_check_failed", **crash_site(exc))
            return None

    def _supervise(self, connector: Connector) -> None:
        """Run a connector; if it crashes, log it and start it again after a backoff."""
        backoff = _RESTART_FIRST
        while not self._stop.is_set():
            try:
                connector.run()
                return
            except Exception as exc:
                log.error(
                    "connector.crashed",
                    connector=connector.name,
                    retry_in=backoff,
                    **crash_site(exc),
                )
                self._stop.wait(backoff)
                backoff = min(backoff * 2, _RESTART_MAX)

    def _shutdown(self) -> int:
        self._notifier.stopping()
        self._stop_jobs()
        # Intake stops at once; a ticket in flight finishes its commit and acknowledgement.
        for thread in self._threads:
            thread.join(timeout=self._drain_seconds)
        unfinished = [thread.name for thread in self._threads if thread.is_alive()]
        if unfinished:
            # Their inputs are not acknowledged, so they are taken again at the next start.
            log.warning("daemon.drain_timeout", connectors=unfinished)
        self._close()
        log.info("daemon.stopped", failed=self._failed)
        return 1 if self._failed else 0
