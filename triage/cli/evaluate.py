"""`triage eval LABELS.jsonl`: score a labelled set through the pipeline in dry-run, rules
only and with the configured local model, and save that model's trust profile."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from triage.cli.common import EXIT_OK, EXIT_USAGE, Commands, refuse
from triage.config.settings import LoadedSettings
from triage.errors import InputError, TriageError


def register(commands: Commands) -> None:
    evaluate = commands.add_parser(
        "eval", help="score a labelled set (JSON Lines) through the pipeline in dry-run"
    )
    evaluate.add_argument("labels", type=Path, metavar="LABELS.jsonl")
    evaluate.add_argument("--json", action="store_true", help="print the report as JSON")
    evaluate.add_argument(
        "--rules-only", action="store_true", help="leave the configured local model out"
    )
    evaluate.add_argument(
        "--save-trust",
        type=Path,
        metavar="PATH",
        help="write the local model's trust profile (for [local] trust_profile)",
    )
    evaluate.set_defaults(handler=evaluate_labels)


def evaluate_labels(loaded: LoadedSettings, args: argparse.Namespace) -> int:
    """Rules-only, then with the configured local model; `--save-trust PATH` writes the
    model's trust profile (what `[local] trust_profile` reads)."""
    from models.prompt import load_prompt
    from triage.compose.tiers import build_local_model, prices
    from triage.evaluation.runs import run_labels
    from triage.evaluation.scoring import (
        Recording,
        load_labels,
        metrics,
        model_record,
        render,
        render_trust,
        score,
        trust_profile,
    )

    settings = loaded.settings
    try:
        labels = load_labels(args.labels)
    except (OSError, InputError) as exc:
        print(f"triage: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        local = None if args.rules_only else build_local_model(settings)
    except TriageError as exc:
        return refuse(exc)
    if args.save_trust and local is None:
        print("triage: --save-trust needs a local model ([local] enabled)", file=sys.stderr)
        return EXIT_USAGE
    try:
        rows = run_labels(settings, labels, None)
    except TriageError as exc:
        return refuse(exc)
    runs = {"rules": metrics(rows)}
    profile = record = None
    if local is not None:
        recording = Recording(local)
        rows = run_labels(settings, labels, recording)
        runs[f"rules+{local.model}"] = metrics(rows)
        template = f"{local.template}@v{local.template_version}"
        profile = trust_profile(rows, local.model, template, str(args.labels))
        record = model_record(rows)
        record["seconds_per_call"] = round(recording.seconds / max(recording.calls, 1), 3)
        record["tokens_out_per_call"] = round(recording.tokens_out / max(recording.calls, 1), 1)
        if args.save_trust:
            args.save_trust.write_text(profile.to_json() + "\n", encoding="utf-8")
    system = _estimate(load_prompt("analysis").system)
    report = score(rows, prices(settings).get(settings.paid.model), system)
    if args.json:
        print(
            json.dumps(
                {
                    **dataclasses.asdict(report),
                    "runs": runs,
                    "model": record,
                    "trust": dataclasses.asdict(profile) if profile else None,
                }
            )
        )
        return EXIT_OK
    print(render(report, runs))
    if profile is not None and record is not None:
        print("\n".join(["", *render_trust(profile, record)]))
        if args.save_trust:
            print(f"\ntrust profile written to {args.save_trust}: set [local] trust_profile")
    return EXIT_OK


def _estimate(text: str) -> int:
    from triage.evaluation.scoring import estimate_tokens

    return estimate_tokens(text)
