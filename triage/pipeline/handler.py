"""The pipeline's I/O around the stages (triage.pipeline.stages): read a raw input into a
Case, let the decision stages settle it, commit the result with its deliveries in one
transaction, publish it; the caller acknowledges the input after `handle` returns. An input
handled before (same id) returns the stored result and commits nothing new.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable

import structlog

from models.port import TicketModel
from triage.case import Case, quarantined
from triage.errors import InputError, StoreError
from triage.logs import crash_site
from triage.parsing import parse_ticket
from triage.pipeline.stages import Context, decide, find_duplicate
from triage.ports import Clock, Deliveries, GuardMemory, ResultSink, Suggester, TicketStore
from triage.records import Inbound, Outcome, Prepared, TicketKeys
from triage.redaction import clean_result
from triage.result import Result
from triage.rules import evaluate
from triage.rules.automated import detect_automated
from triage.rules.dedup import content_key
from triage.rules.keywords import CompiledRule
from triage.ticket import RawInput
from triage.tiers import Tiers
from triage.tiers.learned import Assigner
from triage.tiers.options import PipelineOptions
from triage.tiers.paid import Escalator
from triage.tiers.runpod import Offloader
from triage.tiers.trust import WolfGuard

log = structlog.get_logger("triage.pipeline")


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
        deliveries: Deliveries | None = None,
        learned: Assigner | None = None,
        guard_memory: GuardMemory | None = None,
        suggester: Suggester | None = None,
    ) -> None:
        """`guard_memory`: where the crying-wolf guard remembers the model's answers; it must
        be `store` itself, so that an answer is remembered in its result's transaction."""
        self._store = store
        self._suggester = suggester
        self._deliveries = deliveries
        self._rules = rules
        self._options = options
        self._clock = clock
        self._sink = sink
        self._tiers = Tiers(
            store, options, clock, local, escalator, offloader, learned, guard_memory
        )
        # One ticket at a time: dedup look-ups and the commit must not interleave.
        self._lock = threading.Lock()

    def replace_rules(self, rules: tuple[CompiledRule, ...]) -> None:
        self._rules = rules

    def replace_options(self, options: PipelineOptions) -> None:
        """A reload: the next ticket sees the new limits, policy and prices."""
        self._options = options
        self._tiers.replace_options(options)

    def model_guard(self) -> WolfGuard:
        """The local model's crying-wolf guard, for STATUS= (`tripped`, `describe()`)."""
        return self._tiers.judge.guard

    def handle_batch(
        self,
        raws: list[RawInput],
        on_result: Callable[[RawInput, Outcome], None] | None = None,
        stop: threading.Event | None = None,
    ) -> list[Outcome]:
        """Triage several inputs, committing each in turn. Runpod answers the tickets the
        router sends there first, all in batches; the rest is answered one by one.
        `on_result` is called right after each commit (the connector acknowledges there);
        when `stop` is set the rest is left alone: the outcomes returned are those of the
        first inputs, in order."""
        cases: dict[str, Case] = {}
        prepared: dict[str, Prepared] = {}
        if self._tiers.offloads and len(raws) > 1:
            for raw in raws:
                if not raw.refused and self._store.get_result(raw.id) is None:
                    case = self._read_quietly(raw)
                    if case is not None:
                        cases[raw.id] = case
            prepared = self._tiers.prepare(
                [case for case in cases.values() if not detect_automated(case.ticket)]
            )
        outcomes = []
        for raw in raws:
            if stop is not None and stop.is_set():
                break
            outcome = self._commit(raw, cases.get(raw.id), prepared.get(raw.id), False, None)
            outcomes.append(outcome)
            if on_result is not None:
                on_result(raw, outcome)
        return outcomes

    def handle(self, raw: RawInput) -> Outcome:
        """Triage one input and commit its result. Raises StoreError when it cannot commit."""
        return self._commit(raw, None, None, replay=False, alias=None)

    def replay(self, raw: RawInput, alias: str | None = None) -> Outcome:
        """Triage a quarantined input again after a fix: its quarantined result is replaced
        (one result per id, still), and `alias`, the id the fixed input has of its own,
        becomes that ticket's too. Input already triaged keeps its result: new=False."""
        return self._commit(raw, None, None, replay=True, alias=alias)

    def _commit(
        self,
        raw: RawInput,
        case: Case | None,
        prepared: Prepared | None,
        replay: bool,
        alias: str | None,
    ) -> Outcome:
        with self._lock:
            existing = self._store.get_result(raw.id)
            if existing is None and alias is not None:
                existing = self._store.get_result(alias)
            if existing is not None and not (replay and existing.status == "quarantined"):
                self._publish(existing, only_if_missing=True)
                log.info("ticket.already_handled", id=existing.id, source=raw.source)
                return Outcome(existing, new=False)
            if existing is not None:
                raw = dataclasses.replace(raw, id=existing.id)  # found by its alias
                case = None
            result, keys, case = self._triage(raw, case, prepared)
            result = clean_result(result, self._options.secrets)
            # The store is the truth; the outbox file is published from it. If publishing
            # fails the input is not acknowledged, and the retry republishes.
            now = self._clock()
            planned = None
            with self._store.transaction():
                # Another process (`process` next to the daemon) may have committed this
                # input, or the ticket it duplicates, while it was triaged: look again
                # inside the write transaction, where nothing can change any more.
                current = self._store.get_result(raw.id)
                if current is not None and not (replay and current.status == "quarantined"):
                    self._publish(current, only_if_missing=True)
                    log.info("ticket.already_handled", id=current.id, source=raw.source)
                    return Outcome(current, new=False)
                if case is not None and result.status == "triaged" and self._duplicate_now(case):
                    result, keys, _ = self._triage(raw, case, None)  # a duplicate now: rules only
                    result = clean_result(result, self._options.secrets)
                # Its deliveries (relay, webhooks, the acknowledgement) are written in the
                # result's transaction.
                if self._deliveries is not None:
                    inbound = (
                        None if case is None else Inbound(case.ticket, case.verdict.unsolicited)
                    )
                    planned = self._deliveries.plan(
                        result, raw.data, now, current is not None, inbound
                    )
                if current is None:
                    self._store.save(result, keys, now, planned)
                elif not self._store.replace_quarantined(result, keys, now, alias, planned):
                    raise StoreError(f"{raw.id} changed while it was replayed: run replay again")
                # The model's answer counts for the crying-wolf guard in the same commit.
                self._tiers.judge.remember(result.id, now)
            self._publish(result, only_if_missing=False)
        if planned is not None and self._deliveries is not None:
            self._deliveries.committed()
        log.info(
            "ticket.replayed" if replay else "ticket.result",
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

    def _read(self, raw: RawInput) -> Case | Result:
        """Parse and judge by the rules, once: the case, or the quarantine of unreadable input."""
        try:
            ticket = parse_ticket(raw.data, self._options.limits)
        except InputError as exc:
            return quarantined(raw, str(exc))
        verdict = evaluate(
            ticket,
            self._rules,
            self._options.log_slice_lines,
            raw.source,
            self._options.own_domains,
        )
        return Case.of(raw, ticket, verdict, content_key(ticket))

    def _read_quietly(self, raw: RawInput) -> Case | None:
        """For a batch read ahead: anything unusual is left to the one-by-one pass."""
        try:
            read = self._read(raw)
        except Exception:  # the one-by-one pass quarantines it with the reason
            return None
        return read if isinstance(read, Case) else None

    def _triage(
        self, raw: RawInput, case: Case | None, prepared: Prepared | None
    ) -> tuple[Result, TicketKeys, Case | None]:
        """The result, its dedup keys, and the case it was judged from (None when the input
        could not be read), so the commit never parses it again."""
        self._tiers.judge.forget()  # an answer judged before belongs to no result now
        if raw.refused:
            return quarantined(raw, raw.refused), TicketKeys(content_key=None), None
        try:
            read = case or self._read(raw)
            if isinstance(read, Result):
                return read, TicketKeys(content_key=None), None
            result = self._decide(read, prepared)
            keys = read.keys if result.status == "triaged" else TicketKeys(read.content_key)
            return result, keys, read
        except StoreError:
            raise
        except Exception as exc:  # a bug must cost one quarantine, not the daemon
            # The exception's message may quote the ticket: log only its type and place.
            log.error("ticket.triage_crashed", id=raw.id, source=raw.source, **crash_site(exc))
            self._tiers.judge.forget()  # a model answer it had is no part of the quarantine
            reason = f"internal error while triaging: {type(exc).__name__}"
            return quarantined(raw, reason), TicketKeys(content_key=None), None

    def _decide(self, case: Case, prepared: Prepared | None) -> Result:
        context = Context(self._store, self._options, self._tiers, prepared, self._suggester)
        return decide(case, context)

    def _duplicate_now(self, case: Case) -> bool:
        """Inside the commit's transaction: has a ticket this one duplicates been committed
        meanwhile (by another process)?"""
        return find_duplicate(case, self._store, self._options.dedup_window)[0] is not None
