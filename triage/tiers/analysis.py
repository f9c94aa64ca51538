"""The paid tier's step of the walk: the analysis of one ticket (the cached analysis of the
same words, else the escalator's call), folded in by the one merge policy."""

from __future__ import annotations

import re

from triage.case import Case
from triage.ports import Clock, TicketStore
from triage.records import Grounding, LedgerEntry, ModelRef
from triage.redaction import mask_secrets
from triage.result import Attempt, Cost, Result, Route
from triage.rules.dedup import answer_key
from triage.rules.sensitivity import scrub
from triage.tiers.cache import AnswerCache, CachedAnalysis
from triage.tiers.context import compact_text
from triage.tiers.merge import Opinion, merge
from triage.tiers.options import PipelineOptions
from triage.tiers.paid import EscalationOutcome, Escalator

PAID_CONTEXT_CHARS = 12_000
# The suggested articles' text given with it (the best first), for a draft reply grounded in
# them: each cut to ARTICLE_CHARS, all of them to KNOWLEDGE_CHARS.
ARTICLE_CHARS = 3_000
KNOWLEDGE_CHARS = 6_000
NO_KNOWLEDGE = "none: no article answers this ticket"


class Analyst:
    def __init__(
        self, escalator: Escalator, store: TicketStore, clock: Clock, cache: AnswerCache
    ) -> None:
        self._escalator = escalator
        self._store = store
        self._clock = clock
        self._cache = cache

    def analyse(self, case: Case, result: Result, reason: str, options: PipelineOptions) -> Result:
        """The result with the paid analysis folded in, or with why there is none."""
        escalator = self._escalator
        outcome = self._cached_analysis(case, result, escalator)
        if outcome is None:
            outcome = escalator.escalate(
                case.raw.id, result.workflow, self._paid_values(case, result, options)
            )
            self._remember_analysis(case, escalator, outcome)
        cost = result.cost
        spent = Cost(
            usd=cost.usd + outcome.usd,
            tokens_in=cost.tokens_in + outcome.tokens_in,
            tokens_out=cost.tokens_out + outcome.tokens_out,
            cached_tokens=cost.cached_tokens + outcome.cached_tokens,
        )
        attempts = [*result.route.attempts, *outcome.attempts]
        analysis = outcome.analysis
        if analysis is None:
            return result.revised(
                cost=spent,
                route=Route(tier=result.route.tier, reason=reason, attempts=attempts),
                needs_review=[
                    *result.needs_review,
                    f"{outcome.problem}; the {result.route.tier} result stands",
                ],
            )
        # Like the local tier, the paid one refines a category the rules were not sure of;
        # it never overrides one they were (a ticket cannot talk its way out).
        opinion = Opinion.of_analysis(analysis)
        merged = merge(result, result.fields, case.verdict.category_confident, opinion, 0)
        unknown = uncited_sources(analysis.draft_reply, case.grounding)
        return result.revised(
            needs_review=[
                *result.needs_review,
                *(f"the draft reply cites {source}, which it was not given" for source in unknown),
            ],
            cost=spent,
            escalation={
                **analysis.model_dump(),
                "model": outcome.model or escalator.paid.model,
                "provider": outcome.provider or escalator.paid.provider,
            },
            category=merged.category,
            risk=merged.risk,
            priority=merged.priority,
            route=Route(tier="paid", reason=reason, attempts=attempts),
        )

    def _paid_values(self, case: Case, result: Result, options: PipelineOptions) -> dict[str, str]:
        redact = options.paid_redact
        values = {
            "category": result.category,
            "priority": result.priority,
            "risk": result.risk,
            "risk_reasons": "; ".join(result.risk_reasons) or "none",
            "summary": result.summary,
            "ticket": compact_text(
                case.ticket, case.verdict, PAID_CONTEXT_CHARS, redacted=True, redact_tags=redact
            ),
            "knowledge": knowledge_text(case.grounding),
        }
        # A safety net behind the redacted context: the summary and reasons may come from the
        # local model, which saw everything; scan every value again before it leaves.
        return {
            key: mask_secrets(scrub(value, redact), options.secrets)
            for key, value in values.items()
        }

    def _analysis_key(self, case: Case, escalator: Escalator) -> str | None:
        if not self._cache.enabled:
            return None
        return answer_key(case.ticket, *named(escalator.paid))

    def _cached_analysis(
        self, case: Case, result: Result, escalator: Escalator
    ) -> EscalationOutcome | None:
        """The same words analysed before (a storm): the stored analysis, booked at $0."""
        key = self._analysis_key(case, escalator)
        hit = self._cache.analysis(key, case.verdict.sensitivity.level) if key else None
        if hit is None:
            return None
        self._store.book(
            LedgerEntry.call(
                escalator.paid,
                at=self._clock(),
                ticket_id=case.raw.id,
                workflow=result.workflow,
                tier="paid",
                provider=escalator.paid.provider,
                outcome="cache_hit",
                baseline_usd=hit.usd,
            )
        )
        return EscalationOutcome(
            analysis=hit.answer,
            attempts=[Attempt(tier="paid", ok=True, error=f"cached analysis of {hit.ticket}")],
        )

    def _remember_analysis(
        self, case: Case, escalator: Escalator, outcome: EscalationOutcome
    ) -> None:
        key = self._analysis_key(case, escalator)
        if key is None or outcome.analysis is None:
            return
        entry = CachedAnalysis(ticket=case.raw.id, answer=outcome.analysis, usd=outcome.usd)
        self._cache.keep(key, case.verdict.sensitivity.level, entry)


_CITED = re.compile(r"\[((?:kb/|ticket:)[^\]\s]+)\]")


def uncited_sources(draft: str | None, grounding: tuple[Grounding, ...]) -> list[str]:
    """The [sources] a draft reply cites that were not among the articles given: a model's
    citation is checked, not believed."""
    given = {article.source for article in grounding}
    return [s for s in dict.fromkeys(_CITED.findall(draft or "")) if s not in given]


def knowledge_text(grounding: tuple[Grounding, ...]) -> str:
    """The articles as the prompt gives them: each under its [source] and title, cut to fit
    (scanned and masked with every other value before it leaves)."""
    parts: list[str] = []
    room = KNOWLEDGE_CHARS
    for article in grounding:
        text = " ".join(article.text.split(" "))[: min(ARTICLE_CHARS, room)].strip()
        if not text:
            break
        parts.append(f"[{article.source}] {article.title}\n{text}")
        room -= len(text)
    return "\n\n".join(parts) or NO_KNOWLEDGE


def named(model: ModelRef) -> tuple[str, str, str]:
    """The template, its version and the model: what an answer is cached under."""
    return model.template, model.template_version, model.model
