"""The delivery queue as the senders see it: the store's deliveries (the DeliveryStore port)
taken in batches that bound the memory they hold, each sender its own lane, the retry
back-off, and what is stuck, in words."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from triage.ports import DeliveryStore
from triage.records import ALL_DESTINATIONS, DELIVERY_MISCONFIGURED, DeliveryKind, Lane, Pending
from triage.redaction import shown_destination

FIRST_RETRY_SECONDS = 5.0
# Payload bytes read into memory per batch of deliveries (a batch holds at least one).
BATCH_BYTES = 32 * 1024 * 1024
# A destination whose oldest pending delivery has failed this often is reported as failing.
FAILING_AFTER = 3


def backoff_seconds(attempts: int, cap: float) -> float:
    """5 s after the first failure, doubling, never more than `cap`."""
    return float(min(cap, FIRST_RETRY_SECONDS * 2 ** max(0, min(attempts - 1, 30))))


def lanes(destinations: Sequence[str]) -> list[Lane]:
    """A lane per destination, and one for any other (a destination no longer configured,
    refused by its transport); a transport without destinations has the one lane for all."""
    named = tuple(dict.fromkeys(destinations))
    return [*(Lane(destination) for destination in named), Lane(None, named)]


class DeliveryQueue:
    def __init__(self, store: DeliveryStore, batch_bytes: int = BATCH_BYTES) -> None:
        self._store = store
        self._batch_bytes = batch_bytes

    def due(
        self, kind: DeliveryKind, now: datetime, limit: int = 50, lane: Lane = ALL_DESTINATIONS
    ) -> list[Pending]:
        """The oldest due deliveries of `lane`, up to `limit` and `batch_bytes` of payload
        (at least one): a backlog of large mails is never read into memory at once."""
        return self._store.deliveries_due(kind, now, limit, self._batch_bytes, lane)

    def next_due(self, kind: DeliveryKind, lane: Lane = ALL_DESTINATIONS) -> datetime | None:
        return self._store.next_delivery_due(kind, lane)

    def done(self, keys: Iterable[str], now: datetime) -> None:
        """Accepted by the destination: the payload is dropped, the facts kept."""
        self._store.deliveries_done(keys, now)

    def retry(self, key: str, error: str, at: datetime) -> None:
        self._store.delivery_retry(key, error, at)

    def hold(self, kind: DeliveryKind, destination: str, until: datetime) -> None:
        """No delivery to `destination` is due before `until` (it is misconfigured)."""
        self._store.deliveries_hold(kind, destination, until)

    def quarantine(self, key: str, reason: str, now: datetime) -> None:
        """Refused for good: kept with the reason and the payload, for a person to look at."""
        self._store.delivery_quarantine(key, reason, now)


def problems(store: DeliveryStore) -> list[str]:
    """What is stuck, in words: for check, the digest and STATUS=."""
    held = store.deliveries_misconfigured()
    lines = [
        f"{f.kind} to {shown_destination(f.destination)} is"
        f" {shown_destination(f.destination, f.last_error or DELIVERY_MISCONFIGURED)}; {f.pending}"
        " waiting, kept until it is fixed"
        for f in held
    ]
    named = {(f.kind, f.destination) for f in held}
    lines += [
        f"{f.kind} to {shown_destination(f.destination)} keeps failing: {f.pending} waiting,"
        f" {f.attempts} attempts, last error: {shown_destination(f.destination, f.last_error)}"
        for f in store.deliveries_failing(FAILING_AFTER)
        if (f.kind, f.destination) not in named
    ]
    for (kind, state), count in sorted(store.delivery_counts().items()):
        if state == "quarantined":
            lines.append(f"{kind}: {count} deliveries refused for good (quarantined)")
    return lines
