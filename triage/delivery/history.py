"""A ticket's deliveries in words, one line each, for `triage show`: to whom, and what became
of it (sent when, waiting for which attempt after which error, refused why). Pure: the
store's facts in, text out; a webhook URL is never printed whole, it may hold a token."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from triage.records import DeliveryFacts
from triage.redaction import mask_secrets, shown_destination

# The words an admin knows each kind by (the config's tables).
KIND_WORDS = {"smtp": "relay", "webhook": "webhook", "ack": "ack"}
ERROR_CHARS = 200


def delivery_lines(deliveries: Sequence[DeliveryFacts], secrets: Iterable[str] = ()) -> list[str]:
    """A line each; configured `secrets` (those of 4 characters or more, as in the logs) that
    a server's error quoted are masked."""
    masked = sorted({secret for secret in secrets if len(secret) >= 4}, key=len, reverse=True)
    return [mask_secrets(f"{_target(d)}: {_what_became(d)}", masked) for d in deliveries]


def _target(delivery: DeliveryFacts) -> str:
    kind = KIND_WORDS.get(delivery.kind, delivery.kind)
    to = ", ".join(delivery.recipients)
    if delivery.destination == "(unbuilt)":
        where = "(not built)"
    elif "://" in delivery.destination:
        where = shown_destination(delivery.destination)
    elif delivery.kind == "smtp":
        where = f"to {to} (route {delivery.destination})"
    else:
        where = f"to {to or delivery.destination}"
    revision = f" (revision {delivery.revision})" if delivery.revision > 1 else ""
    return f"{kind} {where}{revision}"


def _what_became(delivery: DeliveryFacts) -> str:
    attempts = f"{delivery.attempts} attempt" + ("" if delivery.attempts == 1 else "s")
    error = _error(delivery)
    if delivery.state == "done":
        after = f" after {attempts}" if delivery.attempts > 1 else ""
        return f"sent {_when(delivery.done_at)}{after}"
    if delivery.state == "pending":
        tried = f", {attempts}" if delivery.attempts else ""
        why = f" (last error: {error})" if error else ""
        return f"pending{tried}, next attempt {_when(delivery.next_at)}{why}"
    if delivery.state == "quarantined":
        return f"quarantined {_when(delivery.done_at)}, {attempts}: {error or 'no reason kept'}"
    if delivery.state == "superseded":
        return f"not sent, {error or 'superseded'}"
    return delivery.state + (f": {error}" if error else "")


def _error(delivery: DeliveryFacts) -> str:
    """The last error on one line, cut, with the destination's URL masked in it."""
    text = " ".join((delivery.last_error or "").split())
    text = shown_destination(delivery.destination, text)
    return text if len(text) <= ERROR_CHARS else text[: ERROR_CHARS - 1] + "…"


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "(unknown)"
