"""The model tiers of the pipeline: a Runpod answer prepared ahead, the answer cache, the local
model, and the paid analysis when the router asks for it. Every call, attempt and cache hit
is booked in the ledger here."""

from __future__ import annotations

import json
from typing import Any

from models.port import ModelCall, TicketModel
from models.prompt import load_prompt
from models.schema import Analysis, ModelAnswer
from triage.context import compact_text
from triage.costs import baseline_usd
from triage.escalation import EscalationOutcome, Escalator
from triage.judge import ModelJudge
from triage.offload import Prepared
from triage.options import PipelineOptions
from triage.ports import Clock, TicketStore
from triage.redaction import mask_secrets
from triage.result import Attempt, Cost, FieldsOut, Result, Route
from triage.router import Gates, RouteFacts, decide
from triage.rules import RulesVerdict
from triage.rules.dedup import answer_key
from triage.rules.keywords import RISK_ORDER
from triage.rules.risk import priority_for
from triage.rules.sensitivity import scrub
from triage.store import LedgerEntry
from triage.ticket import RawInput, Ticket, Tier
from triage.trust import questions_for


class ModelTiers:
    def __init__(
        self,
        store: TicketStore,
        options: PipelineOptions,
        clock: Clock,
        local: TicketModel | None,
        escalator: Escalator | None,
    ) -> None:
        self._store = store
        self._options = options
        self._clock = clock
        self._local = local
        self._escalator = escalator
        self.local_seconds = options.local_seconds_estimate  # per answer, for the backlog
        self.judge = ModelJudge(
            options.trust, options.trust_bars, load_prompt("triage").instructions
        )

    @property
    def local(self) -> TicketModel | None:
        return self._local

    def replace_options(self, options: PipelineOptions) -> None:
        self._options = options
        self.judge.replace(options.trust, options.trust_bars)

    def _analysis_key(self, ticket: Ticket) -> str | None:
        if self._options.cache_ttl is None or self._escalator is None:
            return None
        paid = self._escalator.paid
        return answer_key(ticket, paid.template, paid.template_version, paid.model)

    def _cached_analysis(
        self, raw: RawInput, ticket: Ticket, verdict: RulesVerdict, result: Result
    ) -> EscalationOutcome | None:
        """The same words analysed before (a storm): the stored analysis, booked at $0."""
        key = self._analysis_key(ticket)
        if key is None or self._options.cache_ttl is None or self._escalator is None:
            return None
        since = self._clock() - self._options.cache_ttl
        hit = self._store.cache_get(key, verdict.sensitivity.level, since)
        if hit is None:
            return None
        entry = json.loads(hit)
        paid = self._escalator.paid
        self._store.book(
            LedgerEntry(
                at=self._clock(),
                ticket_id=raw.id,
                workflow=result.workflow,
                tier="paid",
                model=paid.model,
                template=paid.template,
                template_version=paid.template_version,
                tokens_in=0,
                tokens_out=0,
                cached_tokens=0,
                seconds=0.0,
                usd=0.0,
                baseline_usd=float(entry["usd"]),
                outcome="cache_hit",
            )
        )
        return EscalationOutcome(
            analysis=Analysis.model_validate(entry["answer"]),
            attempts=[Attempt(tier="paid", ok=True, error=f"cached analysis of {entry['ticket']}")],
        )

    def _remember_analysis(
        self, raw: RawInput, ticket: Ticket, verdict: RulesVerdict, outcome: EscalationOutcome
    ) -> None:
        key = self._analysis_key(ticket)
        if key is None or outcome.analysis is None:
            return
        entry = {"ticket": raw.id, "answer": outcome.analysis.model_dump(), "usd": outcome.usd}
        self._store.cache_put(key, verdict.sensitivity.level, json.dumps(entry), self._clock())

    def _gates(self) -> Gates:
        usable: set[Tier] = {"rules"}
        blocked: dict[Tier, str] = {
            "runpod": "not enabled",
            "paid": "not enabled",
            "local": "no local model configured",
        }
        if self._local is not None:
            usable.add("local")
        if self._escalator is not None:
            if not self._options.allow_spending:
                blocked["paid"] = "dry run: nothing is spent"
            elif not self._escalator.healthy():
                blocked["paid"] = "cooling down after repeated failures"
            else:
                usable.add("paid")
        return Gates(usable=frozenset(usable), blocked_why=blocked)

    def route_paid(
        self,
        raw: RawInput,
        ticket: Ticket,
        verdict: RulesVerdict,
        result: Result,
        confidence: int | None,
    ) -> Result:
        """Ask the router whether the paid tier should analyse this ticket; if so, do it."""
        facts = RouteFacts(
            risk=result.risk,
            task="classification",
            work_tokens=result.cost.tokens_in,
            sensitivity=result.sensitivity.level,
            local_escalate=result.escalate,
            local_confidence=confidence,
        )
        decision = decide(facts, self._options.policy, self._gates())
        if decision.wanted != "paid":
            return result
        reason = f"{result.route.reason}; {decision.reason}"
        if decision.tier != "paid" or self._escalator is None:
            return result.model_copy(
                update={
                    "route": result.route.model_copy(update={"reason": reason, "wanted": "paid"}),
                    "needs_review": [
                        *result.needs_review,
                        f"wanted the paid analysis: {decision.reason}",
                    ],
                }
            )
        room = 12_000
        values = {
            "category": result.category,
            "priority": result.priority,
            "risk": result.risk,
            "risk_reasons": "; ".join(result.risk_reasons) or "none",
            "summary": result.summary,
            "ticket": compact_text(
                ticket, verdict, room, redacted=True, redact_tags=self._options.paid_redact
            ),
        }
        # A safety net behind the redacted context: the summary and reasons may come from the
        # local model, which saw everything; scan every value again before it leaves.
        values = {
            key: mask_secrets(scrub(value, self._options.paid_redact), self._options.secrets)
            for key, value in values.items()
        }
        outcome = self._cached_analysis(raw, ticket, verdict, result)
        if outcome is None:
            outcome = self._escalator.escalate(raw.id, result.workflow, values)
            self._remember_analysis(raw, ticket, verdict, outcome)
        cost = result.cost
        update: dict[str, Any] = {
            "cost": Cost(
                usd=cost.usd + outcome.usd,
                tokens_in=cost.tokens_in + outcome.tokens_in,
                tokens_out=cost.tokens_out + outcome.tokens_out,
                cached_tokens=cost.cached_tokens + outcome.cached_tokens,
            ),
        }
        attempts = [*result.route.attempts, *outcome.attempts]
        analysis = outcome.analysis
        if analysis is None:
            update["route"] = Route(tier=result.route.tier, reason=reason, attempts=attempts)
            update["needs_review"] = [
                *result.needs_review,
                f"{outcome.problem}; the {result.route.tier} result stands",
            ]
            return result.model_copy(update=update)
        risk = "high" if analysis.severity in ("critical", "high") else result.risk
        if RISK_ORDER[risk] < RISK_ORDER[result.risk]:
            risk = result.risk
        update.update(
            {
                "escalation": {**analysis.model_dump(), "model": self._escalator.paid.model},
                # Like the local tier, the paid one refines a category the rules were not sure
                # of; it never overrides one they were (a ticket cannot talk its way out).
                "category": analysis.category
                if analysis.category != "other" and not verdict.category_confident
                else result.category,
                "risk": risk,
                "priority": priority_for(risk, min(result.priority, analysis.priority)),
                "route": Route(tier="paid", reason=reason, attempts=attempts),
            }
        )
        return result.model_copy(update=update)

    def refine(
        self,
        model: TicketModel | None,
        raw: RawInput,
        ticket: Ticket,
        verdict: RulesVerdict,
        result: Result,
        prepared: Prepared | None = None,
    ) -> tuple[Result, int | None]:
        """The model tiers below paid: an answer Runpod prepared, else the answer cache, else
        one local call and one retry when the answer is invalid. Every call and every hit is
        booked. Returns the refined result and the model's confidence (None without one)."""
        first = [Attempt(tier="rules", ok=True)]
        if prepared is not None:
            spent = Cost(
                usd=prepared.usd, tokens_in=prepared.tokens_in, tokens_out=prepared.tokens_out
            )
            if prepared.answer is not None:
                gpu = self._merged(
                    ticket,
                    verdict,
                    prepared.answer,
                    "runpod",
                    [*first, Attempt(tier="runpod", ok=True)],
                    result,
                )
                gpu["cost"] = spent
                confidence = gpu.pop("_confidence")
                return result.model_copy(update=gpu), confidence
            first.append(Attempt(tier="runpod", ok=False, error=prepared.error))
            result = result.model_copy(update={"cost": spent})
        if model is None:
            note = f"runpod gave no answer ({prepared.error if prepared else '?'}); no local model"
            return result.model_copy(
                update={
                    "needs_review": [*result.needs_review, note],
                    "route": Route(tier="rules", reason=result.route.reason, attempts=first),
                }
            ), None
        key, scope = None, verdict.sensitivity.level
        ttl = self._options.cache_ttl
        if ttl is not None:
            key = answer_key(ticket, model.template, model.template_version, model.model)
            hit = self._store.cache_get(key, scope, self._clock() - ttl)
            if hit is not None:
                return self._from_cache(model, raw, ticket, verdict, result, json.loads(hit))
        calls: list[ModelCall] = []
        for _ in range(2):
            call = model.complete(
                lambda room: compact_text(ticket, verdict, room),
                verdict.category,
                verdict.risk,
                questions_for(verdict),  # only where the rules are unsure
            )
            calls.append(call)
            if call.outcome != "invalid":
                break
        attempts = first + [
            Attempt(tier="local", ok=c.outcome == "ok", error=c.error) for c in calls
        ]
        for call in calls:  # how long a local answer takes, for the backlog estimate
            self.local_seconds = 0.8 * self.local_seconds + 0.2 * call.seconds
        answer = calls[-1].answer
        if answer is None:
            failed = calls[-1]
            update: dict[str, Any] = {
                "needs_review": [
                    *result.needs_review,
                    f"local model gave no answer ({failed.outcome}: {failed.error}); "
                    "the rules result stands",
                ],
                "route": Route(tier="rules", reason=result.route.reason, attempts=attempts),
            }
        else:
            update = self._merged(ticket, verdict, answer, "local", attempts, result, model)
            if key is not None:
                entry = {
                    "ticket": raw.id,
                    "answer": answer.model_dump(),
                    "tokens_in": calls[-1].tokens_in,
                    "tokens_out": calls[-1].tokens_out,
                }
                self._store.cache_put(key, scope, json.dumps(entry), self._clock())
        workflow = str(update.get("workflow", result.workflow))
        rate = self._options.local_usd_per_mtok / 1_000_000
        for call in calls:
            self._book_local(
                model,
                raw.id,
                workflow,
                call.tokens_in,
                call.tokens_out,
                call.cached_tokens,
                call.seconds,
                (call.tokens_in + call.tokens_out) * rate,
                call.outcome,
            )
        update["cost"] = Cost(
            usd=result.cost.usd + sum((c.tokens_in + c.tokens_out) * rate for c in calls),
            tokens_in=result.cost.tokens_in + sum(c.tokens_in for c in calls),
            tokens_out=result.cost.tokens_out + sum(c.tokens_out for c in calls),
            cached_tokens=sum(c.cached_tokens for c in calls),
        )
        confidence = update.pop("_confidence", None)
        return result.model_copy(update=update), confidence

    def _from_cache(
        self,
        model: TicketModel,
        raw: RawInput,
        ticket: Ticket,
        verdict: RulesVerdict,
        result: Result,
        entry: dict[str, Any],
    ) -> tuple[Result, int | None]:
        """A stored answer for the same words: no call, booked as a hit at $0, linked."""
        answer = ModelAnswer.model_validate(entry["answer"])
        attempts = [Attempt(tier="rules", ok=True), Attempt(tier="local", ok=True)]
        update = self._merged(ticket, verdict, answer, "local", attempts, result, model, False)
        update["route"] = update["route"].model_copy(
            update={
                "reason": f"local (cached answer of {entry['ticket']}): "
                + update["route"].reason.removeprefix("local: ")
            }
        )
        update["cache_of"] = entry["ticket"]
        self._book_local(
            model,
            raw.id,
            str(update["workflow"]),
            0,
            0,
            0,
            0.0,
            0.0,
            "cache_hit",
            saved=(int(entry["tokens_in"]), int(entry["tokens_out"])),
        )
        confidence = update.pop("_confidence")
        return result.model_copy(update=update), confidence

    def _merged(
        self,
        ticket: Ticket,
        verdict: RulesVerdict,
        answer: ModelAnswer,
        tier: Tier,
        attempts: list[Attempt],
        result: Result,
        model: TicketModel | None = None,
        fresh: bool = True,
    ) -> dict[str, Any]:
        # triage/trust.py's gates (via the judge, which carries the crying-wolf guard).
        name = model.model if model else tier
        template = f"{model.template}@v{model.template_version}" if model else "triage@v?"
        refined = self.judge.judge(ticket, verdict, answer, name, template, fresh)
        fields = refined.fields
        return {
            "needs_review": [*result.needs_review, *refined.review],
            "_confidence": refined.confidence,
            "category": refined.category,
            "priority": refined.priority,
            "risk": refined.risk,
            "risk_reasons": list(refined.risk_reasons),
            "summary": refined.summary,
            "fields": FieldsOut.from_fields(fields),
            "escalate": refined.escalate,
            "workflow": refined.category,
            "route": Route(tier=tier, reason=f"{tier}: {refined.note}", attempts=attempts),
        }

    def _book_local(
        self,
        model: TicketModel,
        ticket_id: str,
        workflow: str,
        tokens_in: int,
        tokens_out: int,
        cached: int,
        seconds: float,
        usd: float,
        outcome: str,
        saved: tuple[int, int] | None = None,
    ) -> None:
        """One ledger row. The baseline is what the paid model would have charged for the
        same tokens (for a cache hit: for the original call's tokens)."""
        price = self._options.baseline_price
        basis = saved or (tokens_in, tokens_out)
        self._store.book(
            LedgerEntry(
                at=self._clock(),
                ticket_id=ticket_id,
                workflow=workflow,
                tier="local",
                model=model.model,
                template=model.template,
                template_version=model.template_version,
                tokens_in=tokens_in,
                tokens_out=tokens_out,
                cached_tokens=cached,
                seconds=seconds,
                usd=usd,
                baseline_usd=baseline_usd(price, *basis) if price else 0.0,
                outcome=outcome,
            )
        )
