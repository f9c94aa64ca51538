"""The model tiers' judge: every model answer passes triage/trust.py's gates here, and the
crying-wolf guard is carried from one ticket to the next.

One per pipeline. The guard's memory is the store's (a GuardMemory port, wired by the
composition root), shared by every daemon and command on it: a fleet on one PostgreSQL judges
its model on all of its tickets. A fresh answer is counted in the transaction that commits
its ticket's result (`remember`, called by the pipeline there), so an answer whose ticket was
never committed is never counted. Without a memory (a dry run, `triage eval`, a judge on its
own) the guard lives in this object and counts an answer as soon as it is judged.
`state()` is what `check`, STATUS= and the digest show of the guard.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog

from models.schema import ModelAnswer
from triage.ports import GuardMemory
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

# Answers the store keeps beyond the window (a reload may widen it; daemons of a fleet may be
# configured with different windows): the table stays small whatever the traffic.
KEEP_AT_LEAST = 200


def ticket_words(ticket: Ticket, verdict: RulesVerdict) -> str:
    """What a model saw of the ticket: what its answers must be grounded in."""
    return "\n".join([ticket.subject, ticket.body, verdict.log_slice or "", *ticket.logs])


@dataclass(frozen=True)
class Unsaid:
    """A fresh answer judged for the ticket in hand, counted once its result commits."""

    raised: bool
    model: str


class ModelJudge:
    def __init__(
        self,
        trust: TrustProfile | None,
        bars: TrustBars,
        instructions: str,
        memory: GuardMemory | None = None,
    ) -> None:
        self._trust, self._bars, self._instructions = trust, bars, instructions
        self._memory = memory
        self._guard = WolfGuard(bars.wolf_window, bars.wolf_share)  # without a memory
        self._unsaid: Unsaid | None = None

    def replace(self, trust: TrustProfile | None, bars: TrustBars) -> None:
        """A reloaded configuration; the guard keeps its memory of recent tickets."""
        self._trust, self._bars = trust, bars
        guard = self._guard
        self._guard = WolfGuard(bars.wolf_window, bars.wolf_share, 5, guard.recent, guard.held)

    @property
    def guard(self) -> WolfGuard:
        """The guard now: as the store's memory leaves it (every daemon's answers), or this
        judge's own."""
        if self._memory is None:
            return self._guard
        bars = self._bars
        answers = self._memory.guard_answers(bars.wolf_window)
        return WolfGuard.recalled(bars.wolf_window, bars.wolf_share, answers)

    def judge(
        self,
        ticket: Ticket,
        verdict: RulesVerdict,
        answer: ModelAnswer,
        model: str,
        template: str,
        fresh: bool = True,
    ) -> Refined:
        """Gate one answer against the guard as it stands before it. A fresh answer (not a
        cached or replayed one) counts for the guard: at once without a memory, else when its
        ticket commits (`remember`). The guard's change of state is logged once each way."""
        gate = Gate(
            ticket_text=ticket_words(ticket, verdict),
            instructions=self._instructions,
            trust=trust_for(self._trust, model, template),
            bars=self._bars,
            crying_wolf=self.guard.tripped,
        )
        refined = gate_answer(verdict, answer, gate)
        if fresh:
            raised = proposes_raise(verdict, answer)
            if self._memory is None:
                before, self._guard = self._guard, self._guard.observe(raised)
                _log_change(before, self._guard, model)
            else:
                self._unsaid = Unsaid(raised, model)
        return refined

    def forget(self) -> None:
        """A new ticket (or the one in hand judged again): an answer not remembered yet is
        dropped; it belonged to a result that will not be committed."""
        self._unsaid = None

    def remember(self, ticket_id: str, now: datetime) -> None:
        """In the transaction that commits `ticket_id`'s result: count its fresh answer, after
        every answer committed before it by any daemon (the store's write transaction lets
        nobody in between the look-up and the write)."""
        unsaid, self._unsaid = self._unsaid, None
        memory = self._memory
        if unsaid is None or memory is None:
            return
        bars = self._bars
        with memory.transaction():
            before = WolfGuard.recalled(
                bars.wolf_window, bars.wolf_share, memory.guard_answers(bars.wolf_window)
            )
            after, answer = before.remembered(unsaid.raised)
            keep = max(bars.wolf_window, KEEP_AT_LEAST)
            memory.remember_guard_answer(answer, ticket_id, unsaid.model, now, keep)
        _log_change(before, after, unsaid.model)

    def state(self) -> dict[str, object]:
        return self.guard.state()


def _log_change(before: WolfGuard, after: WolfGuard, model: str) -> None:
    if after.tripped and not before.tripped:
        log.warning("local.crying_wolf", model=model, **after.state())
    elif before.tripped and not after.tripped:
        log.info("local.crying_wolf_over", model=model, **after.state())
