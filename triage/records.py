"""Plain records the layers pass each other: a ledger row, dedup keys, a handled input's
outcome, deliveries, what the store answers the reports and metrics with, and the budget month.
This module imports nothing of the project above the result and ticket types, so ports,
adapters and the store can all use it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

from models.schema import ModelAnswer
from triage.result import Result
from triage.ticket import Ticket

# A pending delivery's last_error starts with this when its destination is set up wrong (a
# webhook URL that redirects): kept and shown as such by check, the digest and metrics.
DELIVERY_MISCONFIGURED = "misconfigured: "


@dataclass(frozen=True)
class LedgerEntry:
    """One model call (or cache hit, or failed attempt), booked to a workflow and a tier."""

    at: datetime
    ticket_id: str | None
    workflow: str
    tier: str
    model: str | None
    template: str | None
    template_version: str | None
    tokens_in: int
    tokens_out: int
    cached_tokens: int
    seconds: float
    usd: float
    baseline_usd: float
    outcome: str
    provider: str | None = None  # where the model ran: "anthropic", "openai:<host>", ...

    @classmethod
    def call(
        cls,
        model: ModelRef,
        *,
        at: datetime,
        ticket_id: str | None,
        workflow: str,
        tier: str,
        outcome: str,
        tokens_in: int = 0,
        tokens_out: int = 0,
        cached_tokens: int = 0,
        seconds: float = 0.0,
        usd: float = 0.0,
        baseline_usd: float = 0.0,
        provider: str | None = None,
    ) -> LedgerEntry:
        """The row for one call of `model` (a cache hit: no tokens, no seconds, $0)."""
        return cls(
            at=at,
            ticket_id=ticket_id,
            workflow=workflow,
            tier=tier,
            model=model.model,
            template=model.template,
            template_version=model.template_version,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            cached_tokens=cached_tokens,
            seconds=seconds,
            usd=usd,
            baseline_usd=baseline_usd,
            outcome=outcome,
            provider=provider,
        )


class ModelRef(Protocol):
    """Which model and prompt template a ledger row is booked to."""

    @property
    def model(self) -> str: ...

    @property
    def template(self) -> str: ...

    @property
    def template_version(self) -> str: ...


@dataclass(frozen=True)
class Booked:
    """A ModelRef for a tier whose client does not carry the template (Runpod)."""

    model: str
    template: str
    template_version: str


@dataclass(frozen=True)
class Prepared:
    """A model answer obtained ahead of the one-by-one pass (a Runpod batch), or why not."""

    tier: str
    answer: ModelAnswer | None
    error: str | None
    tokens_in: int = 0
    tokens_out: int = 0
    usd: float = 0.0


# smtp: the relay to the helpdesk; webhook: a result posted; ack: the acknowledgement to the
# requester, sent through the relay's SMTP server with a null envelope sender.
DeliveryKind = Literal["smtp", "webhook", "ack"]
# The destination of every acknowledgement (its recipient is the requester's address).
ACK_DESTINATION = "requester"
# superseded: a pending delivery of a result replaced since (a replay), never to be sent.
DeliveryState = Literal["pending", "done", "quarantined", "superseded"]


@dataclass(frozen=True)
class Delivery:
    """One message to one destination, ready to send: `payload` is the exact bytes (the mail,
    or the webhook's JSON body), so a retry after a crash sends the same thing again."""

    key: str  # stable: the ticket id, the destination, the revision; the Message-ID's local part
    ticket_id: str
    kind: DeliveryKind
    destination: str  # the URL, or the route's name for mail
    recipients: tuple[str, ...]  # envelope RCPT TO; empty for webhooks
    payload: bytes
    created_at: datetime


def short_hash(text: str) -> str:
    """8 hex digits naming a destination (a webhook URL, a relay route) in a delivery's key,
    its sender thread and wherever its URL is masked: the same destination, the same name."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=4).hexdigest()


def delivery_key(base: str, revision: int) -> str:
    """A delivery's key: `base` (the ticket id and the destination) for a result's first
    revision, `<base>.v<n>` for the n-th (a replayed ticket's changed result)."""
    return base if revision <= 1 else f"{base}.v{revision}"


def revision_of(key: str) -> int:
    """The revision a delivery key names (see `delivery_key`)."""
    _, dot, tail = key.rpartition(".v")
    return int(tail) if dot and tail.isdigit() else 1


@dataclass(frozen=True)
class Inbound:
    """The input a result was triaged from, as the rules read it: what the acknowledgement
    to its requester is decided on, beside the result (triage.delivery.ack)."""

    ticket: Ticket
    # RulesVerdict.unsolicited: why this is a stranger's phishing or spam, or None; kept
    # whatever the [senders] policy made of it.
    unsolicited: str | None = None


@dataclass(frozen=True)
class Pending:
    """A delivery row due for an attempt."""

    delivery: Delivery
    attempts: int


@dataclass(frozen=True)
class Lane:
    """The deliveries one sender works off: those to `destination`, or (None) those to any
    destination outside `others` (each of which has a lane of its own)."""

    destination: str | None = None
    others: tuple[str, ...] = ()


ALL_DESTINATIONS = Lane()


@dataclass(frozen=True)
class Planned:
    """The deliveries written in a result's own transaction, or why none could be built (then
    one quarantined row says so, for check and the digest)."""

    deliveries: tuple[Delivery, ...] = ()
    unbuildable: str | None = None  # the reason
    # A replayed ticket's changed result: earlier revisions still pending to the same
    # destinations are superseded (never sent: an old one sent after it would undo it).
    revised: bool = False


@dataclass(frozen=True)
class FailingDestination:
    """A destination that keeps failing: for check, the digest and STATUS=."""

    kind: str
    destination: str
    pending: int
    attempts: int
    last_error: str | None


@dataclass(frozen=True)
class QuarantinedDelivery:
    key: str
    ticket_id: str
    kind: str
    destination: str
    reason: str | None


@dataclass(frozen=True)
class DeliveryFacts:
    """One delivery of a ticket as the store keeps it, payload aside: what became of it
    (`triage show`). `kind` and `state` are the stored words (DeliveryKind, DeliveryState)."""

    key: str
    kind: str
    destination: str  # the URL (it may hold a token), the relay route's name, or "requester"
    recipients: tuple[str, ...]
    state: str
    attempts: int
    last_error: str | None  # the last failure; why it was quarantined or superseded
    created_at: datetime
    next_at: datetime  # a pending delivery's next attempt
    done_at: datetime | None  # when it was sent, quarantined or superseded

    @property
    def revision(self) -> int:
        return revision_of(self.key)


@dataclass(frozen=True)
class CostLine:
    """Ledger rows grouped by some keys (the report's tables, the inventory, the chart)."""

    keys: tuple[str, ...]
    calls: int
    tokens_in: int
    tokens_out: int
    usd: float
    baseline_usd: float
    cache_hits: int
    cache_saved_usd: float


# What the ledger can be grouped by; "day" is the call's calendar day in a given time zone.
LedgerKey = Literal["workflow", "tier", "template", "template_version", "provider", "model", "day"]


@dataclass(frozen=True)
class TicketCounts:
    """Tickets created in a period: how many, by tier and workflow, and their results' cost."""

    total: int
    by_tier: dict[str, int]
    by_workflow: dict[str, int]
    results_usd: float


@dataclass(frozen=True)
class TicketTotal:
    """Committed results with one combination of labels (for /metrics)."""

    source: str
    status: str
    category: str
    risk: str
    tier: str
    count: int


@dataclass(frozen=True)
class CallTotal:
    """Booked model calls of one tier and outcome (for /metrics)."""

    tier: str
    outcome: str
    calls: int
    tokens_in: int
    tokens_out: int
    cached_tokens: int
    seconds: float


@dataclass(frozen=True)
class TicketKeys:
    """What dedup looks tickets up by, stored beside the result."""

    content_key: str | None
    incident: frozenset[str] = frozenset()  # its storm signature (rules/storm.py), if any
    incident_at: datetime | None = None  # when the incident was reported (the mail's Date)


@dataclass(frozen=True)
class Lease:
    """A lease of a fleet's store (triage.runtime.fleet): its holder (a node name), the process
    holding it (`instance`: "host:pid:random", one per store opened), and until when."""

    name: str
    holder: str
    instance: str
    until: datetime

    @property
    def host(self) -> str:
        return self.instance.rsplit(":", 2)[0]

    @property
    def pid(self) -> int | None:
        parts = self.instance.rsplit(":", 2)
        return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else None


@dataclass(frozen=True)
class GuardAnswer:
    """One fresh model answer as the crying-wolf guard remembers it (triage.tiers.trust):
    whether it proposed raising the rules' risk, and whether the guard held raises back once
    it had counted this answer (its hysteresis lives in that flag)."""

    raised: bool
    held: bool


@dataclass(frozen=True)
class Outcome:
    """What handling one input gave: its result, and whether it was committed just now."""

    result: Result
    new: bool  # False: this input had been handled before; nothing was written


def month_bounds(year: int, month: int, zone: str) -> tuple[datetime, datetime]:
    """The calendar month [start, end) in `zone`."""
    tz = ZoneInfo(zone)
    start = datetime(year, month, 1, tzinfo=tz)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
    return start, end


def month_window(moment: datetime, zone: str) -> tuple[datetime, datetime]:
    """The budget month holding `moment`: the calendar month in the configured zone (the
    report's `[digest] timezone`), so the budget and the monthly report count the same days."""
    local = moment.astimezone(ZoneInfo(zone))
    return month_bounds(local.year, local.month, zone)


# -- the knowledge index (triage.knowledge, triage.ports.KnowledgeIndex) -------------------

# A search asks for a ticket's RAREST_TERMS rarest terms (those fewer than half the documents
# hold): the rare ones carry BM25's ranking, and the common ones' long posting lists are most
# of a search's time on a big index (both stores alike).
RAREST_TERMS = 16


@dataclass(frozen=True)
class KnowledgeDoc:
    """One article or solved ticket as the index holds it. `terms`: its index terms
    (triage.knowledge.terms), space-separated; `body`: its text, for a grounded draft."""

    source: str  # "kb/<file>" or "ticket:<id>"
    title: str
    terms: str
    body: str
    digest: str  # of the file (or row) it was read from: unchanged ones are not read again


@dataclass(frozen=True)
class KnowledgeHit:
    """An indexed document matching a query, with its Okapi BM25 score (k1 1.2, b 0.75,
    both backends alike): higher is better."""

    source: str
    title: str
    bm25: float


@dataclass(frozen=True)
class Grounding:
    """A suggested article's text, handed to the paid tier so its draft reply can rest on it
    (and cite `source`)."""

    source: str
    title: str
    text: str


@dataclass(frozen=True)
class KnowledgeFound:
    """A query's best hits, best first, and the number of documents indexed (what a score
    is measured against)."""

    hits: tuple[KnowledgeHit, ...]
    documents: int
