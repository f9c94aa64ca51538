"""Scheduled jobs inside `triage run` (APScheduler 3): the daily digest and the monthly report.

Cron triggers in the configured time zone fire them on time; a catch-up check at start and
every ten minutes makes the latest missed period once and retries a job that failed. The
store records each period made, so none is made twice.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

import structlog
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from triage.config.settings import Settings
from triage.logs import crash_site
from triage.ports import JobStore
from triage.reporting.data import day_window, report_month
from triage.reporting.mail import send_digest
from triage.reporting.render import write_digest, write_report
from triage.runtime.due import before_first_record, latest_digest_period, latest_report_period

log = structlog.get_logger("triage.runtime.scheduler")

CATCH_UP_MINUTES = 10


class Jobs:
    """The two jobs, runnable directly (tests, catch-up) or by the scheduler."""

    def __init__(self, store: JobStore, settings: Settings, clock: Callable[[], datetime]) -> None:
        self._store = store
        self.settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        # In a fleet, the jobs run on the node that holds the "jobs" lease (triage.runtime.
        # fleet): whichever daemon is up, one at a time; a period is made once (jobs_done).
        self.gate: Callable[[], bool] = lambda: True

    def digest_due(self) -> str | None:
        digest = self.settings.digest
        if not digest.enabled:
            return None
        day = latest_digest_period(self._clock(), digest.timezone, digest.at)
        if self._store.job_done("digest", day.isoformat()):
            return None
        if before_first_record(day_window(day, digest.timezone).until, self._first_record()):
            return None  # the daemon was not running then: no empty digest
        return day.isoformat()

    def report_due(self) -> str | None:
        report = self.settings.report
        if not report.enabled:
            return None
        year, month = latest_report_period(
            self._clock(), self.settings.digest.timezone, report.day, report.at
        )
        period = f"{year:04d}-{month:02d}"
        if self._store.job_done("report", period):
            return None
        window = report_month(year, month, self.settings.digest.timezone)
        if before_first_record(window.until, self._first_record()):
            return None  # nothing was recorded that month: no empty report
        return period

    def _first_record(self) -> datetime | None:
        """When the store's first ticket or ledger row was written, or None when empty."""
        return self._store.first_record_at()

    def run_due(self) -> list[str]:
        """Make whatever is due and not made yet; a failure is logged and retried later."""
        made: list[str] = []
        with self._lock:
            try:
                if not self.gate():
                    return made  # another node of the fleet runs them
            except Exception as exc:
                log.error("job.gate_failed", retry_in_minutes=CATCH_UP_MINUTES, **crash_site(exc))
                return made
            for kind, due, make in (
                ("digest", self.digest_due, self._make_digest),
                ("report", self.report_due, self._make_report),
            ):
                try:
                    period = due()
                    if period is None:
                        continue
                    make(period)
                    self._store.mark_job_done(kind, period, self._clock())
                    made.append(f"{kind} {period}")
                except Exception as exc:
                    log.error(
                        "job.failed", job=kind, retry_in_minutes=CATCH_UP_MINUTES, **crash_site(exc)
                    )
        return made

    def _make_digest(self, period: str) -> None:
        digest, written = write_digest(
            self._store, self.settings, datetime.fromisoformat(period).date()
        )
        log.info("digest.written", day=period, files=[str(p) for p in written.paths])
        if self.settings.digest.smtp_host and self.settings.digest.recipients:
            send_digest(self.settings.digest, digest, written.paths)
            log.info("digest.mailed", day=period, recipients=len(self.settings.digest.recipients))

    def _make_report(self, period: str) -> None:
        year, month = (int(part) for part in period.split("-"))
        _, written = write_report(self._store, self.settings, year, month, now=self._clock())
        log.info("report.written", month=period, files=[str(p) for p in written.paths])


class Scheduler:
    def __init__(self, jobs: Jobs) -> None:
        self.jobs = jobs
        self._scheduler = BackgroundScheduler(
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600}
        )

    def start(self) -> None:
        self._schedule()
        self._scheduler.start()
        made = self.jobs.run_due()  # a run missed while the daemon was down: made once now
        if made:
            log.info("jobs.caught_up", made=made)

    def reschedule(self, settings: Settings) -> None:
        """A reload: new times, zone or switches apply from now on."""
        self.jobs.settings = settings
        self._scheduler.remove_all_jobs()
        self._schedule()

    def _schedule(self) -> None:
        settings = self.jobs.settings
        zone = settings.digest.timezone
        hour, minute = settings.digest.at.split(":")
        self._scheduler.add_job(
            self.jobs.run_due, CronTrigger(hour=hour, minute=minute, timezone=zone), id="digest"
        )
        hour, minute = settings.report.at.split(":")
        self._scheduler.add_job(
            self.jobs.run_due,
            CronTrigger(day=settings.report.day, hour=hour, minute=minute, timezone=zone),
            id="report",
        )
        self._scheduler.add_job(
            self.jobs.run_due, IntervalTrigger(minutes=CATCH_UP_MINUTES), id="catch-up"
        )

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
