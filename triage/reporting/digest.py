"""Pure: the daily digest a helpdesk lead reads at 8:00, from a day's data (no I/O, no clock).

P1 and P2 tickets are listed as cards (priority, then time); P3 and P4 are counted per
category with their most frequent subjects; a storm (many people reporting one incident) is
one entry; ignored mail is broken down by why it was ignored, so a lead can see that no real
ticket was swallowed. Sections with nothing in them are left out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from triage.reporting.data import PeriodData, TicketLine

URGENT = ("P1", "P2")
TOP_SUBJECTS = 3
# A review note on at least this share of the day's tickets (and on 3 or more) is about the
# set-up, not the ticket: said once, not on every card.
CONFIG_NOTE_SHARE = 0.5
IGNORED_KINDS = (
    "phishing", "spam", "auto-reply", "bounce", "bulk", "loop", "flood", "other automatic",
)  # fmt: skip


@dataclass(frozen=True)
class Card:
    ticket: TicketLine
    time: str  # HH:MM in the digest's time zone
    requester: str
    reason: str  # one line: why this priority
    summary: str  # the summary, without the subject it would repeat


@dataclass(frozen=True)
class CategoryCount:
    category: str
    count: int
    top_subjects: list[tuple[str, int]]


@dataclass(frozen=True)
class Storm:
    first: str  # the first ticket's id
    subject: str
    count: int  # reports, the first included
    reporters: list[str]
    priority: str
    category: str
    suggested: str | None = None  # the top knowledge suggestion of the first report, else any


@dataclass(frozen=True)
class BudgetLine:
    """Month-to-date spend of one enabled paid tier against its budget."""

    tier: str
    budget_usd: float
    spent_usd: float
    last_month_usd: float  # spent last month up to the same day

    @property
    def share(self) -> float:
        return self.spent_usd / self.budget_usd if self.budget_usd else 0.0

    @property
    def trend(self) -> str:
        if not self.last_month_usd:
            return "nothing spent by this day last month" if self.spent_usd else "as last month"
        then = f"${self.last_month_usd:,.2f}" if self.last_month_usd >= 0.005 else "< $0.01"
        if not self.spent_usd:
            return f"nothing yet; {then} by this day last month"
        change = (self.spent_usd - self.last_month_usd) / self.last_month_usd
        if abs(change) < 0.05:
            return f"about as much as by this day last month ({then})"
        word = "more" if change > 0 else "less"
        return f"{abs(change):.0%} {word} than by this day last month ({then})"


@dataclass
class Digest:
    day: str
    tickets: int
    by_status: dict[str, int]
    urgent: list[Card]
    routine: list[CategoryCount]
    routine_total: int
    storms: list[Storm]
    duplicates: int
    ignored: dict[str, int]
    # Ignored mail that carries a high finding: no header hides it from the lead.
    ignored_high: list[TicketLine]
    review: list[tuple[TicketLine, str]]  # (ticket, why)
    config_notes: list[tuple[str, int]]  # (note, on how many tickets)
    quarantine: list[TicketLine]  # in quarantine now, newest first
    quarantine_total: int
    deliveries_stuck: list[str]  # relay and webhook destinations failing, refused deliveries
    cost_by_tier: dict[str, float]
    cost_by_workflow: dict[str, float]
    total_usd: float
    baseline_usd: float
    budgets: list[BudgetLine] = field(default_factory=list)
    by_category: dict[str, int] = field(default_factory=dict)
    by_priority: dict[str, int] = field(default_factory=dict)
    by_risk: dict[str, int] = field(default_factory=dict)
    # With [knowledge] on: how many triaged tickets were suggested an answer, and the
    # categories of those that were not (where an article is worth writing).
    knowledge: bool = False
    suggested: int = 0
    triaged: int = 0
    unanswered: list[CategoryCount] = field(default_factory=list)

    @property
    def savings_usd(self) -> float:
        return self.baseline_usd - self.total_usd

    @property
    def high_risk(self) -> list[TicketLine]:
        return [card.ticket for card in self.urgent if card.ticket.risk == "high"]


def build_digest(
    data: PeriodData, budgets: list[BudgetLine] | None = None, knowledge: bool = False
) -> Digest:
    tickets = data.tickets
    triaged = [t for t in tickets if t.status == "triaged"]
    storms, in_storm = _storms(triaged)
    single = [t for t in triaged if t.id not in in_storm]
    urgent = sorted(
        (t for t in single if t.priority in URGENT), key=lambda t: (t.priority, t.received_at)
    )
    routine = [t for t in single if t.priority not in URGENT]
    config_notes, review = _review(tickets)
    by_tier: dict[str, float] = {}
    by_workflow: dict[str, float] = {}
    for line in data.by_workflow_tier:
        by_workflow[line.keys[0]] = by_workflow.get(line.keys[0], 0.0) + line.usd
        by_tier[line.keys[1]] = by_tier.get(line.keys[1], 0.0) + line.usd
    return Digest(
        day=data.window.label,
        tickets=len(tickets),
        by_status=_count(t.status for t in tickets),
        urgent=[_card(t, data.window.since) for t in urgent],
        routine=_per_category(routine),
        routine_total=len(routine),
        storms=storms,
        duplicates=sum(1 for t in tickets if t.status == "duplicate"),
        ignored=_ignored(t.reason for t in tickets if t.status == "ignored"),
        ignored_high=[t for t in tickets if t.status == "ignored" and t.risk == "high"],
        review=review,
        config_notes=config_notes,
        quarantine=data.quarantine,
        quarantine_total=data.quarantine_total,
        deliveries_stuck=data.deliveries_stuck,
        cost_by_tier={k: v for k, v in sorted(by_tier.items()) if v},
        cost_by_workflow={k: v for k, v in sorted(by_workflow.items()) if v},
        total_usd=sum(r.usd for r in data.by_workflow_tier),
        baseline_usd=sum(r.baseline_usd for r in data.by_workflow_tier),
        budgets=list(budgets or []),
        by_category=_count(t.category for t in triaged),
        by_priority=_count(t.priority for t in triaged),
        by_risk=_count(t.risk for t in triaged),
        knowledge=knowledge,
        suggested=sum(1 for t in triaged if t.suggested),
        triaged=len(triaged),
        unanswered=_per_category([t for t in triaged if not t.suggested])[:UNANSWERED_LISTED],
    )


UNANSWERED_LISTED = 5  # categories of tickets no article answered, the most first


def _card(ticket: TicketLine, since: datetime) -> Card:
    return Card(
        ticket=ticket,
        time=_clock(ticket.received_at, since),
        requester=ticket.requester or ticket.sender or "unknown",
        reason=one_line_reason(ticket),
        summary=summary_without_subject(ticket.summary, ticket.subject),
    )


def _clock(received_at: str, since: datetime) -> str:
    try:
        moment = datetime.fromisoformat(received_at)
    except ValueError:
        return ""
    return moment.astimezone(since.tzinfo).strftime("%H:%M")


def one_line_reason(ticket: TicketLine) -> str:
    """Why it is urgent, in one line: the risk's reasons, else the priority alone."""
    if ticket.risk_reasons:
        return "; ".join(ticket.risk_reasons[:2])
    return f"{ticket.priority} {ticket.category}"


def summary_without_subject(summary: str, subject: str) -> str:
    """The rules tier's summary starts with the subject; a card shows the subject already."""
    text = summary.strip()
    head = subject.strip().rstrip(".")
    if head and text.lower().startswith(head.lower()):
        text = text[len(head) :].lstrip(" .:-—")
    return text


def _storms(triaged: list[TicketLine]) -> tuple[list[Storm], set[str]]:
    """Tickets that name a first ticket (`storm_of`, or an answer reused from it:
    `cache_of`) are one entry with the first, counting the reports and naming the reporters."""
    by_id = {t.id: t for t in triaged}
    groups: dict[str, list[TicketLine]] = {}
    for ticket in triaged:
        named = ticket.storm_of or ticket.cache_of
        if named and named != ticket.id:
            groups.setdefault(named, []).append(ticket)
    storms = []
    members: set[str] = set()
    for first_id, others in groups.items():
        first = by_id.get(first_id)
        reports = ([first] if first else []) + others
        members.update(t.id for t in reports)
        reporters = sorted({t.requester or t.sender or "unknown" for t in reports})
        lead = first or others[0]
        storms.append(
            Storm(
                first_id,
                lead.subject,
                len(reports),
                reporters,
                min(t.priority for t in reports),
                lead.category,
                lead.suggested or next((t.suggested for t in reports if t.suggested), None),
            )
        )
    storms.sort(key=lambda s: (s.priority, -s.count))
    return storms, members


def _per_category(tickets: list[TicketLine]) -> list[CategoryCount]:
    groups: dict[str, list[TicketLine]] = {}
    for ticket in tickets:
        groups.setdefault(ticket.category, []).append(ticket)
    counts = [
        CategoryCount(
            category,
            len(items),
            Counter(t.subject.strip() or "(no subject)" for t in items).most_common(TOP_SUBJECTS),
        )
        for category, items in groups.items()
    ]
    return sorted(counts, key=lambda c: (-c.count, c.category))


def ignored_kind(reason: str | None) -> str:
    """Which kind of automatic mail a status_reason names."""
    text = (reason or "").lower()
    if "within an hour" in text or text.startswith("flood"):
        return "flood"
    for kind, prefixes in (
        ("phishing", ("phishing",)),
        ("spam", ("spam",)),
        ("auto-reply", ("auto-reply",)),
        ("bounce", ("bounce",)),
        ("bulk", ("bulk",)),
        ("loop", ("loop",)),
    ):
        if text.startswith(prefixes):
            return kind
    return "other automatic"


def _ignored(reasons: Iterable[str | None]) -> dict[str, int]:
    counts = Counter(ignored_kind(reason) for reason in reasons)
    return {kind: counts[kind] for kind in IGNORED_KINDS if counts[kind]}


def _review(
    tickets: list[TicketLine],
) -> tuple[list[tuple[str, int]], list[tuple[TicketLine, str]]]:
    """(notes about the set-up, said once; each ticket's own notes)."""
    reviewed = [t for t in tickets if t.status not in ("quarantined", "ignored")]
    counts = Counter(note for t in reviewed for note in dict.fromkeys(t.needs_review))
    threshold = max(3, CONFIG_NOTE_SHARE * len(reviewed))
    common = {note for note, n in counts.items() if n >= threshold}
    review = []
    for ticket in reviewed:
        own = [note for note in ticket.needs_review if note not in common]
        if own:
            review.append((ticket, "; ".join(own)))
    return sorted(((note, counts[note]) for note in common), key=lambda x: -x[1]), review


def _count(values: Iterable[str]) -> dict[str, int]:
    return dict(sorted(Counter(values).items()))
