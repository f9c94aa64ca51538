"""The model tiers after the rules, walked as the router decides.

`refine(case)` asks the router once from the rules' facts; the model tiers below the chosen
one answer first (an answer Runpod prepared for a batch, else the answer cache, else the local
model) and their answer is the fallback; the router is asked again with what that answer said,
and the paid tier analyses the ticket when the decision is paid. Every call, attempt and cache
hit is booked in the ledger here.
"""

from __future__ import annotations

from dataclasses import replace

import structlog

from models.port import ModelCall, TicketModel
from models.prompt import load_prompt
from models.schema import ModelAnswer
from triage.case import Case
from triage.costs import baseline_usd
from triage.ports import Clock, GuardMemory, TicketStore
from triage.records import LedgerEntry, Prepared
from triage.redaction import mask_secrets
from triage.result import Attempt, Cost, FieldsOut, Result, Route
from triage.rules import RulesVerdict
from triage.rules.dedup import answer_key
from triage.ticket import Tier
from triage.tiers.analysis import Analyst, named
from triage.tiers.cache import AnswerCache, CachedAnswer
from triage.tiers.context import compact_text
from triage.tiers.judge import ModelJudge
from triage.tiers.learned import Assigner, assign
from triage.tiers.local import LocalTier
from triage.tiers.options import PipelineOptions
from triage.tiers.paid import Escalator
from triage.tiers.router import Decision, Gates, RouteFacts, decide, offloaded, should_offload
from triage.tiers.runpod import Offloader, OffloadItem
from triage.tiers.trust import Refined

log = structlog.get_logger("triage.tiers")

RUNPOD_CONTEXT_CHARS = 24_000
CHARS_PER_TOKEN = 4


class Tiers:
    def __init__(
        self,
        store: TicketStore,
        options: PipelineOptions,
        clock: Clock,
        local: TicketModel | None = None,
        escalator: Escalator | None = None,
        offloader: Offloader | None = None,
        learned: Assigner | None = None,
        guard_memory: GuardMemory | None = None,
    ) -> None:
        self._store = store
        self._learned = learned
        self._options = options
        self._clock = clock
        self._local = LocalTier(local, options.local_seconds_estimate) if local else None
        self._escalator = escalator
        self._offloader = offloader
        self._cache = AnswerCache(store, clock, options.cache_ttl)
        self._analyst = Analyst(escalator, store, clock, self._cache) if escalator else None
        # Every model answer below paid passes triage/trust.py's gates through the judge,
        # which carries the crying-wolf guard from ticket to ticket (in `guard_memory`, the
        # store's, when there is one).
        self.judge = ModelJudge(
            options.trust, options.trust_bars, load_prompt("triage").instructions, guard_memory
        )

    def replace_options(self, options: PipelineOptions) -> None:
        self._options = options
        self._cache.ttl = options.cache_ttl
        self.judge.replace(options.trust, options.trust_bars)

    @property
    def offloads(self) -> bool:
        """Can a batch be sent to Runpod ahead of the one-by-one pass?"""
        return self._offloader is not None

    # -- the decision ---------------------------------------------------------------------

    def _gates(self) -> Gates:
        usable: set[Tier] = {"rules"}
        blocked: dict[Tier, str] = {
            "local": "no local model configured",
            "runpod": "not enabled",
            "paid": "not enabled",
        }
        if self._local is not None:
            usable.add("local")
        backends: tuple[tuple[Tier, Offloader | Escalator | None], ...] = (
            ("runpod", self._offloader),
            ("paid", self._escalator),
        )
        for tier, backend in backends:
            if backend is None:
                continue
            if not self._options.allow_spending:
                blocked[tier] = "dry run: nothing is spent"
            elif not backend.healthy():
                blocked[tier] = "cooling down after repeated failures"
            else:
                usable.add(tier)
        return Gates(usable=frozenset(usable), blocked_why=blocked)

    def _facts(
        self,
        case: Case,
        result: Result,
        *,
        answer: Refined | None = None,
        backlog: bool = False,
        withheld: str | None = None,
    ) -> RouteFacts:
        return RouteFacts(
            risk=result.risk,
            task=task_of(case.verdict),
            work_tokens=work_tokens(case),
            sensitivity=result.sensitivity.level,
            local_escalate=answer.escalate if answer else False,
            local_confidence=answer.confidence if answer else None,
            backlog=backlog,
            withheld=withheld,
        )

    # -- a batch ahead of the one-by-one pass ---------------------------------------------

    def prepare(self, cases: list[Case]) -> dict[str, Prepared]:
        """Runpod's answers for the cases the router sends there (a backlog too long for the
        local model, or work too large for it), redacted before they leave."""
        offloader = self._offloader
        if offloader is None or not cases:
            return {}
        local = self._local
        seconds = local.seconds_per_answer if local else self._options.local_seconds_estimate
        backlog = should_offload(len(cases), seconds, self._options.runpod_backlog_seconds)
        gates, policy = self._gates(), self._options.policy
        items = []
        for case in cases:
            facts = self._facts(case, case.base, backlog=backlog)
            if not offloaded(decide(facts, policy, gates), facts):
                continue
            text = compact_text(
                case.ticket,
                case.verdict,
                RUNPOD_CONTEXT_CHARS,
                redacted=True,
                redact_tags=self._options.paid_redact,
            )
            text = mask_secrets(text, self._options.secrets)
            category = case.verdict.category
            items.append(OffloadItem(case.raw.id, text, category, case.verdict.risk, category))
        if not items:
            return {}
        log.info(
            "runpod.offload",
            tickets=len(items),
            local_estimate_seconds=round(len(cases) * seconds, 1),
        )
        return offloader.run(items)

    # -- one ticket -----------------------------------------------------------------------

    def refine(
        self, case: Case, prepared: Prepared | None = None, withheld: str | None = None
    ) -> Result:
        """The triaged ticket after the model tiers the router allows; rules-only when none.
        The learned tier, free, answers first (it may settle the category)."""
        if self._learned is not None:
            case = assign(self._learned, case)
        result = case.base
        if withheld:
            result = result.revised(needs_review=[*result.needs_review, withheld])
        facts = self._facts(case, result, withheld=withheld)
        decision = decide(facts, self._options.policy, self._gates())
        result, answer = self._answer(case, result, decision, prepared)
        return self._analyse(case, result, answer, withheld)

    def _answer(
        self, case: Case, result: Result, decision: Decision, prepared: Prepared | None
    ) -> tuple[Result, Refined | None]:
        """The model tiers below paid: Runpod's prepared answer, else a cached answer, else
        the local model (one retry when invalid)."""
        attempts = [Attempt(tier="rules", ok=True)]
        if prepared is not None:
            spent = Cost(
                usd=prepared.usd, tokens_in=prepared.tokens_in, tokens_out=prepared.tokens_out
            )
            result = result.revised(cost=spent)
            if prepared.answer is not None:
                attempts.append(Attempt(tier="runpod", ok=True))
                return self._merged(case, result, prepared.answer, "runpod", attempts)
            attempts.append(Attempt(tier="runpod", ok=False, error=prepared.error))
        local = self._local
        wants_local = task_of(case.verdict) in self._options.policy.local_tasks
        if local is None or "local" not in decision.chain or not (wants_local or prepared):
            if prepared is None:
                return result, None
            why = "no local model" if local is None else "the local model may not answer it"
            note = f"runpod gave no answer ({prepared.error}); {why}"
            return result.revised(
                needs_review=[*result.needs_review, note],
                route=Route(tier="rules", reason=result.route.reason, attempts=attempts),
            ), None
        key = answer_key(case.ticket, *named(local.model))
        scope = case.verdict.sensitivity.level
        hit = self._cache.answer(key, scope) if self._cache.enabled else None
        if hit is not None:
            return self._from_cache(case, result, local.model, hit)
        calls = local.ask(case)
        attempts += [Attempt(tier="local", ok=c.outcome == "ok", error=c.error) for c in calls]
        answer, refined = calls[-1].answer, None
        if answer is None:
            failed = calls[-1]
            note = (
                f"local model gave no answer ({failed.outcome}: {failed.error}); "
                "the rules result stands"
            )
            result = result.revised(
                needs_review=[*result.needs_review, note],
                route=Route(tier="rules", reason=result.route.reason, attempts=attempts),
            )
        else:
            result, refined = self._merged(case, result, answer, "local", attempts, local.model)
            last = calls[-1]
            entry = CachedAnswer(
                ticket=case.raw.id,
                answer=answer,
                tokens_in=last.tokens_in,
                tokens_out=last.tokens_out,
            )
            self._cache.keep(key, scope, entry)
        return self._book_calls(local.model, case, result, calls), refined

    def _book_calls(
        self, model: TicketModel, case: Case, result: Result, calls: list[ModelCall]
    ) -> Result:
        rate = self._options.local_usd_per_mtok / 1_000_000
        for call in calls:
            usd = (call.tokens_in + call.tokens_out) * rate
            self._book_local(model, case, result.workflow, call.outcome, usd, call)
        cost = result.cost
        return result.revised(
            cost=Cost(
                usd=cost.usd + sum((c.tokens_in + c.tokens_out) * rate for c in calls),
                tokens_in=cost.tokens_in + sum(c.tokens_in for c in calls),
                tokens_out=cost.tokens_out + sum(c.tokens_out for c in calls),
                cached_tokens=sum(c.cached_tokens for c in calls),
            )
        )

    def _from_cache(
        self, case: Case, result: Result, model: TicketModel, hit: CachedAnswer
    ) -> tuple[Result, Refined]:
        """A stored answer for the same words: no call, booked as a hit at $0, linked."""
        attempts = [Attempt(tier="rules", ok=True), Attempt(tier="local", ok=True)]
        merged, refined = self._merged(
            case, result, hit.answer, "local", attempts, model, fresh=False
        )
        reason = merged.route.reason.removeprefix("local: ")
        route = Route(
            tier="local",
            reason=f"local (cached answer of {hit.ticket}): {reason}",
            attempts=attempts,
        )
        self._book_local(model, case, merged.workflow, "cache_hit", 0.0, saved=hit)
        return merged.revised(route=route, cache_of=hit.ticket), refined

    def _merged(
        self,
        case: Case,
        result: Result,
        answer: ModelAnswer,
        tier: Tier,
        attempts: list[Attempt],
        model: TicketModel | None = None,
        fresh: bool = True,
    ) -> tuple[Result, Refined]:
        """The answer through the trust gates (triage/trust.py via the judge), against what the
        result says so far (the rules, and the learned tier's category if it settled one)."""
        name = model.model if model else tier  # a Runpod answer: no profile holds for it
        template = f"{model.template}@v{model.template_version}" if model else "?"
        verdict = replace(
            case.verdict,
            category=result.category,
            risk=result.risk,
            priority=result.priority,
            risk_reasons=tuple(result.risk_reasons),
            summary=result.summary,
        )
        refined = self.judge.judge(case.ticket, verdict, answer, name, template, fresh)
        found = refined.fields
        fields = FieldsOut(
            requester=result.fields.requester,
            hosts=list(found.hosts),
            ips=list(found.ips),
            error_codes=list(found.error_codes),
            applications=list(found.applications),
            devices=list(found.devices),
        )
        return result.revised(
            category=refined.category,
            priority=refined.priority,
            risk=refined.risk,
            risk_reasons=list(refined.risk_reasons),
            summary=refined.summary,
            fields=fields,
            escalate=refined.escalate,
            needs_review=[*result.needs_review, *refined.review],
            workflow=case.verdict.workflow or refined.category,  # a rule's workflow stands
            route=Route(tier=tier, reason=f"{tier}: {refined.note}", attempts=attempts),
        ), refined

    def _book_local(
        self,
        model: TicketModel,
        case: Case,
        workflow: str,
        outcome: str,
        usd: float,
        call: ModelCall | None = None,
        saved: CachedAnswer | None = None,
    ) -> None:
        """One ledger row. The baseline is what the paid model would have charged for the
        same tokens (for a cache hit: for the original call's tokens)."""
        price = self._options.baseline_price
        basis = (saved.tokens_in, saved.tokens_out) if saved else (0, 0)
        if call is not None:
            basis = (call.tokens_in, call.tokens_out)
        self._store.book(
            LedgerEntry.call(
                model,
                at=self._clock(),
                ticket_id=case.raw.id,
                workflow=workflow,
                tier="local",
                provider=model.provider,
                outcome=outcome,
                tokens_in=call.tokens_in if call else 0,
                tokens_out=call.tokens_out if call else 0,
                cached_tokens=call.cached_tokens if call else 0,
                seconds=call.seconds if call else 0.0,
                usd=usd,
                baseline_usd=baseline_usd(price, *basis) if price else 0.0,
            )
        )

    # -- the paid analysis ----------------------------------------------------------------

    def _analyse(
        self, case: Case, result: Result, answer: Refined | None, withheld: str | None
    ) -> Result:
        """Ask the router again with what the model below said; analyse when it says paid."""
        facts = self._facts(case, result, answer=answer, withheld=withheld)
        decision = decide(facts, self._options.policy, self._gates())
        if decision.wanted != "paid":
            return result
        reason = f"{result.route.reason}; {decision.reason}"
        if decision.tier != "paid" or self._analyst is None:
            route = result.route
            return result.revised(
                route=Route(tier=route.tier, reason=reason, attempts=route.attempts, wanted="paid"),
                needs_review=[*result.needs_review, f"wanted the paid analysis: {decision.reason}"],
            )
        return self._analyst.analyse(case, result, reason, self._options)


def task_of(verdict: RulesVerdict) -> str:
    """What the model tiers are asked to do: classify where the rules were not sure of the
    category, else summarise (the triage prompt also extracts)."""
    return "summary" if verdict.category_confident else "classification"


def work_tokens(case: Case) -> int:
    """How much text the ticket is, in tokens, estimated at four characters a token."""
    ticket = case.ticket
    chars = len(ticket.subject) + len(ticket.body) + sum(len(log) for log in ticket.logs)
    return chars // CHARS_PER_TOKEN
