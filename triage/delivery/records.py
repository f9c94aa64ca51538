"""Plain data of the delivery package: what one delivery is, and how a transport fails."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from triage.records import DELIVERY_MISCONFIGURED

Kind = Literal["smtp", "webhook"]
# superseded: a pending delivery of a result replaced since (a replay), never to be sent.
State = Literal["pending", "done", "quarantined", "superseded"]


@dataclass(frozen=True)
class Delivery:
    """One message to one destination, ready to send: `payload` is the exact bytes (the mail,
    or the webhook's JSON body), so a retry after a crash sends the same thing again."""

    key: str  # stable: the ticket id and the destination; also the Message-ID's local part
    ticket_id: str
    kind: Kind
    destination: str  # the URL, or the route's name for mail
    recipients: tuple[str, ...]  # envelope RCPT TO; empty for webhooks
    payload: bytes
    created_at: datetime


def keyed(base: str, revision: int) -> str:
    """A delivery's key: `base` (the ticket id and the destination) for a result's first
    revision, `<base>.v<n>` for the n-th (a replayed ticket's changed result)."""
    return base if revision <= 1 else f"{base}.v{revision}"


def revision_of(key: str) -> int:
    """The revision a key names (see `keyed`)."""
    _, dot, tail = key.rpartition(".v")
    return int(tail) if dot and tail.isdigit() else 1


def idempotency_key(ticket_id: str, revision: int) -> str:
    """The webhook's Idempotency-Key: the ticket id, and `.v<n>` from the 2nd revision on."""
    return keyed(ticket_id, revision)


@dataclass(frozen=True)
class Pending:
    """A delivery row due for an attempt."""

    delivery: Delivery
    attempts: int


class DeliveryError(Exception):
    """A delivery attempt failed: `permanent` ones are quarantined, the rest retried.
    `misconfigured`: the destination is set up wrong (a webhook URL that redirects): its
    deliveries are kept and tried again at the longest wait, until a person fixes it."""

    def __init__(self, reason: str, *, permanent: bool, misconfigured: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.misconfigured = misconfigured


MISCONFIGURED = DELIVERY_MISCONFIGURED  # how last_error starts for such a destination
