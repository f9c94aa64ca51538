"""Rules-tier throughput on the shared mail corpus, as a ratio to a bare stdlib parse.

    python bench/rules_throughput.py [CORPORA]

Both are measured in the same run over the same files, alternating file by file (each file's
bare parse, then its rules tier, in every round; each file's best of the rounds counts), so a
change in the machine's load hits both alike and the ratio holds on a shared machine.
Target: the whole rules tier (our parse, automatic-mail detection,
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
from triage.parsing.language import language_of
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

    def bare(blob: bytes) -> None:
        email.message_from_bytes(blob)

    def rules_tier(blob: bytes) -> None:
        try:
            ticket = parse_ticket(blob, options.limits)
        except InputError:
            return
        detect_automated(ticket)
        content_key(ticket)
        evaluate(ticket, rules, options.log_slice_lines)

    def language(blob: bytes) -> None:
        # Not part of the rules tier: the ticket's language (issue 25), shown beside it.
        try:
            ticket = parse_ticket(blob, options.limits)
        except InputError:
            return
        language_of(f"{ticket.subject}\n{ticket.body}")

    language_of("warm up: the detector loads its models once")
    base, ours, told = alternated(blobs, (bare, rules_tier, language))
    megabytes = sum(map(len, blobs)) / 1e6
    print(f"corpus: {len(blobs)} files, {megabytes:.1f} MB (each file's best of {ROUNDS} rounds)")
    print(f"bare email.message_from_bytes: {len(blobs) / base:8.0f} files/s")
    print(f"triage rules tier:             {len(blobs) / ours:8.0f} tickets/s")
    print(f"ratio rules tier / bare parse: {ours / base:.2f}x  (target <= 3x)")
    print(f"beside it, parse + language:   {told / base:.2f}x a bare parse (issue 25's language)")


def alternated(blobs: list[bytes], works: tuple[Callable[[bytes], None], ...]) -> tuple[float, ...]:
    """Seconds of each work over all files: file by file, every work in turn, each file's
    best of ROUNDS rounds."""
    best = [[float("inf")] * len(blobs) for _ in works]
    for _ in range(ROUNDS):
        for index, blob in enumerate(blobs):
            for column, work in enumerate(works):
                started = time.perf_counter()
                work(blob)
                best[column][index] = min(best[column][index], time.perf_counter() - started)
    return tuple(sum(column) for column in best)


if __name__ == "__main__":
    main()
