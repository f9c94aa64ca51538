"""Pure: fold a model's answer into the rules' verdict.

The model refines what the rules could not place, adds facts and a summary, and may raise
risk, never lower it; each of those changes passes a gate in triage/trust.py (grounded in the
ticket, earned by measured precision, held back while the model cries wolf). The tiers call
it through triage/judge.py, which carries the crying-wolf guard between tickets.
"""

from __future__ import annotations

from models.schema import ModelAnswer
from triage.rules import RulesVerdict
from triage.trust import Gate, Refined, gate_answer

__all__ = ["Refined", "merge_answer"]


def merge_answer(verdict: RulesVerdict, answer: ModelAnswer, gate: Gate) -> Refined:
    return gate_answer(verdict, answer, gate)
