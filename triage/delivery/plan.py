"""What a committed result is delivered as, and where: pure, given the result, the input's
bytes and the settings. The pipeline stores what this returns in the result's transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import PurePath

from triage.config.delivery import RelayConfig, WebhookConfig
from triage.delivery.headers import safe_summary
from triage.delivery.mail import cover_text, new_mail, resent
from triage.delivery.routes import Destination, Facts, pick_destination
from triage.errors import ParseError
from triage.parsing.detect import detect_format
from triage.parsing.jsonticket import parse_json_ticket
from triage.records import Delivery, delivery_key, short_hash
from triage.redaction import RESULT_TAGS, published
from triage.result import Result
from triage.rules.sensitivity import EMAIL, PHONE, scrub

_JSON_BODY_CHARS = 200_000


def plan_deliveries(
    result: Result,
    raw: bytes,
    relay: RelayConfig,
    webhooks: Sequence[WebhookConfig],
    now: datetime,
    earlier: Mapping[tuple[str, str], int] | None = None,
) -> list[Delivery]:
    """`earlier`: (kind, destination) -> deliveries planned before for this ticket (a
    replayed ticket's earlier results): this result is the next revision to each."""
    earlier = earlier or {}
    result = published(result)  # a credential in a dropped file's name stays in the store
    planned = []
    if relay.enabled and result.status in relay.statuses:
        destination = pick_destination(Facts.of(result), relay)
        if destination is not None:
            revision = earlier.get(("smtp", destination.name), 0) + 1
            planned.append(_relayed(result, raw, destination, relay.sender, now, revision))
    body = webhook_body(result)
    for hook in webhooks:
        if _wanted(hook, result):
            revision = earlier.get(("webhook", hook.url), 0) + 1
            planned.append(
                Delivery(
                    key=delivery_key(f"{result.id}.w{short_hash(hook.url)}", revision),
                    ticket_id=result.id,
                    kind="webhook",
                    destination=hook.url,
                    recipients=(),
                    payload=body,
                    created_at=now,
                )
            )
    return planned


def webhook_body(result: Result) -> bytes:
    """The result JSON; a restricted ticket's log slice is scrubbed like its summary."""
    if result.sensitivity.level == "restricted" and result.log_slice:
        result = result.revised(log_slice=scrub(result.log_slice, RESULT_TAGS | {EMAIL, PHONE}))
    return result.to_json().encode("utf-8")


def _wanted(hook: WebhookConfig, result: Result) -> bool:
    return (
        (not hook.status or result.status in hook.status)
        and (not hook.category or result.category in hook.category)
        and (not hook.risk or result.risk in hook.risk)
    )


def _relayed(
    result: Result,
    raw: bytes,
    destination: Destination,
    sender: str,
    now: datetime,
    revision: int,
) -> Delivery:
    # A new revision is a new message (its own Message-ID): a helpdesk that drops a
    # Message-ID it has seen takes the replayed ticket's changed result too.
    key = delivery_key(
        f"{result.id}.r{short_hash(destination.name + ' ' + ' '.join(destination.to))}", revision
    )
    domain = sender.rpartition("@")[2] or "triage.invalid"
    msgid = f"<{key}@{domain}>"
    withheld = result.sensitivity.level == "restricted" and not destination.internal
    if withheld:
        result = result.revised(subject=scrub(result.subject, RESULT_TAGS | {EMAIL, PHONE}))
    kind = _format(raw)
    if withheld:
        payload = new_mail(result, destination, sender, msgid, now, cover_text(result, True))
    elif kind == "mail" and not destination.attach:
        payload = resent(raw, result, destination, sender, msgid, now)
    elif kind == "mail":
        text = cover_text(result, False)
        payload = new_mail(result, destination, sender, msgid, now, text, original=raw)
    else:
        text = _ticket_text(raw, kind, result)
        name = PurePath(result.source_ref).name or f"{result.id}.txt"
        payload = new_mail(result, destination, sender, msgid, now, text, attachment=(name, raw))
    return Delivery(
        key=key,
        ticket_id=result.id,
        kind="smtp",
        destination=destination.name,
        recipients=destination.to,
        payload=payload,
        created_at=now,
    )


def _format(raw: bytes) -> str:
    try:
        return detect_format(raw)
    except ParseError:
        return "text"


def _ticket_text(raw: bytes, kind: str, result: Result) -> str:
    """A drop-folder ticket as the mail's text: the file itself for text and Markdown, the
    requester's words for JSON; the decision's summary above it."""
    if kind == "json":
        try:
            text = parse_json_ticket(raw, 0, _JSON_BODY_CHARS).body
        except ParseError:
            text = raw.decode("utf-8", "replace")
    else:
        text = raw.decode("utf-8-sig", "replace")
    return f"{text.rstrip()}\n\n-- \nTriage: {safe_summary(result)}\n"
