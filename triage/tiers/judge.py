"""The model tiers' judge: every model answer passes triage/trust.py's gates here, and the
crying-wolf guard is carried from one ticket to the next.

One per pipeline. `state()` is what `check`, STATUS= and the digest show of the guard.
"""

from __future__ import annotations

import structlog

from models.schema import ModelAnswer
from triage.rules import RulesVerdict
from triage.ticket import Ticket
from triage.tiers.trust import (
    Gate,
    Refined,
    TrustBars,
    TrustProfile,
    WolfGuard,
    gate_answer,
    proposes_raise,
    trust_for,
)

log = structlog.get_logger("triage.tiers.judge")


def ticket_words(ticket: Ticket, verdict: RulesVerdict) -> str:
    """What a model saw of the ticket: what its answers must be grounded in."""
    return "\n".join([ticket.subject, ticket.body, verdict.log_slice or "", *ticket.logs])


class ModelJudge:
    def __init__(self, trust: TrustProfile | None, bars: TrustBars, instructions: str) -> None:
        self._trust, self._bars, self._instructions = trust, bars, instructions
        self.guard = WolfGuard(bars.wolf_window, bars.wolf_share)

    def replace(self, trust: TrustProfile | None, bars: TrustBars) -> None:
        """A reloaded configuration; the guard keeps its memory of recent tickets."""
        self._trust, self._bars = trust, bars
        guard = self.guard
        self.guard = WolfGuard(bars.wolf_window, bars.wolf_share, 5, guard.recent, guard.held)

    def judge(
        self,
        ticket: Ticket,
        verdict: RulesVerdict,
        answer: ModelAnswer,
        model: str,
        template: str,
        fresh: bool = True,
    ) -> Refined:
        """Gate one answer. A fresh answer (not a cached or replayed one) counts for the guard;
        the guard's change of state is logged once each way."""
        gate = Gate(
            ticket_text=ticket_words(ticket, verdict),
            instructions=self._instructions,
            trust=trust_for(self._trust, model, template),
            bars=self._bars,
            crying_wolf=self.guard.tripped,
        )
        refined = gate_answer(verdict, answer, gate)
        if fresh:
            before = self.guard.tripped
            self.guard = self.guard.observe(proposes_raise(verdict, answer))
            if self.guard.tripped and not before:
                log.warning("local.crying_wolf", model=model, **self.guard.state())
            elif before and not self.guard.tripped:
                log.info("local.crying_wolf_over", model=model, **self.guard.state())
        return refined

    def state(self) -> dict[str, object]:
        return self.guard.state()
