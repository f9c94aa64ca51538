"""Webhooks: the result JSON POSTed with an HMAC-SHA256 signature over "<t>.<body>" (the
Stripe/GitHub convention) and the ticket id as the idempotency key."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

import httpx

from triage.config.delivery import WebhookConfig
from triage.errors import DeliveryError
from triage.ports import Clock
from triage.records import Delivery
from triage.records import DeliveryKind as Kind


def signature(secret: bytes, body: bytes, timestamp: int) -> str:
    """The X-Triage-Signature value: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">."""
    mac = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: bytes, header: str, body: bytes, now: int, tolerance: int = 300) -> bool:
    """What a receiver does: the signature matches and is recent (no replay)."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    expected = signature(secret, body, timestamp).rpartition("v1=")[2]
    return abs(now - timestamp) <= tolerance and hmac.compare_digest(expected, parts.get("v1", ""))


class WebhookTransport:
    kind: Kind = "webhook"

    def __init__(
        self,
        hooks: Sequence[WebhookConfig],
        clock: Clock,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._hooks = {hook.url: hook for hook in hooks}
        self._clock = clock
        self._client = httpx.Client(
            transport=transport,
            follow_redirects=False,
            headers={"User-Agent": "triage-webhook/1", "Content-Type": "application/json"},
        )

    def limits(self, delivery: Delivery) -> tuple[float, float]:
        hook = self._hooks.get(delivery.destination)
        return (hook.retry_cap_seconds, hook.give_up_hours) if hook else (300.0, 24.0)

    def send(self, delivery: Delivery) -> None:
        hook = self._hooks.get(delivery.destination)
        if hook is None:
            raise DeliveryError("this URL is no longer configured in [[webhooks]]", permanent=True)
        stamp = int(self._clock().timestamp())
        headers = {
            "X-Triage-Signature": signature(
                hook.secret.get_secret_value().encode(), delivery.payload, stamp
            ),
            "Idempotency-Key": delivery.ticket_id,
        }
        try:
            response = self._client.post(
                hook.url, content=delivery.payload, headers=headers, timeout=hook.timeout_seconds
            )
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}"[:300], permanent=False) from None
        if not response.is_success:
            raise DeliveryError(f"HTTP {response.status_code}", permanent=False)

    def idle(self) -> None:
        """Nothing due: keep the pooled connections (httpx closes idle ones itself)."""

    def close(self) -> None:
        self._client.close()
