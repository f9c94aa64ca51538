"""Pure: which tier answers a ticket. The seed's policy, with every gate checked at each hop.

    if risk in paid_risks: paid
    elif task in local_tasks: local (runpod instead when a backlog is too long for it)
    elif work_tokens > runpod_min_tokens and sensitivity in runpod_levels: runpod
    else: paid

The local model's escalation signal and an ambiguous (low-confidence) local answer also ask
for the paid tier. The decision carries the fallback chain: the chosen tier first, then only
cheaper ones, so a failure never silently costs more than the policy allows.

How the tiers walk a decision (triage.tiers): the model tiers below the chosen one answer
first and prepare the context (Runpod where a batch was offloaded to it, the local model where
the ticket's task is one of `local_tasks`); their answer is the fallback. The router is then
asked again with what the local answer said (escalation, confidence), and the paid tier is
called when that decision is paid.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from triage.ticket import Level, Risk, Tier

# Cheapest first: a fallback may only move left.
COST_ORDER: tuple[Tier, ...] = ("rules", "local", "runpod", "paid")


@dataclass(frozen=True)
class Policy:
    paid_risks: frozenset[Risk] = frozenset({"high"})
    local_tasks: frozenset[str] = frozenset({"classification", "extraction", "summary"})
    runpod_min_tokens: int = 50_000
    runpod_levels: frozenset[Level] = frozenset({"public"})
    escalate_to_paid: bool = True
    ambiguous_below: int = 40  # local confidence below this asks for the paid tier


@dataclass(frozen=True)
class RouteFacts:
    risk: Risk
    task: str
    work_tokens: int
    sensitivity: Level
    local_escalate: bool = False
    local_confidence: int | None = None  # None: the local tier has not answered
    backlog: bool = False  # the local model would need longer than allowed for the queue
    withheld: str | None = None  # why model spend is withheld for this ticket (sender flood)


@dataclass(frozen=True)
class Gates:
    """What is usable right now: enabled, healthy (breaker closed) and within budget."""

    usable: frozenset[Tier] = frozenset({"rules"})
    blocked_why: dict[Tier, str] = field(default_factory=dict)  # e.g. paid: "budget exhausted"


@dataclass(frozen=True)
class Decision:
    tier: Tier
    wanted: Tier  # what the policy asked for, before the gates
    reason: str
    chain: tuple[Tier, ...]  # the tier, then the cheaper fallbacks still allowed


def decide(facts: RouteFacts, policy: Policy, gates: Gates) -> Decision:
    wanted, why = _wanted(facts, policy)
    allowed = [tier for tier in COST_ORDER[: COST_ORDER.index(wanted) + 1]][::-1]
    skipped: list[str] = []
    chain: list[Tier] = []
    for tier in allowed:
        blocked = _blocked(tier, facts, policy, gates)
        if blocked:
            skipped.append(f"{tier} skipped: {blocked}")
        else:
            chain.append(tier)
    tier = chain[0] if chain else "rules"
    reason = "; ".join([f"{why} -> {wanted}", *skipped]) if skipped else f"{why} -> {wanted}"
    return Decision(tier=tier, wanted=wanted, reason=reason, chain=tuple(chain) or ("rules",))


def _wanted(facts: RouteFacts, policy: Policy) -> tuple[Tier, str]:
    if facts.risk in policy.paid_risks:
        return "paid", f"risk {facts.risk}"
    if facts.local_escalate and policy.escalate_to_paid:
        return "paid", "the local model asks for escalation"
    if facts.local_confidence is not None and facts.local_confidence < policy.ambiguous_below:
        return "paid", f"ambiguous: local confidence {facts.local_confidence}%"
    if facts.task in policy.local_tasks:
        if facts.backlog and facts.sensitivity in policy.runpod_levels:
            return "runpod", f"task {facts.task}, a backlog too long for the local model"
        return "local", f"task {facts.task}"
    if facts.work_tokens > policy.runpod_min_tokens and facts.sensitivity in policy.runpod_levels:
        return "runpod", f"{facts.work_tokens} tokens of {facts.sensitivity} work"
    return "paid", f"task {facts.task} needs the paid model"


def _blocked(tier: Tier, facts: RouteFacts, policy: Policy, gates: Gates) -> str | None:
    if tier == "runpod" and facts.sensitivity not in policy.runpod_levels:
        return f"{facts.sensitivity} tickets never leave the machine for Runpod"
    if (
        facts.withheld
        and tier != "rules"
        and not (tier == "paid" and facts.risk in policy.paid_risks)
    ):
        return f"model spend withheld: {facts.withheld}"  # high risk still escalates
    if tier not in gates.usable:
        return gates.blocked_why.get(tier, "not enabled")
    return None


def should_offload(pending: int, seconds_per_ticket: float, limit_seconds: float) -> bool:
    """A backlog the local model would need longer than the limit for goes to Runpod."""
    return pending > 1 and pending * seconds_per_ticket > limit_seconds


def offloaded(decision: Decision, facts: RouteFacts) -> bool:
    """Does Runpod answer this ticket ahead of the one-by-one pass? When it is the chosen
    tier, or, in a backlog, the model tier right below a chosen paid one."""
    if "runpod" not in decision.chain:
        return False
    return decision.tier == "runpod" or (decision.tier == "paid" and facts.backlog)
