"""The delivery package's face to the rest of the daemon: the pipeline asks it for the extra
writes of a result's transaction and tells it when they are committed; the daemon starts and
stops it; check, the digest and STATUS= ask it what is stuck."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

import structlog

from triage.config_delivery import RelayConfig, WebhookConfig
from triage.delivery.plan import plan_deliveries
from triage.delivery.queue import (
    DeliveryQueue,
    Lane,
    counts,
    earlier,
    failing,
    insert,
    insert_unbuildable,
    misconfigured,
    problems,
    supersede,
)
from triage.delivery.sender import Sender, Transport
from triage.logs import crash_site
from triage.ports import Clock
from triage.records import Also
from triage.result import Result
from triage.store import SqliteStore

log = structlog.get_logger("triage.delivery")


def lanes(destinations: Sequence[str]) -> list[Lane]:
    """A lane per destination, and one for any other (a destination no longer configured,
    refused by its transport); a transport without destinations has the one lane ALL."""
    named = tuple(dict.fromkeys(destinations))
    return [*(Lane(destination) for destination in named), Lane(None, named)]


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
        self._store = store
        self.queue = DeliveryQueue(store)
        self._transports = tuple(transports)
        self._senders = [
            Sender(self.queue, transport, clock, lane)
            for transport in transports
            for lane in lanes(transport.destinations())
        ]

    @property
    def active(self) -> bool:
        return self._relay.enabled or bool(self._webhooks)

    def writer(self, result: Result, raw: bytes, now: datetime) -> Also | None:
        """The writes to make in `result`'s transaction (None: nothing to deliver)."""
        if not self.active:
            return None
        try:
            planned = plan_deliveries(result, raw, self._relay, self._webhooks, now)
        except Exception as exc:  # a bug must cost a visible delivery, never intake
            log.error("delivery.plan_crashed", ticket=result.id, **crash_site(exc))
            reason = f"could not be built: {type(exc).__name__} (see the log)"

            def refuse(db: sqlite3.Connection) -> None:
                insert_unbuildable(db, result.id, reason, now)

            return refuse
        if not planned:
            return None

        def write(db: sqlite3.Connection) -> None:
            before = earlier(db, result.id)
            if not before:
                insert(db, planned)
                return
            # A replayed ticket: its changed result is the next revision to each destination.
            revised = plan_deliveries(result, raw, self._relay, self._webhooks, now, before)
            supersede(db, revised, now)
            insert(db, revised)

        return write

    def committed(self) -> None:
        """Right after a commit that wrote deliveries: the senders look now, not later."""
        for sender in self._senders:
            sender.wake()

    def start(self) -> None:
        for sender in self._senders:
            sender.start()

    def stop(self) -> None:
        """Every sender stops after its delivery in flight (each bounded by its transport's
        deadline, all waited for together), then the transports close."""
        for sender in self._senders:
            sender.halt()
        for sender in self._senders:
            sender.join()
        for transport in self._transports:
            transport.close()

    def counts(self) -> dict[tuple[str, str], int]:
        return counts(self._store)

    def problems(self) -> list[str]:
        """Destinations that keep failing and deliveries refused for good, in words."""
        return problems(self._store)

    def status(self) -> str:
        """For STATUS=: e.g. 'deliveries 2 pending, 1 failing, 1 misconfigured'."""
        by_state = counts(self._store)
        pending = sum(n for (_, state), n in by_state.items() if state == "pending")
        wrong = {(f.kind, f.destination) for f in misconfigured(self._store)}
        stuck = len([f for f in failing(self._store) if (f.kind, f.destination) not in wrong])
        return (
            f"deliveries {pending} pending"
            + (f", {stuck} failing" if stuck else "")
            + (f", {len(wrong)} misconfigured" if wrong else "")
        )
