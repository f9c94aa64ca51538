"""Secrets out of what the daemon writes and sends: the result a ticket gets, and the text a
remote tier sees. Pure functions.

Two kinds: values found in the ticket (credentials, cards, IBANs: typed placeholders such as
[CREDENTIAL:password]) and the secrets of the configuration (an API key pasted into a ticket:
[SECRET]), which no pattern would know."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel

from triage.records import short_hash
from triage.result import Result
from triage.rules.sensitivity import IBAN, RESTRICTING, scrub

RESULT_TAGS = RESTRICTING | {IBAN}
SECRET_PLACEHOLDER = "[SECRET]"  # noqa: S105 - a placeholder, not a password


def masked_url(url: str) -> str:
    """A URL's scheme and host, the rest replaced by a hash of the whole (the same that names
    its webhook sender thread): a webhook's path or query often is its token (Slack, Teams)."""
    parts = urlsplit(url)
    host = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
    rest = parts.path.strip("/") or parts.query or parts.fragment
    return urlunsplit((parts.scheme, host, "/…" if rest else "", "", "")) + f" #{short_hash(url)}"


def shown_destination(destination: str, text: str | None = None) -> str:
    """A delivery's destination as logs and reports show it (a URL masked, an address or a
    relay route as it is); with `text`, that text with the destination masked in it."""
    if "://" not in destination:
        return destination if text is None else text
    masked = masked_url(destination)
    return masked if text is None else text.replace(destination, masked)


def mask_secrets(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, SECRET_PLACEHOLDER)
    return text


# What the contract keeps as it is: keys of the store and references to where the input
# came from (`source_ref` is the input's path or mailbox position). Every other text of a
# result, present or future, is scrubbed.
KEPT_AS_IS = frozenset({"id", "source", "source_ref", "message_id", "duplicate_of", "cache_of"})


def published(result: Result) -> Result:
    """The result as it leaves the store (outbox, deliveries, printed output): its
    `source_ref` scanned like any text, since a dropped file's name may hold a credential
    ("password=Hunter2.txt"). The store keeps the real path, for replay and `show`."""
    masked = scrub_text(result.source_ref)
    return result if masked == result.source_ref else result.revised(source_ref=masked)


def scrub_text(text: str, secrets: Iterable[str] = ()) -> str:
    """One text as the daemon may write it: credentials, cards and IBANs replaced by typed
    placeholders, configured secrets by [SECRET]."""
    return mask_secrets(scrub(text, RESULT_TAGS), secrets)


def clean_result(result: Result, secrets: tuple[str, ...] = ()) -> Result:
    """The result with every text in it scanned afresh, whatever field it sits in (subject,
    summary, reasons, log slice, extracted fields, review notes, escalation, route...): the
    subject and log slice are the requester's, and a summary or reason may come from a model
    that saw the whole ticket. Idempotent."""

    done: dict[str, str] = {}  # a result repeats its words ("credential", "body"...)

    def clean(text: str) -> str:
        if text not in done:
            done[text] = scrub_text(text, secrets)
        return done[text]

    cleaned = {
        name: value if name in KEPT_AS_IS else _clean_value(value, clean)
        for name, value in _fields(result).items()
    }
    return Result.model_validate(cleaned)


def _fields(model: BaseModel) -> dict[str, Any]:
    return {name: getattr(model, name) for name in type(model).model_fields}


def _clean_value(value: Any, clean: Callable[[str], str]) -> Any:
    """Every text in a value, walked through our models (whose field names are ours) and
    through free-form lists and mappings (whose keys may be anything a model wrote)."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, BaseModel):
        return {name: _clean_value(item, clean) for name, item in _fields(value).items()}
    if isinstance(value, list | tuple):
        return [_clean_value(item, clean) for item in value]
    if isinstance(value, dict):
        return {_clean_value(key, clean): _clean_value(item, clean) for key, item in value.items()}
    return value
