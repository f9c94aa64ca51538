"""The sender thread: works off due deliveries of one kind, oldest first, with capped
backoff. Woken right after a commit that planned deliveries; otherwise it sleeps until the
next retry is due. A failing destination costs its own retries, never intake."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Protocol

import structlog

from triage.delivery.queue import DeliveryQueue, backoff_seconds
from triage.errors import DeliveryError
from triage.ports import Clock
from triage.records import Delivery, Pending
from triage.records import DeliveryKind as Kind

log = structlog.get_logger("triage.delivery")

IDLE_SECONDS = 60.0
# Accepted deliveries are marked sent in the store this many at a time (one fsync for all):
# a crash can resend at most these, each under its stable Message-ID.
DONE_BATCH = 16


class Transport(Protocol):
    kind: Kind

    def limits(self, delivery: Delivery) -> tuple[float, float]:
        """(longest wait between attempts in seconds, give up after this many hours)."""
        ...

    def send(self, delivery: Delivery) -> None:
        """Returns once the destination accepted it; raises DeliveryError."""
        ...

    def idle(self) -> None: ...

    def close(self) -> None: ...


class Sender:
    def __init__(self, queue: DeliveryQueue, transport: Transport, clock: Clock) -> None:
        self._queue = queue
        self._transport = transport
        self._clock = clock
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sent: list[str] = []  # accepted, not yet marked in the store

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name=f"sender-{self._transport.kind}", daemon=True
        )
        self._thread.start()

    def wake(self) -> None:
        """Something was committed: look for due deliveries now."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """After the delivery in flight (bounded by the transport's timeout)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._transport.close()

    def run_once(self) -> int:
        """Attempt every delivery due now; how many were attempted."""
        attempted = 0
        while not self._stop.is_set():
            batch = self._queue.due(self._transport.kind, self._clock())
            if not batch:
                break
            try:
                for pending in batch:
                    if self._stop.is_set():
                        break
                    self._attempt(pending)
                    attempted += 1
            finally:
                self._mark_sent()
        if attempted:
            self._transport.idle()
        return attempted

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.run_once()
            except Exception as exc:  # the store failing must not end the thread
                log.error("delivery.sender_failed", kind=self._transport.kind, error=str(exc))
            self._wake.wait(self._seconds_to_next())

    def _seconds_to_next(self) -> float:
        try:
            due = self._queue.next_due(self._transport.kind)
        except Exception:  # retried at the next wake-up
            return IDLE_SECONDS
        if due is None:
            return IDLE_SECONDS
        return min(IDLE_SECONDS, max(0.05, (due - self._clock()).total_seconds()))

    def _attempt(self, pending: Pending) -> None:
        delivery = pending.delivery
        try:
            self._transport.send(delivery)
        except DeliveryError as exc:
            self._failed(pending, exc)
            return
        now = self._clock()
        self._sent.append(delivery.key)
        if len(self._sent) >= DONE_BATCH:
            self._mark_sent()
        log.info(
            "delivery.sent",
            kind=delivery.kind,
            key=delivery.key,
            ticket=delivery.ticket_id,
            destination=delivery.destination,
            attempts=pending.attempts + 1,
            seconds_after_commit=round((now - delivery.created_at).total_seconds(), 3),
        )

    def _mark_sent(self) -> None:
        if self._sent:
            self._queue.done(self._sent, self._clock())
            self._sent = []

    def _failed(self, pending: Pending, exc: DeliveryError) -> None:
        delivery, now = pending.delivery, self._clock()
        cap, give_up_hours = self._transport.limits(delivery)
        attempts = pending.attempts + 1
        fields = {
            "kind": delivery.kind,
            "key": delivery.key,
            "ticket": delivery.ticket_id,
            "destination": delivery.destination,
            "attempts": attempts,
            "error": exc.reason,
        }
        if exc.permanent or now - delivery.created_at >= timedelta(hours=give_up_hours):
            reason = (
                exc.reason if exc.permanent else f"gave up after {attempts} attempts: {exc.reason}"
            )
            self._queue.quarantine(delivery.key, reason, now)
            log.error("delivery.quarantined", **fields)
            return
        wait = backoff_seconds(attempts, cap)
        self._queue.retry(delivery.key, exc.reason, now + timedelta(seconds=wait))
        log.warning("delivery.retry", retry_in_seconds=wait, **fields)
