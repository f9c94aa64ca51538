"""When the digest and the report are due. Pure: the clock comes in as an argument.

The digest is made every day at `[digest] at` and covers the day before; the report on
`[report] day` at `[report] at` and covers the month before, both in `[digest] timezone`.
After downtime only the latest missed period is made (coalesced); a period already made is
never made again (the store records it).
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
