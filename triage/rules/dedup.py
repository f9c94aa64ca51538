"""The content key two copies of the same request share, whatever their headers say."""

from __future__ import annotations

import hashlib
import re

from triage.ticket import Ticket

_PREFIXES = re.compile(
    r"^\s*+(?:(?:re|fw|fwd|aw|wg|tr|rv|sv|antw)\s*+(?:\[\d+\]\s*+)?:\s*+)+", re.I
)
_NOISE = re.compile(r"[\W_]+", re.UNICODE)


def normalise_subject(subject: str) -> str:
    return _PREFIXES.sub("", subject).strip().lower()


def content_key(ticket: Ticket) -> str:
    """Same sender, same words (ignoring case, punctuation, spacing, Re:/Fwd:) -> same key."""
    text = normalise_subject(ticket.subject) + "\n" + ticket.body.lower()
    text = _NOISE.sub(" ", text).strip()
    digest = hashlib.blake2b(digest_size=16)
    digest.update((ticket.sender or "").encode())
    digest.update(b"\0")
    digest.update(text.encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def answer_key(ticket: Ticket, template: str, version: str, model: str) -> str:
    """The answer cache's key: the normalised words (whoever sent them), the prompt template
    and version, and the model. Fifty reports of the same outage share it."""
    text = normalise_subject(ticket.subject) + "\n" + ticket.body.lower()
    text = _NOISE.sub(" ", text).strip()
    digest = hashlib.blake2b(digest_size=16)
    for part in (template, version, model, text):
        digest.update(part.encode("utf-8", "surrogateescape"))
        digest.update(b"\0")
    return digest.hexdigest()
