"""The learned tier in the walk: after the rules, before the router picks a model tier.

It is the cheapest model tier (microseconds, $0, booked with its all-paid baseline by the
adapter): a confident prediction sets the team (`assignment`) and, when the team maps onto a
category, that category, which the later tiers then treat as settled (like a rule's from the
subject: the task left for the local model is the summary). An unsure one only leaves its
note in the route's reason; the ticket goes on as if the tier were off.
"""

from __future__ import annotations

import dataclasses
from typing import Protocol

from triage.case import Case
from triage.learned.classifier import Assessed, ticket_text
from triage.result import Route
from triage.ticket import Category


class Assigner(Protocol):
    """What the walk needs of the learned tier (triage.learned.classifier.LearnedTier)."""

    def assess(
        self,
        ticket_id: str,
        workflow: str,
        text: str,
        category: Category,
        category_confident: bool,
    ) -> Assessed: ...


def assign(assigner: Assigner, case: Case) -> Case:
    """The case as the learned tier leaves it. A team a rule assigned stands: the admin said
    so; the model is not asked."""
    verdict, base = case.verdict, case.base
    if base.assignment is not None:
        return case
    assessed = assigner.assess(
        case.raw.id,
        base.workflow,
        ticket_text(case.ticket.subject, case.ticket.body),
        verdict.category,
        verdict.category_confident,
    )
    decision = assessed.decision
    route = Route(
        tier=base.route.tier,
        reason=f"{base.route.reason}; {decision.note}",
        attempts=base.route.attempts,
    )
    if not decision.decided:
        return dataclasses.replace(case, base=base.revised(route=route))
    if decision.mapped:
        verdict = dataclasses.replace(verdict, category=decision.category, category_confident=True)
    return dataclasses.replace(
        case,
        verdict=verdict,
        base=base.revised(
            category=decision.category,
            workflow=decision.category,
            assignment=assessed.assignment,
            route=route,
        ),
    )
