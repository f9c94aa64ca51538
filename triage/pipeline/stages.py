"""The stages of a ticket, in order. This is the one place that lists them.

    read         parse the bytes (triage.parsing) and judge them by the rules (triage.rules),
                 once, into a frozen Case; unreadable input is quarantined here
    unsolicited  phishing or spam from outside sent straight to the helpdesk: as the
                 [senders] policy says (ignored with the reason, by default)
    automated    auto-replies, bounces, bulk mail and our own relayed mail: ignored
    dedup        the same Message-ID, or the same words from the same sender: a duplicate
    sender flood a sender over the hourly limit: triaged by the rules, model spend withheld
    storm        the same failure reported by others shortly before: `storm_of`, and risk
    knowledge    the articles and solved tickets that answer it (`suggestions`), found before
                 the model tiers so a paid draft can be grounded on them
    tiers        the learned tier, then the model tiers the router picks (triage.tiers)
    commit       the result, its dedup keys and its deliveries in one store transaction
    publish      the outbox file; only then does the connector acknowledge the input

The rules run in `read`, before the others: automated mail, dedup and storms are decided on
what the rules found (a storm's signature, a finding that no header may hide). `read`,
`commit` and `publish` are the pipeline's I/O (triage.pipeline.handler); the decisions in
between are the functions below, each a small unit that either settles the ticket (returns a
Result) or hands the case on, possibly changed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from triage.case import Case
from triage.ports import Suggester, TicketStore
from triage.records import Prepared
from triage.result import Result
from triage.rules.automated import detect_automated, relayed_id
from triage.rules.risk import priority_for
from triage.rules.senders import is_colleague
from triage.rules.storm import WINDOW as STORM_WINDOW
from triage.rules.storm import problem_of, storm_of, storm_risk
from triage.rules.unsolicited import PHISHING
from triage.tiers import Tiers
from triage.tiers.options import PipelineOptions


@dataclass(frozen=True)
class Context:
    """What the decision stages may look at besides the case."""

    store: TicketStore
    options: PipelineOptions
    tiers: Tiers
    prepared: Prepared | None = None  # a Runpod batch's answer for this ticket, if any
    suggester: Suggester | None = None  # the knowledge index ([knowledge]), when configured


Stage = Callable[[Case, Context], "Case | Result"]


def unsolicited(case: Case, ctx: Context) -> Case | Result:
    """Phishing or spam from outside, as the [senders] policy says: ignored with the reason,
    or a security ticket. Its risk stays what the content showed, so a high finding is still
    listed for the lead. Bounces, auto-replies and loops are left to `automated`; a bulk
    label (a header the sender wrote) never hides phishing or spam."""
    reason, policy = case.verdict.unsolicited, ctx.options.unsolicited
    if reason is None or policy == "triage":
        return case
    why = automated_reason(case, ctx)
    if why is not None and not why.startswith("bulk"):
        return case
    if policy == "ignore":
        return case.base.revised(
            status="ignored",
            status_reason=reason,
            category="security" if reason.startswith(PHISHING) else "other",
            workflow="other",
            priority="P4",
        )
    base = case.base
    risk = "high" if reason.startswith(PHISHING) else base.risk
    return base.revised(
        category="security",
        risk=risk,
        priority=priority_for(risk, base.priority),
        risk_reasons=[*base.risk_reasons, reason],
    )


def automated_reason(case: Case, ctx: Context) -> str | None:
    """Why this mail is automatic (a colleague's mail is never bulk), or None."""
    colleague = is_colleague(case.ticket, ctx.options.own_domains)
    return detect_automated(case.ticket, colleague) or relayed_loop(case, ctx.store)


def automated(case: Case, ctx: Context) -> Case | Result:
    """Not a request (an auto-reply, a bounce, bulk mail, our own relayed mail come back):
    ignored, with nothing to prioritise."""
    why = automated_reason(case, ctx)
    if not why:
        return case
    return case.base.revised(
        status="ignored", status_reason=why, category="other", workflow="other", priority="P4"
    )


def relayed_loop(case: Case, store: TicketStore) -> str | None:
    """A mail the relay sent, come back round: its X-Triage-Id names a ticket of ours."""
    ticket_id = relayed_id(case.ticket)
    if ticket_id is None or ticket_id == case.raw.id:
        return None
    if store.get_result(ticket_id) is None:
        return None  # a forged header: triaged like any other mail
    return f"loop: relayed by triage before as {ticket_id} (X-Triage-Id)"


def dedup(case: Case, ctx: Context) -> Case | Result:
    """The same ticket sent again: a duplicate of the first."""
    original, why = find_duplicate(case, ctx.store, ctx.options.dedup_window)
    if original is None:
        return case
    return case.base.revised(status="duplicate", status_reason=why, duplicate_of=original)


def find_duplicate(case: Case, store: TicketStore, window: timedelta) -> tuple[str | None, str]:
    message_id, raw = case.ticket.message_id, case.raw
    if message_id:
        original = store.find_by_message_id(message_id)
        if original:
            return original, f"same Message-ID as {original}"
    original = store.find_by_content_key(
        case.content_key, raw.received_at - window, raw.received_at + window
    )
    if original:
        return original, f"same content from the same sender as {original}"
    return None, ""


def sender_flood(case: Case, ctx: Context) -> Case | Result:
    """A sender mailing more than the hourly limit (a mail loop, a web form, an alert flood):
    still triaged by the rules; the model spend is withheld."""
    limit, sources = ctx.options.sender_limit_per_hour, ctx.options.sender_limit_sources
    sender, raw = case.ticket.sender, case.raw
    if not limit or not sender or not raw.source.startswith(sources):
        return case
    hour = timedelta(hours=1)
    if ctx.store.count_from_sender(sender, raw.received_at - hour, raw.received_at) < limit:
        return case
    why = f"sender flood: more than {limit} mails from {sender} within an hour"
    return dataclasses.replace(case, withheld=why)


def storm(case: Case, ctx: Context) -> Case | Result:
    """The same incident reported by others shortly before: the result names the first
    report (`storm_of`), and three reports of a failure make it an outage of many."""
    at = case.occurred_at
    kinds = problem_of(case.incident)
    recent = ctx.store.recent_incidents(at - STORM_WINDOW, at, kinds) if kinds else []
    found = storm_of(at, case.incident, recent, STORM_WINDOW)
    if found is None:
        return case
    base = case.base
    risk = storm_risk(found, base.risk)
    raised = risk != base.risk
    return dataclasses.replace(
        case,
        base=base.revised(
            storm_of=found.first_id,
            risk=risk,
            priority=priority_for(risk, base.priority),
            risk_reasons=[*base.risk_reasons, found.reason] if raised else base.risk_reasons,
        ),
    )


def knowledge(case: Case, ctx: Context) -> Case | Result:
    """The articles and solved tickets that answer the ticket, best first (none when nothing
    scores `min_score`): never settles it."""
    if ctx.suggester is None:
        return case
    ticket, base = case.ticket, case.base
    found = ctx.suggester.suggest(f"{ticket.subject}\n{ticket.body}", base.language)
    if not found:
        return case
    return dataclasses.replace(
        case,
        base=base.revised(suggestions=found),
        grounding=ctx.suggester.grounding(found),
    )


def tiers(case: Case, ctx: Context) -> Result:
    """The learned tier, then whichever model tiers the router picks: always settles."""
    return ctx.tiers.refine(case, ctx.prepared, withheld=case.withheld)


# The decisions between `read` and `tiers`, in order: the first to return a Result settles;
# a case that none settles is answered by the tiers.
DECISIONS: tuple[tuple[str, Stage], ...] = (
    ("unsolicited", unsolicited),
    ("automated", automated),
    ("dedup", dedup),
    ("sender flood", sender_flood),
    ("storm", storm),
    ("knowledge", knowledge),
)
# Every stage of a ticket by name, in order (the docstring above says what each does).
STAGES = ("read", *(name for name, _ in DECISIONS), "tiers", "commit", "publish")


def decide(case: Case, ctx: Context) -> Result:
    """Run the decision stages in order until one settles the ticket; else the tiers do."""
    for _name, stage in DECISIONS:
        outcome = stage(case, ctx)
        if isinstance(outcome, Result):
            return outcome
        case = outcome
    return tiers(case, ctx)
