"""Pure: what the learned tier's prediction decides for one ticket.

At or above `min_probability` it names the team (the result's assignment) and, when the team
maps onto one of the result's categories, the category too, unless a rule placed the category
from the subject (a confident rule is not overruled by a statistical guess). Risk is never
touched: a model may raise a risk it has earned, and this one earns none. Below the threshold,
for the fallback label of rare teams, or with nothing to judge by, nothing is decided and the
ticket goes on to the next tier as if this one were off.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from triage.learned.predict import FALLBACK, Prediction
from triage.ticket import Category


@dataclass(frozen=True)
class LearnedPolicy:
    min_probability: float = 0.9
    categories: Mapping[str, Category] = field(default_factory=dict)


@dataclass(frozen=True)
class LearnedDecision:
    decided: bool
    team: str | None  # set when decided
    probability: float | None  # the prediction's, decided or not
    category: Category  # the category the result should carry
    note: str  # for the route's reason and the ledger's outcome
    mapped: bool = False  # the category is the team's, by the configured table


def decide(
    prediction: Prediction | None,
    policy: LearnedPolicy,
    category: Category,
    category_confident: bool,
) -> LearnedDecision:
    if prediction is None:
        return LearnedDecision(False, None, None, category, "learned: no words to judge by")
    if not math.isfinite(prediction.probability):
        # A broken model's answer (NaN compares false with every threshold) decides nothing.
        return LearnedDecision(
            False, None, None, category, f"learned: unsure ({prediction.label}: no probability)"
        )
    shown = f"{prediction.label} {prediction.probability:.0%}"
    if prediction.label == FALLBACK:
        return LearnedDecision(
            False,
            None,
            prediction.probability,
            category,
            f"learned: one of the rare teams ({shown})",
        )
    if prediction.probability < policy.min_probability:
        return LearnedDecision(
            False,
            None,
            prediction.probability,
            category,
            f"learned: unsure ({shown} < {policy.min_probability:.0%})",
        )
    mapped = policy.categories.get(prediction.label)
    note = f"learned: {shown}"
    if mapped is not None and mapped != category:
        if category_confident:
            note += f"; category {category} kept (a rule placed it from the subject)"
            mapped = None
        else:
            note += f"; category {category} -> {mapped}"
    elif category_confident:
        mapped = None  # the rule's category stands as the rule's
    return LearnedDecision(
        True,
        prediction.label,
        prediction.probability,
        mapped or category,
        note,
        mapped=mapped is not None,
    )
