"""Report and digest generation for a month of 100,000 tickets, against a bare SQL sum.

    python bench/reporting.py [TICKETS]

Seeds a temporary store with a month of results and ledger rows, then times, in the same run,
a bare `SELECT sum(usd)` over the month's ledger, the monthly report (all four files, charts
included) and one day's digest. Target: the report in under two seconds on this machine.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.month_data import fill_month
from triage.config.settings import load_settings
from triage.reporting.render import write_digest, write_report
from triage.store.sqlite import SqliteStore


def main() -> None:
    tickets = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory(prefix="triage-bench-") as scratch:
        folder = Path(scratch)
        settings = load_settings(None, {}, cwd=folder).settings
        store = SqliteStore(folder / "triage.sqlite3")
        started = time.perf_counter()
        fill_month(store, 2026, 10, tickets)
        print(f"seeded {tickets} tickets in {time.perf_counter() - started:.0f} s")

        def best(work: object, rounds: int = 3) -> float:
            times = []
            for _ in range(rounds):
                begun = time.perf_counter()
                work()  # type: ignore[operator]
                times.append(time.perf_counter() - begun)
            return min(times)

        bare = best(
            lambda: store.spent_total(
                datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)
            )
        )
        report = best(lambda: write_report(store, settings, 2026, 10))
        digest = best(lambda: write_digest(store, settings, date(2026, 10, 15)))
        store.close()
    print(f"bare SQL sum over the month's ledger: {bare * 1000:8.1f} ms")
    print(
        f"monthly report (md, html+charts, json, csv): {report * 1000:8.1f} ms "
        f"= {report / bare:.0f}x the bare sum  (target < 2 s)"
    )
    print(f"daily digest (md, html): {digest * 1000:8.1f} ms = {digest / bare:.0f}x the bare sum")


if __name__ == "__main__":
    main()
