"""The pipeline: raw input -> ticket -> rules (-> model tiers) -> result -> store -> outbox.

`handle` returns only once the result is committed; the caller acknowledges the input after
that. An input handled before (same id) returns the stored result and commits nothing new.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog

from models.port import TicketModel
from triage.context import compact_text
from triage.errors import InputError, StoreError
from triage.escalation import Escalator
from triage.logs import crash_site
from triage.offload import Offloader, OffloadItem, Prepared
from triage.options import PipelineOptions
from triage.parsing import parse_ticket
from triage.ports import Clock, ResultSink, TicketStore
from triage.redaction import clean_result, mask_secrets
from triage.result import FieldsOut, FindingOut, Result, Route, SensitivityOut
from triage.router import should_offload
from triage.rules import RulesVerdict, evaluate
from triage.rules.automated import detect_automated
from triage.rules.dedup import content_key
from triage.rules.keywords import CompiledRule
from triage.store import TicketKeys
from triage.ticket import RawInput, Ticket
from triage.tiers import ModelTiers

log = structlog.get_logger("triage.pipeline")


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
        self._tiers = ModelTiers(store, options, clock, local, escalator)
        self._offloader = offloader
        # One ticket at a time: dedup look-ups and the commit must not interleave.
        self._lock = threading.Lock()

    def replace_rules(self, rules: tuple[CompiledRule, ...]) -> None:
        self._rules = rules

    def replace_options(self, options: PipelineOptions) -> None:
        """A reload: the next ticket sees the new limits, policy and prices."""
        self._options = options
        self._tiers.replace_options(options)

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
            text = mask_secrets(text, self._options.secrets)
            items.append(
                OffloadItem(raw.id, text, verdict.category, verdict.risk, verdict.category)
            )
        if not should_offload(
            len(items), self._tiers.local_seconds, self._options.runpod_backlog_seconds
        ):
            return {}
        log.info(
            "runpod.offload",
            tickets=len(items),
            local_estimate_seconds=round(len(items) * self._tiers.local_seconds, 1),
        )
        return offloader.run(items)

    def handle(self, raw: RawInput, prepared: Prepared | None = None) -> Outcome:
        """Triage one input and commit its result. Raises StoreError when it cannot commit."""
        return self._commit(raw, prepared, replay=False, alias=None)

    def replay(self, raw: RawInput, alias: str | None = None) -> Outcome:
        """Triage a quarantined input again after a fix: its quarantined result is replaced
        (one result per id, still), and `alias`, the id the fixed input has of its own,
        becomes that ticket's too. Input already triaged keeps its result: new=False."""
        return self._commit(raw, None, replay=True, alias=alias)

    def _commit(
        self, raw: RawInput, prepared: Prepared | None, replay: bool, alias: str | None
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
            result, keys = self._triage(raw, prepared)
            result = clean_result(result, self._options.secrets)
            # The store is the truth; the outbox file is published from it. If publishing
            # fails the input is not acknowledged, and the retry republishes.
            now = self._clock()
            with self._store.transaction():
                # Another process (`process` next to the daemon) may have committed this
                # input, or the ticket it duplicates, while it was triaged: look again
                # inside the write transaction, where nothing can change any more.
                current = self._store.get_result(raw.id)
                if current is not None and not (replay and current.status == "quarantined"):
                    self._publish(current, only_if_missing=True)
                    log.info("ticket.already_handled", id=current.id, source=raw.source)
                    return Outcome(current, new=False)
                if (
                    result.status == "triaged"
                    and self._find_duplicate(raw, result.message_id, keys.content_key)[0]
                ):
                    result, keys = self._triage(raw, None)  # a duplicate now: rules only
                    result = clean_result(result, self._options.secrets)
                if current is None:
                    self._store.save(result, keys, now)
                elif not self._store.replace_quarantined(result, keys, now, alias):
                    raise StoreError(f"{raw.id} changed while it was replayed: run replay again")
            self._publish(result, only_if_missing=False)
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
        duplicate_of, why = self._find_duplicate(raw, ticket.message_id, key)
        if duplicate_of:
            return Result(
                **base, status="duplicate", status_reason=why, duplicate_of=duplicate_of
            ), TicketKeys(key)
        result = Result(**base, status="triaged", status_reason=None)
        confidence = None
        if self._tiers.local is not None or prepared is not None:
            result, confidence = self._tiers.refine(
                self._tiers.local, raw, ticket, verdict, result, prepared
            )
        result = self._tiers.route_paid(raw, ticket, verdict, result, confidence)
        return result, TicketKeys(key)

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

    def _find_duplicate(
        self, raw: RawInput, message_id: str | None, key: str | None
    ) -> tuple[str | None, str]:
        if message_id:
            original = self._store.find_by_message_id(message_id)
            if original:
                return original, f"same Message-ID as {original}"
        if key is None:
            return None, ""
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
        "fields": FieldsOut.from_fields(fields),
        "route": Route(tier="rules", reason=reason),
        "workflow": verdict.category,
        "matched_rules": list(verdict.matched_rules),
        "log_slice": verdict.log_slice,
    }


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
