"""The ticket as the core sees it: raw input from a connector, and the parsed ticket."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, get_args

Category = Literal[
    "vpn",
    "email",
    "account",
    "network",
    "hardware",
    "printer",
    "software",
    "access",
    "security",
    "other",
]
Priority = Literal["P1", "P2", "P3", "P4"]
Risk = Literal["low", "medium", "high"]
Status = Literal["triaged", "duplicate", "ignored", "quarantined"]
Level = Literal["public", "internal", "restricted"]
Tier = Literal["rules", "local", "runpod", "paid"]
Format = Literal["mail", "json", "text", "markdown"]

CATEGORIES: tuple[str, ...] = get_args(Category)
PRIORITIES: tuple[str, ...] = get_args(Priority)
RISKS: tuple[str, ...] = get_args(Risk)
# The one risk order: higher means more urgent. Risk only ever moves up.
RISK_ORDER: dict[str, int] = {risk: rank for rank, risk in enumerate(RISKS)}


def higher_risk(first: Risk, second: Risk) -> Risk:
    """The higher of two risks."""
    return second if RISK_ORDER[second] > RISK_ORDER[first] else first


@dataclass(frozen=True)
class RawInput:
    """Bytes as a connector received them, with where they came from.

    `refused` is set when the connector would not read the input at all (too large, not a
    regular file): the pipeline quarantines it with that reason.
    """

    id: str
    data: bytes
    source: str  # "dropfolder", "cli", "imap:<account>/<folder>"
    source_ref: str  # the file's path, or folder/UIDVALIDITY/UID
    received_at: datetime  # timezone-aware
    refused: str | None = None

    @classmethod
    def of(
        cls, data: bytes, *, name: str, source: str, source_ref: str, received_at: datetime
    ) -> RawInput:
        return cls(input_id(name, [data]), data, source, source_ref, received_at)


def input_id(name: str, chunks: Iterable[bytes]) -> str:
    """Stable: the same file name (empty for mail) and bytes always give the same id."""
    digest = hashlib.blake2b(digest_size=10)
    digest.update(name.encode("utf-8", "surrogateescape"))
    digest.update(b"\0")
    for chunk in chunks:
        digest.update(chunk)
    return "t-" + digest.hexdigest()


@dataclass(frozen=True)
class Attachment:
    filename: str | None
    content_type: str
    size: int
    kept: bool  # its text is in Ticket.logs (small text attachments only)


@dataclass(frozen=True)
class Link:
    """A link in an HTML body: the text a reader sees and where it really goes."""

    text: str
    href: str


@dataclass(frozen=True)
class Ticket:
    """A parsed ticket. `body` is the requester's own words: quotes and signature removed."""

    format: Format
    subject: str
    body: str
    sender: str | None = None
    sender_name: str | None = None
    message_id: str | None = None
    # Header fields with lower-cased names, in order; only mail has them.
    headers: tuple[tuple[str, str], ...] = ()
    content_type: str = "text/plain"
    attachments: tuple[Attachment, ...] = ()
    logs: tuple[str, ...] = ()  # text of log attachments and of logs pasted in the body
    requester: str | None = None
    defects: tuple[str, ...] = ()  # what the parser had to work around
    hints: dict[str, str] = field(default_factory=dict)  # typed fields a JSON ticket gave
    # A mail the requester forwarded (inline, or attached as message/rfc822): evidence for the
    # rules (a reported phishing mail) and for the sensitivity scan, never the requester's words.
    forwarded: str = ""
    # What quote stripping took from the body (a quoted original, a signature): not the
    # requester's words, but its addresses and numbers count for the sensitivity scan.
    quoted: str = ""
    # The links of the mail's HTML parts, the forwarded mail's included (evidence of a lure:
    # link text that names another target than the link's own).
    links: tuple[Link, ...] = ()

    def header(self, name: str) -> str | None:
        name = name.lower()
        for key, value in self.headers:
            if key == name:
                return value
        return None

    def header_all(self, name: str) -> list[str]:
        name = name.lower()
        return [value for key, value in self.headers if key == name]
