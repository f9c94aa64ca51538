"""When the digest and the report are due, with a fixed clock; and the jobs against a store."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tests.month_data import fill_month
from triage.runtime.due import latest_digest_period, latest_report_period
from triage.runtime.scheduler import Jobs


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "zone", "at", "day"),
    [
        (utc(2026, 11, 25, 7, 0), "UTC", "07:00", date(2026, 11, 24)),
        (utc(2026, 11, 25, 6, 59), "UTC", "07:00", date(2026, 11, 23)),
        (utc(2026, 11, 25, 0, 1), "UTC", "00:00", date(2026, 11, 24)),  # just after midnight
        (utc(2026, 12, 1, 7, 0), "UTC", "07:00", date(2026, 11, 30)),  # month boundary
        (utc(2027, 1, 1, 7, 0), "UTC", "07:00", date(2026, 12, 31)),  # year boundary
        (utc(2026, 11, 25, 6, 0), "Europe/Berlin", "07:00", date(2026, 11, 24)),  # 07:00 CET
        (utc(2026, 11, 25, 5, 59), "Europe/Berlin", "07:00", date(2026, 11, 23)),
        (utc(2026, 11, 24, 23, 30), "Asia/Tokyo", "08:00", date(2026, 11, 24)),  # next day there
        # DST: Berlin goes to summer time on 29 March 2026 (07:00 CEST is 05:00 UTC)...
        (utc(2026, 3, 29, 5, 0), "Europe/Berlin", "07:00", date(2026, 3, 28)),
        (utc(2026, 3, 29, 4, 59), "Europe/Berlin", "07:00", date(2026, 3, 27)),
        # ...and back on 25 October (07:00 CET is 06:00 UTC)
        (utc(2026, 10, 25, 6, 0), "Europe/Berlin", "07:00", date(2026, 10, 24)),
        (utc(2026, 10, 25, 5, 30), "Europe/Berlin", "07:00", date(2026, 10, 23)),
    ],
)
def test_the_digest_due_is_the_day_before_the_latest_run_time(now, zone, at, day):
    assert latest_digest_period(now, zone, at) == day


@pytest.mark.parametrize(
    ("now", "zone", "day", "at", "month"),
    [
        (utc(2026, 11, 1, 6, 0), "UTC", 1, "06:00", (2026, 10)),
        (utc(2026, 11, 1, 5, 59), "UTC", 1, "06:00", (2026, 9)),
        (utc(2026, 11, 25, 12, 0), "UTC", 1, "06:00", (2026, 10)),
        (utc(2027, 1, 1, 6, 0), "UTC", 1, "06:00", (2026, 12)),  # across the year
        (utc(2026, 11, 2, 23, 30), "Asia/Tokyo", 3, "08:00", (2026, 10)),  # 08:30 on the 3rd
        (utc(2026, 11, 2, 23, 30), "Asia/Tokyo", 3, "08:45", (2026, 9)),
        (utc(2026, 11, 3, 0, 0), "Asia/Tokyo", 3, "08:45", (2026, 10)),
    ],
)
def test_the_report_due_is_the_month_before_the_latest_run(now, zone, day, at, month):
    assert latest_report_period(now, zone, day, at) == month


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


def test_a_missed_run_is_made_once_and_never_twice(store, settings):
    fill_month(store, 2026, 10, tickets=200)
    clock = Clock(utc(2026, 11, 4, 9, 0))  # the daemon was down on Nov 1, 2 and 3
    jobs = Jobs(store, settings, clock)
    assert sorted(jobs.run_due()) == ["digest 2026-11-03", "report 2026-10"]  # coalesced
    assert jobs.run_due() == []  # never twice
    reports = sorted(p.name for p in settings.digest.dir.glob("digest-*.md"))
    assert reports == ["digest-2026-11-03.md"]
    clock.moment = utc(2026, 11, 5, 7, 0)
    assert jobs.run_due() == ["digest 2026-11-04"]


def test_a_failing_job_is_logged_and_made_at_the_next_check(store, make_settings, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    settings = make_settings(f"[digest]\ndir = '{blocker}'\n[report]\nenabled = false\n")
    fill_month(store, 2026, 10, tickets=5)
    jobs = Jobs(store, settings, Clock(utc(2026, 11, 4, 9, 0)))
    assert jobs.run_due() == []  # the digest folder cannot be made: logged, not recorded
    blocker.unlink()
    assert jobs.run_due() == ["digest 2026-11-03"]


def test_a_first_start_makes_no_empty_digest_or_report_for_before_it_ran(store, settings):
    jobs = Jobs(store, settings, Clock(utc(2026, 11, 4, 9, 0)))
    assert jobs.run_due() == []  # an empty store: nothing happened yesterday or last month
    assert not settings.digest.dir.exists() or not any(settings.digest.dir.iterdir())


def test_periods_after_the_first_record_are_made_even_when_quiet(store, settings):
    fill_month(store, 2026, 11, tickets=3)  # the first records: November the 1st and later
    first = store.first_record_at()
    assert first is not None and first >= utc(2026, 11, 1, 0, 0)
    jobs = Jobs(store, settings, Clock(utc(2026, 12, 2, 9, 0)))
    # December 1st had no ticket, yet the daemon was running: its digest is made; November's
    # report too; October (before the first record) never.
    assert sorted(jobs.run_due()) == ["digest 2026-12-01", "report 2026-11"]


@pytest.mark.parametrize(
    ("end", "first", "skipped"),
    [
        (utc(2026, 11, 3, 0, 0), None, True),
        (utc(2026, 11, 3, 0, 0), utc(2026, 11, 3, 0, 0), True),
        (utc(2026, 11, 3, 0, 0), utc(2026, 11, 2, 23, 59), False),
    ],
)
def test_before_first_record(end, first, skipped):
    from triage.runtime.due import before_first_record

    assert before_first_record(end, first) is skipped
