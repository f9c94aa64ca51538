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
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import structlog

from triage import cli_replay, cli_reports
from triage.cli_common import (
    EXIT_CONFIG,
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_USAGE,
    Progress,
    files_in,
    open_batch,
    start_errors,
)
from triage.config import LoadedSettings, find_config, load_settings, secret_values
from triage.errors import ConfigError, StoreError
from triage.files import read_file_input
from triage.logs import configure_logging
from triage.ticket import RawInput

log = structlog.get_logger("triage.cli")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
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
    run.set_defaults(handler=_run)

    process = commands.add_parser("process", help="triage files or folders once and exit")
    process.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    process.add_argument("--json", action="store_true", help="print one result per line")
    process.add_argument(
        "--dry-run",
        action="store_true",
        help="write nothing to the store or outbox and spend nothing on paid tiers",
    )
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
    evaluate.set_defaults(handler=cli_reports.evaluate_labels)

    cli_replay.add_parser(commands)

    check = commands.add_parser("check", help="validate the config and reach every enabled part")
    check.set_defaults(handler=_check)
    return parser


def _run(loaded: LoadedSettings, args: argparse.Namespace) -> int:
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
    )
    return daemon.run()


def _process(loaded: LoadedSettings, args: argparse.Namespace) -> int:
    missing = [str(path) for path in args.paths if not path.exists()]
    if missing:
        print(f"triage: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    opened = open_batch(loaded.settings, dry_run=args.dry_run)
    if isinstance(opened, int):
        return opened
    pipeline, store = opened
    failures = 0
    files = list(files_in(args.paths))
    progress = Progress(len(files), enabled=not args.json and sys.stderr.isatty())
    try:
        for path in files:
            try:
                raw = _read_input(path, int(loaded.settings.dropfolder.max_file_mb * 1e6))
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
            if args.json:
                sys.stdout.write(outcome.result.to_json() + "\n")
                sys.stdout.flush()
            progress.step()
    finally:
        progress.done()
        store.close()
    if not args.json:
        print(f"{len(files) - failures} of {len(files)} inputs triaged", file=sys.stderr)
    return EXIT_OK if failures == 0 else EXIT_FAILURE


def _read_input(path: Path, limit: int) -> RawInput:
    """A file as input; one over the limit is quarantined unread, as the drop folder does."""
    with path.open("rb") as handle:
        received_at = datetime.fromtimestamp(os.fstat(handle.fileno()).st_mtime, UTC)
        return read_file_input(handle, path.name, limit, "cli", str(path), received_at)


def _check(loaded: LoadedSettings, _args: argparse.Namespace) -> int:
    from triage.checks import run_checks

    results = run_checks(loaded)
    for check in results:
        mark = "ok  " if check.ok else "FAIL"
        print(f"{mark} {check.name}: {check.detail}")
    return EXIT_OK if all(check.ok for check in results) else EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
