"""The pipeline: raw input -> ticket -> rules (-> model tiers) -> result -> store -> outbox.

`handle` returns only once the result is committed; the caller acknowledges the input after
that. An input handled before (same id) returns the stored result and commits nothing new.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import structlog

from models.port import ModelCall, TicketModel
from models.schema import Analysis, ModelAnswer
from triage.context import compact_text
from triage.costs import Price, baseline_usd
from triage.errors import InputError, StoreError
from triage.escalation import EscalationOutcome, Escalator
from triage.logs import crash_site
from triage.merge import merge_answer
from triage.offload import Offloader, OffloadItem, Prepared
from triage.parsing import MailLimits, parse_ticket
from triage.ports import Clock, ResultSink, TicketStore
from triage.result import Attempt, Cost, FieldsOut, FindingOut, Result, Route, SensitivityOut
from triage.router import Gates, Policy, RouteFacts, decide, should_offload
from triage.rules import RulesVerdict, evaluate
from triage.rules.automated import detect_automated
from triage.rules.dedup import answer_key, content_key
from triage.rules.extract import Fields
from triage.rules.keywords import RISK_ORDER, CompiledRule
from triage.rules.risk import priority_for
from triage.rules.sensitivity import scrub
from triage.store import LedgerEntry, TicketKeys
from triage.ticket import RawInput, Ticket, Tier

log = structlog.get_logger("triage.pipeline")


@dataclass(frozen=True)
class PipelineOptions:
    limits: MailLimits
    dedup_window: timedelta
    log_slice_lines: int
    sender_limit_per_hour: int = 0  # 0: no limit
    local_min_confidence: int = 60
    local_usd_per_mtok: float = 0.0
    policy: Policy = field(default_factory=Policy)
    paid_redact: frozenset[str] = frozenset({"pii.card", "pii.iban", "pii.phone", "pii.email"})
    allow_spending: bool = True  # False for --dry-run: nothing is spent (paid, Runpod)
    baseline_price: Price | None = None  # the paid model's price: the all-paid baseline
    cache_ttl: timedelta | None = None  # None: the answer cache is off
    runpod_backlog_seconds: float = 300.0
    local_seconds_estimate: float = 5.0  # until measured: seconds per local answer


@dataclass(frozen=True)
class Outcome:
    result: Result
    new: bool  # False: this input had been handled before; nothing was written


class Pipeline:
    def __init__(
        self,
        store: TicketStore,
        rules: tuple[CompiledRule, ...],
        options: PipelineOptions,
        clock: Clock,
        sink: ResultSink | None,
        local: TicketModel | None = None,
        escalator: Escalator | None = None,
        offloader: Offloader | None = None,
    ) -> None:
        self._store = store
        self._rules = rules
        self._options = options
        self._clock = clock
        self._sink = sink
        self._local = local
        self._escalator = escalator
        self._offloader = offloader
        self._local_seconds = options.local_seconds_estimate
        # One ticket at a time: dedup look-ups and the commit must not interleave.
        self._lock = threading.Lock()

    def replace_rules(self, rules: tuple[CompiledRule, ...]) -> None:
        self._rules = rules

    def replace_options(self, options: PipelineOptions) -> None:
        """A reload: the next ticket sees the new limits, policy and prices."""
        self._options = options

    def handle_batch(
        self,
        raws: list[RawInput],
        on_result: Callable[[RawInput, Outcome], None] | None = None,
        stop: threading.Event | None = None,
    ) -> list[Outcome]:
        """Triage several inputs, committing each in turn. A backlog the local model would
        need too long for is first sent to Runpod; what comes back unanswered goes local.
        `on_result` is called right after each commit (the connector acknowledges there);
        when `stop` is set the rest is left alone: the outcomes returned are those of the
        first inputs, in order."""
        prepared = self._prepare(raws) if self._offloader is not None and len(raws) > 1 else {}
        outcomes = []
        for raw in raws:
            if stop is not None and stop.is_set():
                break
            outcome = self.handle(raw, prepared.get(raw.id))
            outcomes.append(outcome)
            if on_result is not None:
                on_result(raw, outcome)
        return outcomes

    def _prepare(self, raws: list[RawInput]) -> dict[str, Prepared]:
        offloader = self._offloader
        if offloader is None or not self._options.allow_spending or not offloader.healthy():
            return {}
        items = []
        for raw in raws:
            if raw.refused or self._store.get_result(raw.id) is not None:
                continue
            try:
                ticket = parse_ticket(raw.data, self._options.limits)
            except InputError:
                continue
            if detect_automated(ticket):
                continue
            verdict = evaluate(ticket, self._rules, self._options.log_slice_lines)
            if verdict.sensitivity.level not in self._options.policy.runpod_levels:
                continue  # restricted (by default: anything not public) stays on the machine
            text = compact_text(
                ticket, verdict, 24_000, redacted=True, redact_tags=self._options.paid_redact
            )
            items.append(
                OffloadItem(raw.id, text, verdict.category, verdict.risk, verdict.category)
            )
        if not should_offload(
            len(items), self._local_seconds, self._options.runpod_backlog_seconds
        ):
            return {}
        log.info(
            "runpod.offload",
            tickets=len(items),
            local_estimate_seconds=round(len(items) * self._local_seconds, 1),
        )
        return offloader.run(items)

    def handle(self, raw: RawInput, prepared: Prepared | None = None) -> Outcome:
        """Triage one input and commit its result. Raises StoreError when it cannot commit."""
        with self._lock:
            existing = self._store.get_result(raw.id)
            if existing is not None:
                self._publish(existing, only_if_missing=True)
                log.info("ticket.already_handled", id=existing.id, source=raw.source)
                return Outcome(existing, new=False)
            result, keys = self._triage(raw, prepared)
            # The store is the truth; the outbox file is published from it. If publishing
            # fails the input is not acknowledged, and the retry republishes.
            self._store.save(result, keys, self._clock())
            self._publish(result, only_if_missing=False)
        log.info(
            "ticket.result",
            id=result.id,
            source=result.source,
            status=result.status,
            reason=result.status_reason,
            category=result.category,
            priority=result.priority,
            risk=result.risk,
            tier=result.route.tier,
            cost_usd=result.cost.usd,
        )
        return Outcome(result, new=True)

    def _publish(self, result: Result, only_if_missing: bool) -> None:
        if self._sink is None or (only_if_missing and self._sink.exists(result.id)):
            return
        try:
            self._sink.write(result)
        except OSError as exc:
            raise StoreError(f"cannot write the outbox file for {result.id}: {exc}") from exc

    def _triage(self, raw: RawInput, prepared: Prepared | None) -> tuple[Result, TicketKeys]:
        if raw.refused:
            return _quarantined(raw, raw.refused), TicketKeys(content_key=None)
        try:
            return self._triage_readable(raw, prepared)
        except StoreError:
            raise
        except Exception as exc:  # a bug must cost one quarantine, not the daemon
            # The exception's message may quote the ticket: log only its type and place.
            log.error("ticket.triage_crashed", id=raw.id, source=raw.source, **crash_site(exc))
            reason = f"internal error while triaging: {type(exc).__name__}"
            return _quarantined(raw, reason), TicketKeys(content_key=None)

    def _triage_readable(
        self, raw: RawInput, prepared: Prepared | None
    ) -> tuple[Result, TicketKeys]:
        try:
            ticket = parse_ticket(raw.data, self._options.limits)
        except InputError as exc:
            return _quarantined(raw, str(exc)), TicketKeys(content_key=None)
        key = content_key(ticket)
        verdict = evaluate(ticket, self._rules, self._options.log_slice_lines)
        base = _base(raw, ticket, verdict)
        automated = detect_automated(ticket) or self._sender_loop(raw, ticket)
        if automated:
            # Not a request: no category to work on, nothing to prioritise.
            base.update(category="other", workflow="other", priority="P4")
            return Result(**base, status="ignored", status_reason=automated), TicketKeys(key)
        duplicate_of, why = self._find_duplicate(raw, ticket, key)
        if duplicate_of:
            return Result(
                **base, status="duplicate", status_reason=why, duplicate_of=duplicate_of
            ), TicketKeys(key)
        result = Result(**base, status="triaged", status_reason=None)
        confidence = None
        if self._local is not None or prepared is not None:
            result, confidence = self._refine(self._local, raw, ticket, verdict, result, prepared)
        result = self._route_paid(raw, ticket, verdict, result, confidence)
        return result, TicketKeys(key)

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

    def _route_paid(
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
        values = {key: scrub(value, self._options.paid_redact) for key, value in values.items()}
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
                "category": analysis.category if analysis.category != "other" else result.category,
                "risk": risk,
                "priority": priority_for(risk, min(result.priority, analysis.priority)),
                "route": Route(tier="paid", reason=reason, attempts=attempts),
            }
        )
        return result.model_copy(update=update)

    def _refine(
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
                    verdict, prepared.answer, "runpod", [*first, Attempt(tier="runpod", ok=True)]
                )
                gpu["cost"] = spent
                return result.model_copy(update=gpu), prepared.answer.confidence
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
                return self._from_cache(model, raw, verdict, result, json.loads(hit))
        calls: list[ModelCall] = []
        for _ in range(2):
            call = model.complete(
                lambda room: compact_text(ticket, verdict, room), verdict.category, verdict.risk
            )
            calls.append(call)
            if call.outcome != "invalid":
                break
        attempts = first + [
            Attempt(tier="local", ok=c.outcome == "ok", error=c.error) for c in calls
        ]
        for call in calls:  # how long a local answer takes, for the backlog estimate
            self._local_seconds = 0.8 * self._local_seconds + 0.2 * call.seconds
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
            update = self._merged(verdict, answer, "local", attempts)
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
        return result.model_copy(update=update), (answer.confidence if answer else None)

    def _from_cache(
        self,
        model: TicketModel,
        raw: RawInput,
        verdict: RulesVerdict,
        result: Result,
        entry: dict[str, Any],
    ) -> tuple[Result, int | None]:
        """A stored answer for the same words: no call, booked as a hit at $0, linked."""
        answer = ModelAnswer.model_validate(entry["answer"])
        attempts = [Attempt(tier="rules", ok=True), Attempt(tier="local", ok=True)]
        update = self._merged(verdict, answer, "local", attempts)
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
        return result.model_copy(update=update), answer.confidence

    def _merged(
        self, verdict: RulesVerdict, answer: ModelAnswer, tier: Tier, attempts: list[Attempt]
    ) -> dict[str, Any]:
        refined = merge_answer(verdict, answer, self._options.local_min_confidence)
        fields = refined.fields
        return {
            "category": refined.category,
            "priority": refined.priority,
            "risk": refined.risk,
            "risk_reasons": list(refined.risk_reasons),
            "summary": refined.summary,
            "fields": _fields_out(fields),
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

    def _sender_loop(self, raw: RawInput, ticket: Ticket) -> str | None:
        """A machine mailing the helpdesk in a loop: too many tickets from one sender."""
        limit = self._options.sender_limit_per_hour
        if not limit or not ticket.sender:
            return None
        hour = timedelta(hours=1)
        count = self._store.count_from_sender(
            ticket.sender, raw.received_at - hour, raw.received_at
        )
        if count < limit:
            return None
        return f"loop: more than {limit} mails from {ticket.sender} within an hour"

    def _find_duplicate(self, raw: RawInput, ticket: Ticket, key: str) -> tuple[str | None, str]:
        if ticket.message_id:
            original = self._store.find_by_message_id(ticket.message_id)
            if original:
                return original, f"same Message-ID as {original}"
        window = self._options.dedup_window
        original = self._store.find_by_content_key(
            key, raw.received_at - window, raw.received_at + window
        )
        if original:
            return original, f"same content from the same sender as {original}"
        return None, ""


def _base(raw: RawInput, ticket: Ticket, verdict: RulesVerdict) -> dict[str, Any]:
    sensitivity = verdict.sensitivity
    fields = verdict.fields
    reason = (
        f"rules: {', '.join(verdict.matched_rules)}" if verdict.matched_rules else "rules: no match"
    )
    return {
        "id": raw.id,
        "source": raw.source,
        "source_ref": raw.source_ref,
        "message_id": ticket.message_id,
        "received_at": raw.received_at,
        "sender": ticket.sender,
        "subject": ticket.subject,
        "category": verdict.category,
        "priority": verdict.priority,
        "risk": verdict.risk,
        "risk_reasons": list(verdict.risk_reasons),
        "sensitivity": SensitivityOut(
            level=sensitivity.level,
            tags=list(sensitivity.tags),
            findings=[FindingOut(**finding.__dict__) for finding in sensitivity.findings],
        ),
        "summary": verdict.summary,
        "fields": _fields_out(fields),
        "route": Route(tier="rules", reason=reason),
        "workflow": verdict.category,
        "matched_rules": list(verdict.matched_rules),
        "log_slice": verdict.log_slice,
    }


def _fields_out(fields: Fields) -> FieldsOut:
    return FieldsOut(
        requester=fields.requester,
        hosts=list(fields.hosts),
        ips=list(fields.ips),
        error_codes=list(fields.error_codes),
        applications=list(fields.applications),
        devices=list(fields.devices),
    )


def _quarantined(raw: RawInput, reason: str) -> Result:
    return Result(
        id=raw.id,
        source=raw.source,
        source_ref=raw.source_ref,
        message_id=None,
        received_at=raw.received_at,
        sender=None,
        subject="",
        status="quarantined",
        status_reason=reason,
        summary=f"Quarantined: {reason}",
        route=Route(tier="rules", reason="not triaged: the input could not be read"),
        workflow="quarantine",
    )
