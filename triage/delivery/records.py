"""Plain data of the delivery package: what one delivery is, and how a transport fails."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Kind = Literal["smtp", "webhook"]
State = Literal["pending", "done", "quarantined"]


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


@dataclass(frozen=True)
class Pending:
    """A delivery row due for an attempt."""

    delivery: Delivery
    attempts: int


class DeliveryError(Exception):
    """A delivery attempt failed: `permanent` ones are quarantined, the rest retried."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
