"""Webhooks: the result JSON POSTed with an HMAC-SHA256 signature over "<t>.<body>" (the
Stripe/GitHub convention) and the ticket id (with `.v<n>` from a replayed ticket's 2nd
result on) as the idempotency key."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import socket
import threading
from collections.abc import Sequence
from typing import Any

import httpx

from triage.config.delivery import WebhookConfig
from triage.errors import DeliveryError
from triage.ports import Clock
from triage.records import Delivery, delivery_key, revision_of
from triage.records import DeliveryKind as Kind
from triage.redaction import masked_url


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


class _Deadline:
    """One attempt's overall deadline. httpx's timeouts apply to each read, so a receiver that
    answers one byte a second would hold the attempt for ever: at the deadline the attempt's
    socket is shut down, which ends any read or write in progress on it at once."""

    def __init__(self, seconds: float) -> None:
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self.expired = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpx's trace extension: the new connection's socket as soon as it exists, and
        its TLS socket once the handshake is done (which takes the first one's place)."""
        if event not in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            return
        stream = info.get("return_value")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if isinstance(sock, socket.socket):
            with self._lock:
                self._sockets.append(sock)
                if self.expired:
                    _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    # socket.socket's own shutdown, also for an SSLSocket: the TLS layer is not touched from
    # this thread, the blocked read just returns. OSError: closed already.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


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
            # A connection per attempt: its socket is the one the deadline can shut down.
            limits=httpx.Limits(max_keepalive_connections=0),
            headers={"User-Agent": "triage-webhook/1", "Content-Type": "application/json"},
        )

    def limits(self, delivery: Delivery) -> tuple[float, float]:
        hook = self._hooks.get(delivery.destination)
        return (hook.retry_cap_seconds, hook.give_up_hours) if hook else (300.0, 24.0)

    def destinations(self) -> tuple[str, ...]:
        """Each URL has its own sender: a slow receiver delays only its own deliveries."""
        return tuple(self._hooks)

    def send(self, delivery: Delivery) -> None:
        hook = self._hooks.get(delivery.destination)
        if hook is None:
            raise DeliveryError("this URL is no longer configured in [[webhooks]]", permanent=True)
        stamp = int(self._clock().timestamp())
        headers = {
            "X-Triage-Signature": signature(
                hook.secret.get_secret_value().encode(), delivery.payload, stamp
            ),
            "Idempotency-Key": delivery_key(delivery.ticket_id, revision_of(delivery.key)),
            "X-Triage-Revision": str(revision_of(delivery.key)),
        }
        seconds = hook.timeout_seconds
        with _Deadline(seconds) as deadline:
            try:
                response = self._client.post(
                    hook.url,
                    content=delivery.payload,
                    headers=headers,
                    timeout=seconds,
                    extensions={"trace": deadline.trace},
                )
            except httpx.HTTPError as exc:
                if deadline.expired:
                    raise DeliveryError(
                        f"no complete answer within timeout_seconds ({seconds:g} s)",
                        permanent=False,
                    ) from None
                raise DeliveryError(f"{type(exc).__name__}: {exc}"[:300], permanent=False) from None
        if 300 <= response.status_code < 400:
            raise DeliveryError(
                f"HTTP {response.status_code} redirect to {_where(response)}: a"
                " webhook is not followed to another address; set [[webhooks]] url to the"
                " address that answers",
                permanent=False,
                misconfigured=True,
            )
        if not response.is_success:
            raise DeliveryError(f"HTTP {response.status_code}", permanent=False)

    def idle(self) -> None:
        """Nothing due: nothing held open (each attempt has its own connection)."""

    def close(self) -> None:
        self._client.close()


def _where(response: httpx.Response) -> str:
    """The redirect's target, masked (its path or query may hold a token), for the log and
    check."""
    location = str(response.headers.get("Location", ""))
    if not location:
        return "(no Location)"
    return masked_url(location[:2000])
