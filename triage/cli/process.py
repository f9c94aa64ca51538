"""`triage process`: triage files or folders once, print a table or JSON Lines, and exit."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from triage.cli import show as cli_show
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
    table = None if args.json else cli_show.ProcessTable()
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
