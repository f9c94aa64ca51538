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
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from triage.config import LoadedSettings, find_config, load_settings, secret_values
from triage.errors import ConfigError, StoreError
from triage.logs import configure_logging

if TYPE_CHECKING:
    from triage.store import SqliteStore

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_CONFIG = 0, 1, 2, 78

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
    digest.add_argument("--date", type=_day, help="YYYY-MM-DD")
    digest.set_defaults(handler=_digest)

    report = commands.add_parser(
        "report", help="write the monthly cost report (default: last month)"
    )
    report.add_argument("--month", type=_month, help="YYYY-MM")
    report.set_defaults(handler=_report)

    inventory = commands.add_parser("inventory", help="print the prompt inventory of a month")
    inventory.add_argument("--month", type=_month, help="YYYY-MM (default: this month)")
    inventory.add_argument("--json", action="store_true", help="print JSON for scripts")
    inventory.set_defaults(handler=_inventory)

    evaluate = commands.add_parser(
        "eval", help="score a labelled set (JSON Lines) through the pipeline in dry-run"
    )
    evaluate.add_argument("labels", type=Path, metavar="LABELS.jsonl")
    evaluate.add_argument("--json", action="store_true", help="print the report as JSON")
    evaluate.set_defaults(handler=_eval)

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
    start_errors: tuple[type[Exception], ...] = (StoreError, *_model_errors())
    try:
        app = build_app(loaded.settings, stop=stop)
    except ConfigError as exc:
        print(f"triage: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except start_errors as exc:
        print(f"triage: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    log.info("config.loaded", path=str(loaded.source) if loaded.source else "built-in defaults")

    def reload() -> bool:
        """SIGHUP: read the config again; a broken one is refused and the running one stays."""
        try:
            new = load_settings(loaded.source, os.environ, Path.cwd()).settings
        except ConfigError as exc:
            log.error(
                "config.reload_refused",
                error=str(exc),
                hint="the running configuration stays; fix the file and reload again",
            )
            return False
        restart = app.apply(new)
        log.info(
            "config.reloaded",
            path=str(loaded.source) if loaded.source else "defaults",
            needs_restart=restart,
        )
        return True

    scheduler = app.scheduler
    daemon = Daemon(
        app.connectors,
        app.stop,
        app.close,
        notifier=Notifier(os.environ),
        status=app.status_line,
        reload=reload,
        start_jobs=scheduler.start if scheduler else lambda: None,
        stop_jobs=scheduler.shutdown if scheduler else lambda: None,
    )
    return daemon.run()


def _process(loaded: LoadedSettings, args: argparse.Namespace) -> int:
    from triage.compose import (
        build_escalator,
        build_local_model,
        build_offloader,
        build_pipeline,
    )
    from triage.dryrun import DryRunStore
    from triage.outbox import Outbox
    from triage.store import SqliteStore
    from triage.ticket import RawInput

    settings = loaded.settings
    missing = [str(path) for path in args.paths if not path.exists()]
    if missing:
        print(f"triage: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    start_errors: tuple[type[Exception], ...] = (StoreError, *_model_errors())
    try:
        local = build_local_model(settings)
        store: SqliteStore | DryRunStore
        escalator = offloader = None  # a dry run spends nothing
        if args.dry_run:
            store = DryRunStore(settings.store.path)
        else:
            store = real = SqliteStore(settings.store.path)
            escalator = build_escalator(settings, real)
            offloader = build_offloader(settings, real)
    except ConfigError as exc:
        print(f"triage: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except start_errors as exc:
        print(f"triage: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    sink = None if args.dry_run else Outbox(settings.outbox.dir)
    pipeline = build_pipeline(
        settings,
        store,
        sink,
        local=local,
        escalator=escalator,
        dry_run=args.dry_run,
        offloader=offloader,
    )
    failures = 0
    files = list(_files(args.paths))
    progress = _Progress(len(files), enabled=not args.json and sys.stderr.isatty())
    try:
        for path in files:
            try:
                data = path.read_bytes()
            except OSError as exc:
                print(f"triage: cannot read {path}: {exc.strerror}", file=sys.stderr)
                failures += 1
                continue
            raw = RawInput.of(
                data,
                name=path.name,
                source="cli",
                source_ref=str(path),
                received_at=datetime.fromtimestamp(path.stat().st_mtime, UTC),
            )
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


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-24") from None


def _month(text: str) -> tuple[int, int]:
    try:
        year, month = (int(part) for part in text.split("-"))
        if not 1 <= month <= 12:
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a month like 2026-11") from None
    return year, month


def _reporting_store(loaded: LoadedSettings) -> SqliteStore | None:
    from triage.store import SqliteStore

    try:
        return SqliteStore(loaded.settings.store.path)
    except StoreError as exc:
        print(f"triage: {exc}", file=sys.stderr)
        return None


def _digest(loaded: LoadedSettings, args: argparse.Namespace) -> int:
    from triage.reporting.render import previous_day, write_digest

    settings = loaded.settings
    store = _reporting_store(loaded)
    if store is None:
        return EXIT_FAILURE
    day = args.date or previous_day(datetime.now(UTC), settings.digest.timezone)
    try:
        _, written = write_digest(store, settings, day)
    finally:
        store.close()
    for path in written.paths:
        print(path)
    return EXIT_OK


def _report(loaded: LoadedSettings, args: argparse.Namespace) -> int:
    from triage.reporting.render import previous_month, write_report

    settings = loaded.settings
    store = _reporting_store(loaded)
    if store is None:
        return EXIT_FAILURE
    year, month = args.month or previous_month(datetime.now(UTC), settings.digest.timezone)
    try:
        _, written = write_report(store, settings, year, month)
    finally:
        store.close()
    for path in written.paths:
        print(path)
    return EXIT_OK


def _inventory(loaded: LoadedSettings, args: argparse.Namespace) -> int:
    import json
    from zoneinfo import ZoneInfo

    from triage.reporting.build import inventory_rows
    from triage.reporting.data import month_window, read_period

    settings = loaded.settings
    zone = settings.digest.timezone
    now = datetime.now(ZoneInfo(zone))
    year, month = args.month or (now.year, now.month)
    store = _reporting_store(loaded)
    if store is None:
        return EXIT_FAILURE
    try:
        rows = inventory_rows(read_period(store, month_window(year, month, zone), False).inventory)
    finally:
        store.close()
    if args.json:
        print(json.dumps({"month": f"{year:04d}-{month:02d}", "templates": rows}))
        return EXIT_OK
    header = (
        "template",
        "version",
        "tier",
        "workflow",
        "calls",
        "avg in",
        "avg out",
        "tokens in",
        "tokens out",
        "USD",
    )
    lines = [header] + [
        (
            r["template"],
            r["version"],
            r["tier"],
            r["workflow"],
            str(r["calls"]),
            str(r["avg_tokens_in"]),
            str(r["avg_tokens_out"]),
            str(r["tokens_in"]),
            str(r["tokens_out"]),
            f"{r['usd']:.4f}",
        )
        for r in rows
    ]
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(header))]
    for line in lines:
        print(
            "  ".join(
                str(cell).rjust(width) if index >= 4 else str(cell).ljust(width)
                for index, (cell, width) in enumerate(zip(line, widths, strict=True))
            )
        )
    if not rows:
        print(f"(no model calls booked in {year:04d}-{month:02d})")
    return EXIT_OK


def _eval(loaded: LoadedSettings, args: argparse.Namespace) -> int:
    import dataclasses
    import json

    from models.prompt import load_prompt
    from triage.compose import (
        build_local_model,
        build_pipeline,
        pipeline_options,
        prices,
        rules_from,
    )
    from triage.context import compact_text
    from triage.dryrun import DryRunStore
    from triage.errors import InputError
    from triage.evaluation import Scored, estimate_tokens, load_labels, render, score
    from triage.parsing import parse_ticket
    from triage.rules import evaluate
    from triage.ticket import RawInput

    settings = loaded.settings
    try:
        labels = load_labels(args.labels)
    except (OSError, InputError) as exc:
        print(f"triage: {exc}", file=sys.stderr)
        return EXIT_USAGE
    local = build_local_model(settings)
    store = DryRunStore(None)  # the labelled set alone: no history from the real store
    pipeline = build_pipeline(settings, store, None, local=local, dry_run=True)
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
        result = pipeline.handle(raw).result
        paid_tokens = 0
        try:
            ticket = parse_ticket(data, options.limits)
            verdict = evaluate(ticket, rules, options.log_slice_lines)
            paid_tokens = estimate_tokens(compact_text(ticket, verdict, 12_000, redacted=True))
        except InputError:
            pass
        rows.append(Scored(label, result, estimate_tokens(data), paid_tokens))
    store.close()
    system = estimate_tokens(load_prompt("analysis").system)
    report = score(rows, prices(settings).get(settings.paid.model), system)
    if args.json:
        print(json.dumps(dataclasses.asdict(report)))
    else:
        print(render(report))
    return EXIT_OK


def _model_errors() -> tuple[type[Exception], ...]:
    """The start-up errors of the model tiers that are configured (imported lazily)."""
    try:
        from models.local import LocalModelError
    except ImportError:  # llama-cpp-python not installed: [local] cannot be enabled anyway
        return ()
    return (LocalModelError,)


def _files(paths: Sequence[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink())
        else:
            yield path


class _Progress:
    """A one-line counter on a terminal for long runs; silent otherwise."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.count, self.enabled = total, 0, enabled and total > 20

    def step(self) -> None:
        self.count += 1
        if self.enabled and (self.count % 10 == 0 or self.count == self.total):
            print(f"\r{self.count}/{self.total}", end="", file=sys.stderr, flush=True)

    def done(self) -> None:
        if self.enabled:
            print(file=sys.stderr)


def _check(loaded: LoadedSettings, _args: argparse.Namespace) -> int:
    from triage.checks import run_checks

    results = run_checks(loaded)
    for check in results:
        mark = "ok  " if check.ok else "FAIL"
        print(f"{mark} {check.name}: {check.detail}")
    return EXIT_OK if all(check.ok for check in results) else EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
