"""The daemon's lifecycle: start every connector in its own thread, keep them running, tell
systemd how things are (READY, WATCHDOG while the loops are alive, STATUS), reload on SIGHUP,
and on SIGTERM/SIGINT stop intake, let in-flight tickets finish within a bound, then close."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Protocol

import structlog

from triage.logs import crash_site
from triage.notify import Notifier

log = structlog.get_logger("triage.daemon")

_RESTART_FIRST, _RESTART_MAX = 1.0, 60.0
_STATUS_EVERY = 10.0


class Connector(Protocol):
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
    ) -> None:
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
        self._reload_requested = threading.Event()
        self._threads: list[threading.Thread] = []

    def request_stop(self, signum: int | None = None, _frame: FrameType | None = None) -> None:
        if not self._stop.is_set():
            name = signal.Signals(signum).name if signum else "request"
            log.info("daemon.stopping", signal=name)
        self._stop.set()

    def request_reload(self, _signum: int | None = None, _frame: FrameType | None = None) -> None:
        self._reload_requested.set()

    def run(self, install_signals: bool = True) -> int:
        if install_signals:  # only the main thread may; tests drive the daemon from another
            signal.signal(signal.SIGTERM, self.request_stop)
            signal.signal(signal.SIGINT, self.request_stop)
            signal.signal(signal.SIGHUP, self.request_reload)
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
        """Every connector's loop has turned within the interval (a hung one stops the pings)."""
        now = self._monotonic()
        stale = [c.name for c in self._connectors if now - c.last_activity > within]
        if stale:
            log.warning("daemon.loop_stalled", connectors=stale, seconds=within)
        return not stale

    def _safe_status(self) -> str:
        try:
            return self._status()
        except Exception as exc:  # a status line must never take the daemon down
            log.warning("daemon.status_failed", **crash_site(exc))
            return "running"

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
        log.info("daemon.stopped")
        return 0
