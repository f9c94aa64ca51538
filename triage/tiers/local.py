"""The local tier's calls: one call of the in-process model, one retry when the answer was
invalid, and a running estimate of how long an answer takes (for the backlog decision)."""

from __future__ import annotations

from models.port import ModelCall, TicketModel
from triage.case import Case
from triage.tiers.context import compact_text
from triage.tiers.trust import questions_for

RETRIES_ON_INVALID = 1


class LocalTier:
    def __init__(self, model: TicketModel, seconds_estimate: float) -> None:
        self.model = model
        self._seconds = seconds_estimate

    @property
    def seconds_per_answer(self) -> float:
        """A moving average of the seconds one answer took (the configured guess at first)."""
        return self._seconds

    def ask(self, case: Case) -> list[ModelCall]:
        """The calls made for this ticket, the last one's answer being the one that counts."""
        ticket, verdict = case.ticket, case.verdict
        calls: list[ModelCall] = []
        for _ in range(1 + RETRIES_ON_INVALID):
            call = self.model.complete(
                lambda room: compact_text(ticket, verdict, room),
                verdict.category,
                verdict.risk,
                questions_for(verdict),  # only where the rules are unsure
            )
            calls.append(call)
            self._seconds = 0.8 * self._seconds + 0.2 * call.seconds
            if call.outcome != "invalid":
                break
        return calls
