"""The reporting commands: `digest`, `report` and `inventory`."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from triage.cli.common import (
    EXIT_FAILURE,
    EXIT_OK,
    Commands,
    open_existing_store,
)
from triage.config.settings import LoadedSettings
from triage.errors import StoreError

if TYPE_CHECKING:
    from triage.ports import Store
    from triage.reporting.render import Written


def register(commands: Commands) -> None:
    daily = commands.add_parser("digest", help="write the daily digest (default: yesterday)")
    daily.add_argument("--date", type=parse_day, help="YYYY-MM-DD")
    daily.set_defaults(handler=digest)

    monthly = commands.add_parser(
        "report", help="write the monthly cost report (default: last month)"
    )
    monthly.add_argument("--month", type=parse_month, help="YYYY-MM")
    monthly.set_defaults(handler=report)

    prompts = commands.add_parser("inventory", help="print the prompt inventory of a month")
    prompts.add_argument("--month", type=parse_month, help="YYYY-MM (default: this month)")
    prompts.add_argument("--json", action="store_true", help="print JSON for scripts")
    prompts.set_defaults(handler=inventory)


_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_MONTH = re.compile(r"(\d{4})-(\d{2})")


def parse_day(text: str) -> date:
    """YYYY-MM-DD, strictly (not 20261124, not 2026-W48-1)."""
    try:
        if not _DAY.fullmatch(text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-24") from None


def parse_month(text: str) -> tuple[int, int]:
    """YYYY-MM, strictly (not 2026-1), as --date is."""
    matched = _MONTH.fullmatch(text)
    if matched is None or not 1 <= int(matched[2]) <= 12:
        raise argparse.ArgumentTypeError(f"{text!r} is not a month like 2026-11")
    return int(matched[1]), int(matched[2])


def _reporting_store(loaded: LoadedSettings) -> Store | int:
    """The store opened read-only: reporting creates and changes nothing. With no store yet
    (nothing triaged) an empty in-memory one, so the digest or report is empty; a store that
    is missing while the outbox holds results is refused (exit 78), as in `process`."""
    from triage.store import open_store

    opened = open_existing_store(loaded.settings)
    if opened is None:
        print(
            f"triage: no store at {loaded.settings.store.path} yet: nothing triaged, "
            "so this is empty",
            file=sys.stderr,
        )
        return open_store(":memory:")
    return opened


def digest(loaded: LoadedSettings, args: argparse.Namespace) -> int:
    from triage.reporting.render import previous_day, write_digest

    settings = loaded.settings
    day = args.date or previous_day(datetime.now(UTC), settings.digest.timezone)
    return _write_and_print(loaded, lambda store: write_digest(store, settings, day)[1])


def report(loaded: LoadedSettings, args: argparse.Namespace) -> int:
    from triage.reporting.render import previous_month, write_report

    settings = loaded.settings
    year, month = args.month or previous_month(datetime.now(UTC), settings.digest.timezone)
    now = datetime.now(UTC)
    return _write_and_print(
        loaded, lambda store: write_report(store, settings, year, month, now=now)[1]
    )


def _write_and_print(loaded: LoadedSettings, write: Callable[[Store], Written]) -> int:
    """Open the store, write the files, print their paths (stdout carries only those)."""
    store = _reporting_store(loaded)
    if isinstance(store, int):
        return store
    try:
        written = write(store)
    except StoreError as exc:
        print(f"triage: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    finally:
        store.close()
    for path in written.paths:
        print(path)
    return EXIT_OK


def inventory(loaded: LoadedSettings, args: argparse.Namespace) -> int:
    import json
    from zoneinfo import ZoneInfo

    from triage.reporting.build import inventory_rows
    from triage.reporting.data import read_period, report_month

    settings = loaded.settings
    zone = settings.digest.timezone
    now = datetime.now(ZoneInfo(zone))
    year, month = args.month or (now.year, now.month)
    store = _reporting_store(loaded)
    if isinstance(store, int):
        return store
    try:
        rows = inventory_rows(read_period(store, report_month(year, month, zone), False).inventory)
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
