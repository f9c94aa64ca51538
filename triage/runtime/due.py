"""When the digest and the report are due. Pure: the clock comes in as an argument.

The digest is made every day at `[digest] at` and covers the day before; the report on
`[report] day` at `[report] at` and covers the month before, both in `[digest] timezone`.
After downtime only the latest missed period is made (coalesced); a period already made is
never made again (the store records it). A period that ended before the store's first record
is not made at all: a first start writes no empty digest for yesterday, no empty report for
last month.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def _clock(at: str) -> time:
    hour, minute = (int(part) for part in at.split(":"))
    return time(hour, minute)


def latest_digest_period(now: datetime, zone: str, at: str) -> date:
    """The day whose digest was due most recently at or before `now`."""
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    run = datetime.combine(local.date(), _clock(at), tz)
    if run > now:
        run -= timedelta(days=1)
    return run.date() - timedelta(days=1)


def latest_report_period(now: datetime, zone: str, day: int, at: str) -> tuple[int, int]:
    """The (year, month) whose report was due most recently at or before `now`."""
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    run = datetime.combine(date(local.year, local.month, day), _clock(at), tz)
    if run > now:
        year, month = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
        run = datetime.combine(date(year, month, day), _clock(at), tz)
    year, month = (run.year, run.month - 1) if run.month > 1 else (run.year - 1, 12)
    return year, month


def before_first_record(period_end: datetime, first_record: datetime | None) -> bool:
    """True when nothing could have been recorded in a period ending at `period_end`: the
    store's first ticket or ledger row (`first_record`, None when the store is empty) came
    at or after its end."""
    return first_record is None or first_record >= period_end
