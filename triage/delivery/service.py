"""The delivery package's face to the rest of the daemon: the pipeline asks it for the extra
writes of a result's transaction and tells it when they are committed; the daemon starts and
stops it; check, the digest and STATUS= ask it what is stuck."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

from triage.config import RelayConfig, WebhookConfig
from triage.delivery.plan import plan_deliveries
from triage.delivery.queue import DeliveryQueue, insert
from triage.delivery.sender import Sender, Transport
from triage.ports import Clock
from triage.result import Result
from triage.store import Also, SqliteStore


class DeliveryService:
    def __init__(
        self,
        store: SqliteStore,
        relay: RelayConfig,
        webhooks: Sequence[WebhookConfig],
        clock: Clock,
        transports: Sequence[Transport],
    ) -> None:
        self._relay = relay
        self._webhooks = tuple(webhooks)
        self.queue = DeliveryQueue(store)
        self._senders = [Sender(self.queue, transport, clock) for transport in transports]

    @property
    def active(self) -> bool:
        return self._relay.enabled or bool(self._webhooks)

    def writer(self, result: Result, raw: bytes, now: datetime) -> Also | None:
        """The writes to make in `result`'s transaction (None: nothing to deliver)."""
        if not self.active:
            return None
        planned = plan_deliveries(result, raw, self._relay, self._webhooks, now)
        if not planned:
            return None

        def write(db: sqlite3.Connection) -> None:
            insert(db, planned)

        return write

    def committed(self) -> None:
        """Right after a commit that wrote deliveries: the senders look now, not later."""
        for sender in self._senders:
            sender.wake()

    def start(self) -> None:
        for sender in self._senders:
            sender.start()

    def stop(self) -> None:
        for sender in self._senders:
            sender.stop()

    def problems(self) -> list[str]:
        """Destinations that keep failing and deliveries refused for good, in words."""
        lines = [
            f"{f.kind} {f.destination}: {f.pending} waiting, {f.attempts} attempts,"
            f" last error: {f.last_error}"
            for f in self.queue.failing()
        ]
        quarantined = self.queue.counts()
        for (kind, state), count in sorted(quarantined.items()):
            if state == "quarantined":
                lines.append(f"{kind}: {count} deliveries refused for good (quarantined)")
        return lines

    def status(self) -> str:
        """For STATUS=: e.g. 'deliveries 2 pending, 1 failing'."""
        counts = self.queue.counts()
        pending = sum(n for (_, state), n in counts.items() if state == "pending")
        failing = len(self.queue.failing())
        return f"deliveries {pending} pending" + (f", {failing} failing" if failing else "")
