"""The learned tier as the pipeline's tiers call it: a ticket's words -> a decision, booked in
the ledger at $0 beside what the paid model would have charged to classify the same ticket.

`LearnedTier.assess` is the one function the tiers call (after the rules, before the local
model); `reload` is what SIGHUP calls: a new model file is picked up, a broken one refused
while the running model stays.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import structlog

from triage.costs import Price, baseline_usd
from triage.errors import ModelFileError
from triage.learned.decide import LearnedDecision, LearnedPolicy, decide
from triage.learned.history import join_text
from triage.learned.model_file import load
from triage.learned.predict import LinearTextModel
from triage.records import LedgerEntry
from triage.result import Assignment
from triage.ticket import Category

log = structlog.get_logger("triage.learned")

# What a paid classification of the same ticket would take: the prompt around the ticket and
# a short structured answer (the ticket's own tokens are estimated at 4 characters a token).
PROMPT_TOKENS = 600
ANSWER_TOKENS = 120
CHARS_PER_TOKEN = 4


class Ledger(Protocol):
    def book(self, entry: LedgerEntry) -> None: ...


@dataclass(frozen=True)
class Assessed:
    decision: LearnedDecision
    assignment: Assignment | None  # set when decided
    seconds: float


def ticket_text(subject: str, body: str) -> str:
    """The words the model is trained on and judges by: subject and body, as `learn` joins a
    history's text columns."""
    return join_text([subject, body])


class LearnedTier:
    def __init__(
        self,
        path: Path,
        policy: LearnedPolicy,
        ledger: Ledger | None,
        clock: Callable[[], Any],
        baseline_price: Price | None,
    ) -> None:
        self.path = path
        self.policy = policy
        self._ledger = ledger
        self._clock = clock
        self._price = baseline_price
        self._lock = threading.Lock()
        self.model, self.card = load(path)  # raises ModelFileError: a start-up failure
        self._stamp = _stamp(path)
        log.info("learned.loaded", path=str(path), card=self.card_id, labels=len(self.model.labels))

    @property
    def card_id(self) -> str:
        return str(self.card["card_id"])

    def replace_policy(self, policy: LearnedPolicy) -> None:
        self.policy = policy

    def reload(self, path: Path | None = None) -> bool:
        """Load the model file again if it changed (or another was configured). False when
        the new file was refused; the running model stays."""
        path = path or self.path
        stamp = _stamp(path)
        if path == self.path and stamp == self._stamp:
            return True
        try:
            model, card = load(path)
        except ModelFileError as exc:
            log.error("learned.reload_refused", error=str(exc), hint="the running model stays")
            return False
        with self._lock:
            self.model, self.card, self.path, self._stamp = model, card, path, stamp
        log.info("learned.reloaded", path=str(path), card=self.card_id)
        return True

    def assess(
        self,
        ticket_id: str,
        workflow: str,
        text: str,
        category: Category,
        category_confident: bool,
    ) -> Assessed:
        with self._lock:
            model: LinearTextModel = self.model
            card_id = self.card_id
        started = time.perf_counter()
        prediction = model.predict(text)
        seconds = time.perf_counter() - started
        decision = decide(prediction, self.policy, category, category_confident)
        assignment = None
        if decision.decided and decision.team is not None and decision.probability is not None:
            assignment = Assignment(
                team=decision.team,
                probability=round(decision.probability, 4),
                tier="learned",
                model=card_id,
            )
        if self._ledger is not None:
            # Saved: a paid classification of the ticket, when this tier decided it (an
            # unsure prediction saved nothing).
            tokens_in = PROMPT_TOKENS + len(text) // CHARS_PER_TOKEN + 1
            saved = baseline_usd(self._price, tokens_in, ANSWER_TOKENS) if self._price else 0.0
            self._ledger.book(
                LedgerEntry(
                    at=self._clock(),
                    ticket_id=ticket_id,
                    workflow=decision.category if decision.decided else workflow,
                    tier="learned",
                    model=card_id,
                    # not a prompt: the inventory lists the model and its card instead
                    template="learned",
                    template_version=card_id,
                    tokens_in=0,
                    tokens_out=0,
                    cached_tokens=0,
                    seconds=seconds,
                    usd=0.0,
                    baseline_usd=saved if decision.decided else 0.0,
                    outcome="decided" if decision.decided else "passed_on",
                )
            )
        return Assessed(decision, assignment, seconds)


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size)
