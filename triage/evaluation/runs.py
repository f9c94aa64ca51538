"""Run a labelled set through fresh dry-run pipelines (for `triage eval` and the benches)."""

from __future__ import annotations

from datetime import UTC, datetime

from triage.compose.app import build_pipeline, pipeline_options, rules_from
from triage.compose.tiers import build_learned
from triage.config.settings import Settings
from triage.errors import InputError
from triage.evaluation.scoring import Label, Opinion, Recording, Scored, estimate_tokens
from triage.parsing import parse_ticket
from triage.rules import evaluate as evaluate_rules
from triage.store import open_dry_run
from triage.ticket import RawInput
from triage.tiers.context import compact_text


def run_labels(
    settings: Settings,
    labels: list[Label],
    recording: Recording | None,
) -> list[Scored]:
    """Each labelled file through a fresh dry-run pipeline (no history from the real store)."""
    store = open_dry_run(None)
    learned = build_learned(settings, store)  # raises ModelFileError for a bad model file
    pipeline = build_pipeline(settings, store, None, local=recording, dry_run=True, learned=learned)
    options, rules = pipeline_options(settings, dry_run=True), rules_from(settings)
    rows = []
    for label in labels:
        data = label.file.read_bytes()
        raw = RawInput.of(
            data,
            name=label.file.name,
            source="cli",
            source_ref=str(label.file),
            received_at=datetime.fromtimestamp(label.file.stat().st_mtime, UTC),
        )
        if recording is not None:
            recording.last = None
        result = pipeline.handle(raw).result
        paid_tokens, opinion = 0, None
        try:
            ticket = parse_ticket(data, options.limits)
            verdict = evaluate_rules(ticket, rules, options.log_slice_lines)
            paid_tokens = estimate_tokens(compact_text(ticket, verdict, 12_000, redacted=True))
            answer = recording.last.answer if recording and recording.last else None
            if answer is not None:
                opinion = Opinion(
                    verdict.category, verdict.category_confident, verdict.risk, answer
                )
        except InputError:
            pass
        rows.append(Scored(label, result, estimate_tokens(data), paid_tokens, opinion))
    store.close()
    return rows
