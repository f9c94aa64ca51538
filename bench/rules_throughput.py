"""Rules-tier throughput on the shared mail corpus, as a ratio to a bare stdlib parse.

    python bench/rules_throughput.py [CORPORA]

Both are measured in the same run over the same files (best of several rounds), so the ratio
holds on a noisy machine. Target: the whole rules tier (our parse, automatic-mail detection,
dedup key, keyword rules, risk, extraction, sensitivity, log slicing) costs at most 3x a bare
`email.message_from_bytes`.
"""

from __future__ import annotations

import email
import sys
import time
from collections.abc import Callable
from pathlib import Path

from triage.compose.app import pipeline_options, rules_from
from triage.config.settings import load_settings
from triage.errors import InputError
from triage.parsing import parse_ticket
from triage.rules import evaluate
from triage.rules.automated import detect_automated
from triage.rules.dedup import content_key

ROUNDS = 5


def main() -> None:
    corpora = (
        Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parents[2] / "shared/corpora"
    )
    files = [
        p
        for group in ("email", "spam")
        for p in sorted((corpora / group).rglob("*"))
        if p.is_file()
    ]
    if not files:
        sys.exit(f"no corpus under {corpora}")
    blobs = [p.read_bytes() for p in files]
    settings = load_settings(None, {}).settings
    rules, options = rules_from(settings), pipeline_options(settings)

    def bare() -> None:
        for blob in blobs:
            email.message_from_bytes(blob)

    def rules_tier() -> None:
        for blob in blobs:
            try:
                ticket = parse_ticket(blob, options.limits)
            except InputError:
                continue
            detect_automated(ticket)
            content_key(ticket)
            evaluate(ticket, rules, options.log_slice_lines)

    base = best_of(bare)
    ours = best_of(rules_tier)
    megabytes = sum(map(len, blobs)) / 1e6
    print(f"corpus: {len(blobs)} files, {megabytes:.1f} MB (best of {ROUNDS} rounds)")
    print(f"bare email.message_from_bytes: {len(blobs) / base:8.0f} files/s")
    print(f"triage rules tier:             {len(blobs) / ours:8.0f} tickets/s")
    print(f"ratio rules tier / bare parse: {ours / base:.2f}x  (target <= 3x)")


def best_of(work: Callable[[], None]) -> float:
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


if __name__ == "__main__":
    main()
