"""`triage [--config PATH] COMMAND`: the command line of CONTRACT.md.

Exit codes: 0 ok, 1 failure, 2 usage, 78 bad configuration. Logs go to stderr; stdout carries
only the command's output.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from triage import cli_learn, cli_replay, cli_reports, cli_show
from triage.cli_common import (
    EXIT_CONFIG,
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_USAGE,
    open_batch,
    plural,
    read_input,
    start_errors,
    ticket_files,
)
from triage.config import LoadedSettings, find_config, load_settings, secret_values
from triage.errors import ConfigError, StoreError
from triage.logs import configure_logging
from triage.redaction import published
from triage.store_guard import missing_store

if TYPE_CHECKING:
    from triage.store_guard import DaemonLock

log = structlog.get_logger("triage.cli")

NEW_STORE_HELP = (
    "start with an empty store although the outbox holds results of an earlier one "
    "(forgets which inputs were triaged and what this month cost)"
)


def main(argv: Sequence[str] | None = None) -> int:
    # SIGHUP is deferred from here on (from the first instruction, run as `triage`).
    from triage import hangup

    parser = _parser()
    args = parser.parse_args(argv)
    if args.command != "run" and hangup.take_over(signal.SIG_DFL):
        os.kill(os.getpid(), signal.SIGHUP)  # one came while starting: end as it would have
    # Files the daemon writes (store, outbox, .error notes) are not world-readable.
    os.umask(0o027)
    try:
        loaded = load_settings(
            find_config(args.config, os.environ, Path.cwd()), os.environ, Path.cwd()
        )
    except ConfigError as exc:
        configure_logging()
        print(f"triage: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    settings = loaded.settings
    configure_logging(settings.log.level, settings.log.format, secrets=secret_values(settings))
    command: int = args.handler(loaded, args)
    return command


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="triage",
        description="IT-helpdesk ticket triage: rules first, local model second, paid last.",
    )
    parser.add_argument(
        "--config",
        type=Path,
        help="config file (default: $TRIAGE_CONFIG, ./config.toml, /etc/triage/config.toml)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run the daemon until SIGTERM/SIGINT")
    run.add_argument("--new-store", action="store_true", help=NEW_STORE_HELP)
    run.set_defaults(handler=_run)

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

    digest = commands.add_parser("digest", help="write the daily digest (default: yesterday)")
    digest.add_argument("--date", type=cli_reports.parse_day, help="YYYY-MM-DD")
    digest.set_defaults(handler=cli_reports.digest)

    report = commands.add_parser(
        "report", help="write the monthly cost report (default: last month)"
    )
    report.add_argument("--month", type=cli_reports.parse_month, help="YYYY-MM")
    report.set_defaults(handler=cli_reports.report)

    inventory = commands.add_parser("inventory", help="print the prompt inventory of a month")
    inventory.add_argument(
        "--month", type=cli_reports.parse_month, help="YYYY-MM (default: this month)"
    )
    inventory.add_argument("--json", action="store_true", help="print JSON for scripts")
    inventory.set_defaults(handler=cli_reports.inventory)

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
    evaluate.set_defaults(handler=cli_reports.evaluate_labels)

    cli_replay.add_parser(commands)
    cli_show.add_parsers(commands)
    cli_learn.add_parsers(commands)

    check = commands.add_parser("check", help="validate the config and reach every enabled part")
    check.set_defaults(handler=_check)
    return parser


def _run(loaded: LoadedSettings, args: argparse.Namespace) -> int:
    from triage.store_guard import DaemonLock, StoreLocked

    settings = loaded.settings
    problem = None if args.new_store else missing_store(settings.store.path, settings.outbox.dir)
    if problem:
        print(f"triage: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        lock = DaemonLock(settings.store.path)
    except StoreLocked as exc:
        print(f"triage: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except OSError as exc:
        print(f"triage: cannot lock the store {settings.store.path}: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    try:
        return _run_locked(loaded, lock)
    finally:
        lock.release()


def _run_locked(loaded: LoadedSettings, lock: DaemonLock) -> int:
    from triage import hangup
    from triage.compose import build_app
    from triage.daemon import Daemon
    from triage.notify import Notifier

    # A stop asked for while starting (loading a model can take seconds) is honoured too.
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        app = build_app(loaded.settings, stop=stop)
    except ConfigError as exc:
        print(f"triage: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except start_errors() as exc:
        print(f"triage: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    log.info("config.loaded", path=str(loaded.source) if loaded.source else "built-in defaults")

    def reload() -> bool:
        """SIGHUP: read the config again; a broken one is refused and the running one stays."""
        try:
            new = load_settings(loaded.source, os.environ, Path.cwd()).settings
            restart = app.apply(new)
        except ConfigError as exc:
            log.error(
                "config.reload_refused",
                error=str(exc),
                hint="the running configuration stays; fix the file and reload again",
            )
            return False
        log.info(
            "config.reloaded",
            path=str(loaded.source) if loaded.source else "defaults",
            needs_restart=restart,
        )
        return True

    daemon = Daemon(
        app.connectors,
        app.stop,
        app.close,
        notifier=Notifier(os.environ),
        status=app.status_line,
        reload=reload,
        start_jobs=app.start_jobs,  # the scheduler, delivery senders, metrics
        stop_jobs=app.stop_jobs,
        health=app.store.identity_problem,
        publish=lock.publish,
    )
    return daemon.run(reload_pending=hangup.hangup_pending)


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


def _check(loaded: LoadedSettings, _args: argparse.Namespace) -> int:
    from triage.checks import run_checks

    results = run_checks(loaded)
    for check in results:
        mark = "ok  " if check.ok else "FAIL"
        print(f"{mark} {check.name}: {check.detail}")
    if all(check.ok for check in results):
        return EXIT_OK
    return EXIT_CONFIG if any(c.config for c in results if not c.ok) else EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
