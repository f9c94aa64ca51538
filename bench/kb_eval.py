"""Knowledge suggestions scored on a kb-dev-format folder, through the daemon's own path:

    python bench/kb_eval.py OUTDIR [--min-score X ...] [--max-suggestions N]
                                   [--option lexicon|stems|english]

OUTDIR holds kb/ (the articles), tickets/ and labels.jsonl (see shared/evalsets/kb-dev/
README.md). A config in a temporary folder points `[knowledge] dirs` at OUTDIR/kb; the
index is built by the indexer (as `triage run` builds it), and every ticket goes through the
pipeline of `triage process` (`build_batch`: read, rules, language, the knowledge stage, the
tiers: rules alone here). Printed for each min_score (default: the configured one, then a
sweep): the share of answerable tickets with a right article among the suggestions, the same
for those not in English, the share of unanswerable tickets (answer []) shown a suggestion,
and the share of tickets whose `language` is right. The goals: >= 0.85, >= 0.75, <= 0.10,
>= 0.95. The results are kept, so the sweep re-scores the same suggestions (asked with
min_score 0) rather than triaging again.

`--option` measures the ways of letting a ticket in one language find an article in another
(the same run of everything else): `lexicon` (shipped: each language's Snowball stems, and the
helpdesk words of German, French and Spanish also as English terms, triage/knowledge/
lexicon.py), `stems` (each language's own stems, no lexicon: only words spelt alike in both
languages meet), `english` (every text stemmed as English, no lexicon).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from triage.compose.app import build_batch
from triage.config.settings import load_settings
from triage.knowledge import terms
from triage.result import Result
from triage.ticket import RawInput

SWEEP = (0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7)


def triage_all(root: Path, max_suggestions: int) -> tuple[list[dict[str, object]], list[Result]]:
    labels = [json.loads(line) for line in (root / "labels.jsonl").read_text().splitlines()]
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "config.toml"
        config.write_text(
            f'[store]\npath = "{folder}/triage.sqlite3"\n[outbox]\ndir = "{folder}/outbox"\n'
            f'[knowledge]\ndirs = ["{root / "kb"}"]\nmin_score = 0.0\n'
            f"max_suggestions = {max_suggestions}\n",
            encoding="utf-8",
        )
        settings = load_settings(config, os.environ).settings
        started = time.perf_counter()
        pipeline, store = build_batch(settings)  # builds the index first, as `process` does
        print(f"index built and pipeline ready in {time.perf_counter() - started:.2f} s")
        results = []
        try:
            for label in labels:
                path = root / str(label["file"])
                data = path.read_bytes()
                raw = RawInput.of(
                    data,
                    name=path.name,
                    source="cli",
                    source_ref=str(path),
                    received_at=datetime.fromtimestamp(path.stat().st_mtime, UTC),
                )
                results.append(pipeline.handle(raw).result)
        finally:
            store.close()
    return labels, results


def figures(
    labels: list[dict[str, object]], results: list[Result], min_score: float
) -> tuple[float, float, float]:
    answerable = non_english = right = right_non_english = unanswerable = shown = 0
    for label, result in zip(labels, results, strict=True):
        sources = [s.source for s in result.suggestions if s.score >= min_score]
        answer = list(label["answer"])  # type: ignore[call-overload]
        if answer:
            hit = any(source in answer for source in sources)
            answerable += 1
            right += hit
            if label["language"] != "en":
                non_english += 1
                right_non_english += hit
        else:
            unanswerable += 1
            shown += bool(sources)
    return (
        right / max(answerable, 1),
        right_non_english / max(non_english, 1),
        shown / max(unanswerable, 1),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--min-score", type=float, action="append")
    parser.add_argument("--max-suggestions", type=int, default=3)
    parser.add_argument("--option", choices=("lexicon", "stems", "english"), default="lexicon")
    args = parser.parse_args(argv)
    # The alternatives are measured by switching the shipped code's parts off in this process.
    if args.option == "stems":
        terms._lexicon = lambda language: ({}, {})  # type: ignore[assignment]
    elif args.option == "english":
        terms.TRANSLATED = ()
    configured = load_settings(None, {}).settings.knowledge.min_score
    thresholds = args.min_score or [configured, *SWEEP]
    labels, results = triage_all(args.root, args.max_suggestions)
    languages = sum(
        r.language == label["language"] for label, r in zip(labels, results, strict=True)
    )
    print(f"option {args.option}: tickets {len(results)}, language right "
          f"{languages / len(results):.3f}")  # fmt: skip
    print("min_score  answerable  non-English  unanswerable shown")
    for threshold in thresholds:
        answered, foreign, shown = figures(labels, results, threshold)
        mark = "  (configured)" if threshold == configured and threshold is thresholds[0] else ""
        print(f"{threshold:9.2f}  {answered:10.3f}  {foreign:11.3f}  {shown:18.3f}{mark}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
