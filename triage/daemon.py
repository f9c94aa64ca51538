"""The daemon's lifecycle: start every connector in its own thread, keep them running, and on
SIGTERM/SIGINT stop intake, let in-flight tickets finish within a bound, then close."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Protocol

import structlog

from triage.logs import crash_site

log = structlog.get_logger("triage.daemon")

_RESTART_FIRST, _RESTART_MAX = 1.0, 60.0


class Connector(Protocol):
    name: str

    def run(self) -> None:
        """Take input until the shared stop event is set."""


class Daemon:
    def __init__(
        self,
        connectors: list[Connector],
        stop: threading.Event,
        close: Callable[[], None],
        drain_seconds: float = 20.0,
    ) -> None:
        self._connectors = connectors
        self._stop = stop
        self._close = close
        self._drain_seconds = drain_seconds
        self._threads: list[threading.Thread] = []

    def request_stop(self, signum: int | None = None, _frame: FrameType | None = None) -> None:
        if not self._stop.is_set():
            name = signal.Signals(signum).name if signum else "request"
            log.info("daemon.stopping", signal=name)
        self._stop.set()

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)
        if not self._connectors:
            log.warning("daemon.no_connectors", hint="enable [dropfolder] or [imap] in the config")
        for connector in self._connectors:
            thread = threading.Thread(
                target=self._supervise, args=(connector,), name=connector.name, daemon=True
            )
            thread.start()
            self._threads.append(thread)
        log.info("daemon.started", connectors=[c.name for c in self._connectors])
        while not self._stop.wait(1.0):
            pass
        return self._shutdown()

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
