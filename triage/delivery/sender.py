"""A sender thread: works off the due deliveries of one kind and lane, oldest first, with
capped backoff. Woken right after a commit that planned deliveries; otherwise it sleeps until
the next retry is due. Each webhook URL has a lane (and a sender) of its own, so a slow or
failing destination costs its own retries, never another's deliveries, never intake."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Protocol

import structlog

from triage.delivery.queue import DeliveryQueue, backoff_seconds
from triage.errors import DeliveryError
from triage.ports import Clock
from triage.records import (
    ALL_DESTINATIONS,
    DELIVERY_MISCONFIGURED,
    Delivery,
    Lane,
    Pending,
    short_hash,
)
from triage.records import DeliveryKind as Kind
from triage.redaction import shown_destination

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

    def destinations(self) -> tuple[str, ...]:
        """The destinations that each get a sender of their own (a slow one then delays only
        itself); () for one sender for every destination of this kind."""
        ...

    def send(self, delivery: Delivery) -> None:
        """Returns once the destination accepted it; raises DeliveryError."""
        ...

    def idle(self) -> None: ...

    def close(self) -> None: ...


class Sender:
    def __init__(
        self,
        queue: DeliveryQueue,
        transport: Transport,
        clock: Clock,
        lane: Lane = ALL_DESTINATIONS,
    ) -> None:
        self._queue = queue
        self._transport = transport
        self._clock = clock
        self._lane = lane
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sent: list[str] = []  # accepted, not yet marked in the store
        # Misconfigured destinations (reported once) -> until when their deliveries wait.
        self._held: dict[str, datetime] = {}

    @property
    def kind(self) -> Kind:
        return self._transport.kind

    @property
    def lane(self) -> Lane:
        return self._lane

    def start(self) -> None:
        name = f"sender-{self._transport.kind}"
        if self._lane.destination is not None:  # a URL may hold a token: named by its hash
            name += f"-{short_hash(self._lane.destination)}"
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Something was committed: look for due deliveries now."""
        self._wake.set()

    def halt(self) -> None:
        """Stop after the delivery in flight (bounded by the transport's deadline)."""
        self._stop.set()
        self._wake.set()

    def join(self, timeout: float = 10.0) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """halt(), join() and close the transport (a sender that owns its transport)."""
        self.halt()
        self.join(timeout)
        self._transport.close()

    def run_once(self) -> int:
        """Attempt every delivery due now; how many were attempted."""
        attempted = 0
        while not self._stop.is_set():
            batch = self._queue.due(self._transport.kind, self._clock(), lane=self._lane)
            if not batch:
                break
            held: set[str] = set()  # destinations found misconfigured in this batch
            try:
                for pending in batch:
                    if self._stop.is_set():
                        break
                    destination = pending.delivery.destination
                    if destination in held:
                        continue  # held back with the rest of its destination
                    if self._still_held(pending.delivery):
                        held.add(destination)  # planned since it was found misconfigured
                        continue
                    if not self._attempt(pending):
                        held.add(destination)
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
            due = self._queue.next_due(self._transport.kind, self._lane)
        except Exception:  # retried at the next wake-up
            return IDLE_SECONDS
        if due is None:
            return IDLE_SECONDS
        return min(IDLE_SECONDS, max(0.05, (due - self._clock()).total_seconds()))

    def _attempt(self, pending: Pending) -> bool:
        """False when the destination turned out misconfigured (its deliveries are held)."""
        delivery = pending.delivery
        try:
            self._transport.send(delivery)
        except DeliveryError as exc:
            if exc.misconfigured:
                self._hold(pending, exc)
                return False
            self._failed(pending, exc)
            return True
        now = self._clock()
        self._held.pop(delivery.destination, None)
        self._sent.append(delivery.key)
        if len(self._sent) >= DONE_BATCH:
            self._mark_sent()
        log.info(
            "delivery.sent",
            kind=delivery.kind,
            key=delivery.key,
            ticket=delivery.ticket_id,
            destination=shown_destination(delivery.destination),
            attempts=pending.attempts + 1,
            seconds_after_commit=round((now - delivery.created_at).total_seconds(), 3),
        )
        return True

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
            "destination": shown_destination(delivery.destination),
            "attempts": attempts,
            "error": shown_destination(delivery.destination, exc.reason),
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

    def _still_held(self, delivery: Delivery) -> bool:
        """A delivery to a destination held as misconfigured waits with the others."""
        until = self._held.get(delivery.destination)
        if until is None or self._clock() >= until:
            return False
        self._queue.hold(delivery.kind, delivery.destination, until)
        return True

    def _hold(self, pending: Pending, exc: DeliveryError) -> None:
        """A misconfigured destination: nothing is dropped and nothing given up on; its
        deliveries wait the longest retry wait, so one attempt per wait asks whether it is
        fixed. Said once (an error in the log), and shown by check, the digest and metrics."""
        delivery, now = pending.delivery, self._clock()
        cap, _ = self._transport.limits(delivery)
        until = now + timedelta(seconds=cap)
        self._queue.retry(delivery.key, DELIVERY_MISCONFIGURED + exc.reason, until)
        self._queue.hold(delivery.kind, delivery.destination, until)
        fields = {"kind": delivery.kind, "destination": delivery.destination}
        reported = delivery.destination in self._held
        self._held[delivery.destination] = until
        if reported:
            log.debug("delivery.still_misconfigured", error=exc.reason, **fields)
            return
        log.error(
            "delivery.misconfigured",
            error=exc.reason,
            retry_in_seconds=cap,
            hint="deliveries are kept; fix the destination in the configuration",
            **fields,
        )
