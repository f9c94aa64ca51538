"""What the core asks of a model tier, and what one call gives back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

from models.schema import Analysis, ModelAnswer
from triage.costs import Usage

CallOutcome = Literal["ok", "invalid", "timeout", "overflow", "error"]
# What a ticket model may be asked; the summary is always written.
ALL_QUESTIONS = frozenset({"category", "incident"})
AttemptOutcome = Literal["ok", "retryable", "fatal", "unknown"]


@dataclass(frozen=True)
class ModelCall:
    """One attempt: the answer (None unless outcome is ok) and what it used."""

    answer: ModelAnswer | None
    outcome: CallOutcome
    tokens_in: int
    tokens_out: int
    cached_tokens: int
    seconds: float
    error: str | None = None


class TicketModel(Protocol):
    """A model that triages one ticket from its compact context."""

    model: str  # the model's name, as booked
    provider: str  # where it runs, as booked: "llama.cpp", "server:<host>", ...
    template: str  # prompt template name
    template_version: str

    def complete(
        self,
        render: Callable[[int], str],
        rules_category: str,
        rules_risk: str,
        asks: frozenset[str] = ALL_QUESTIONS,
    ) -> ModelCall:
        """`render(max_chars)` gives the compact ticket at most that long; the model picks
        the size that fits its context. `asks`: the questions where the rules are unsure
        (triage/trust.py `questions_for`); the rules' answer stands for the others."""
        ...


@dataclass(frozen=True)
class PaidAttempt:
    outcome: AttemptOutcome  # unknown: sent, then timed out: it may have been billed
    usage: Usage
    seconds: float
    analysis: Analysis | None = None
    error: str | None = None
    retry_after: float | None = None  # what the server asked for, uncapped


class PaidTier(Protocol):
    """The paid model, one attempt per call; the core owns retries, budget and breaker."""

    model: str
    provider: str  # as booked: "anthropic", "openai:<host>", ...
    template: str
    template_version: str
    max_tokens: int
    # Requests one attempt may send at most (a malformed answer may be asked again once):
    # the budget reserves the worst case of all of them.
    calls_per_attempt: int

    def count_tokens(self, values: dict[str, str]) -> int: ...

    def attempt(self, values: dict[str, str]) -> PaidAttempt: ...


@dataclass
class BatchOutcome:
    status: str  # a terminal status, or "GAVE_UP" when our deadline passed (then cancelled)
    answers: list[dict[str, Any]] = field(default_factory=list)
    billed_seconds: float = 0.0  # the endpoint's delay + execution time
    error: str | None = None
    job_id: str | None = None


class GpuBatches(Protocol):
    """Runpod serverless: one job per batch of tickets."""

    model: str
    provider: str

    def run(self, payload: dict[str, Any]) -> BatchOutcome: ...

    def health(self) -> str:
        """A short word on the endpoint's state; raises when it cannot be reached."""
        ...


def provider_label(kind: str, base_url: str | None) -> str:
    """How a provider is named in the ledger and the reports: its kind, and the host when
    the address is not the default one (`openai:openrouter.ai`)."""
    if not base_url:
        return kind
    host = urlsplit(base_url).netloc or base_url
    return f"{kind}:{host}"
