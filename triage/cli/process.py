"""`triage process`: triage files or folders once, print a table or JSON Lines, and exit."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from triage.cli.common import (
    EXIT_CONFIG,
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_USAGE,
    NEW_STORE_HELP,
    Commands,
    open_batch,
    plural,
    read_input,
    ticket_files,
)
from triage.config.settings import LoadedSettings
from triage.errors import StoreError
from triage.redaction import published
from triage.result import Result
from triage.store.guard import missing_store


def register(commands: Commands) -> None:
    process = commands.add_parser("process", help="triage files or folders once and exit")
    process.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    process.add_argument("--json", action="store_true", help="print one result per line")
    process.add_argument(
        "--dry-run",
        action="store_true",
        help="write nothing to the store or outbox and spend nothing on paid tiers",
    )
    process.add_argument("--new-store", action="store_true", help=NEW_STORE_HELP)
    process.set_defaults(handler=_process)


def _process(loaded: LoadedSettings, args: argparse.Namespace) -> int:
    missing = [str(path) for path in args.paths if not path.exists()]
    if missing:
        print(f"triage: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    settings = loaded.settings
    if not args.dry_run and not args.new_store:
        problem = missing_store(settings.store.path, settings.outbox.dir)
        if problem:
            print(f"triage: {problem}", file=sys.stderr)
            return EXIT_CONFIG
    opened = open_batch(loaded.settings, dry_run=args.dry_run)
    if isinstance(opened, int):
        return opened
    pipeline, store = opened
    failures = stored = 0
    files, skipped = ticket_files(args.paths)
    if skipped:
        names = ", ".join(str(path) for path in skipped[:5])
        more = f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
        that = "file that is not a ticket" if len(skipped) == 1 else "files that are not tickets"
        print(
            f"triage: skipped {len(skipped)} {that} (not a mail, a JSON ticket or an"
            f" .eml/.txt/.md file; .csv and .jsonl are history or labels): {names}{more}",
            file=sys.stderr,
        )
    table = None if args.json else ProcessTable()
    statuses: Counter[str] = Counter()
    try:
        for path in files:
            try:
                raw = read_input(path, int(loaded.settings.dropfolder.max_file_mb * 1e6))
            except OSError as exc:
                print(f"triage: cannot read {path}: {exc.strerror}", file=sys.stderr)
                failures += 1
                continue
            try:
                outcome = pipeline.handle(raw)
            except StoreError as exc:
                print(f"triage: {path}: {exc}", file=sys.stderr)
                failures += 1
                continue
            statuses[outcome.result.status] += 1
            if table is None:
                sys.stdout.write(published(outcome.result).to_json() + "\n")
                sys.stdout.flush()
            else:
                table.row(path, outcome.result, stored=not outcome.new)
                stored += not outcome.new
    finally:
        store.close()
    if table is not None:
        table.footer(stored)
    if not args.json:
        print(summary_line(statuses, failures), file=sys.stderr)
    return EXIT_OK if failures == 0 else EXIT_FAILURE


def summary_line(statuses: Counter[str], failures: int) -> str:
    """ "73 results (72 triaged, 1 quarantined)", and the inputs that got none."""
    order = ("triaged", "duplicate", "ignored", "quarantined")
    parts = [f"{statuses[s]} {s}" for s in order if statuses[s]]
    parts += [f"{n} {s}" for s, n in sorted(statuses.items()) if s not in order]
    line = plural(sum(statuses.values()), "result")
    if parts:
        line += f" ({', '.join(parts)})"
    if failures:
        line += f"; {plural(failures, 'input')} got no result (see above)"
    return line


class ProcessTable:
    """`process` without --json: one line per input as it is done, under a header."""

    COLUMNS = (("file", 28), ("status", 11), ("category", 9), ("prio", 4), ("risk", 6), ("tier", 6))

    def __init__(self, stream: Any = None) -> None:
        self._stream = stream or sys.stdout
        self._header = False

    def row(self, path: Path, result: Result, stored: bool) -> None:
        if not self._header:
            head = "  ".join(f"{name:<{width}}" for name, width in self.COLUMNS)
            self._stream.write(f"{head}  reason\n")
            self._header = True
        status = result.status + ("*" if stored else "")
        cells = (
            _fit(path.name, 28),
            status,
            result.category,
            result.priority,
            result.risk,
            result.route.tier,
        )
        line = "  ".join(f"{cell:<{w}}" for cell, (_, w) in zip(cells, self.COLUMNS, strict=True))
        self._stream.write(f"{line}  {_fit(one_line_reason(result), 60)}\n")
        self._stream.flush()

    def footer(self, stored: int) -> None:
        if stored:
            self._stream.write(f"* handled before: the stored result ({plural(stored, 'input')})\n")


def one_line_reason(result: Result) -> str:
    """Why, in a line: the status reason, else the rules or the tier that decided."""
    if result.status != "triaged" and result.status_reason:
        return result.status_reason
    return result.route.reason


def _fit(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
