"""The digest, the monthly report and the prompt inventory, against the ledger."""

from __future__ import annotations

import csv
import json
from datetime import date

import pytest

from tests.month_data import fill_month
from triage.cli import main
from triage.reporting.build import build_digest
from triage.reporting.data import day_window, read_period
from triage.reporting.render import previous_day, previous_month, write_digest, write_report


@pytest.fixture
def month(store):
    return fill_month(store, 2026, 10, tickets=600)


def test_the_report_totals_come_from_the_ledger_and_agree_with_the_results(month, store, settings):
    report, written = write_report(store, settings, 2026, 10)
    assert report.total_usd == pytest.approx(month)
    assert round(report.total_usd, 2) == round(report.results_usd, 2)  # to the cent
    assert sum(report.by_tier.values()) == pytest.approx(report.total_usd)
    assert sum(report.by_workflow.values()) == pytest.approx(report.total_usd)
    assert report.tickets == 600
    names = sorted(path.name for path in written.paths)
    assert names == [f"report-2026-10.{s}" for s in ("csv", "html", "json", "md")]
    document = json.loads((settings.report.dir / "report-2026-10.json").read_text())
    for key in (
        "total_usd",
        "by_workflow",
        "by_tier",
        "baseline_all_paid_usd",
        "savings_usd",
        "tickets",
    ):
        assert key in document
    assert document["savings_usd"] == pytest.approx(
        document["baseline_all_paid_usd"] - document["total_usd"], abs=1e-5
    )
    assert document["cache"]["hits"] > 0 and document["cache"]["saved_usd"] > 0
    with (settings.report.dir / "report-2026-10.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert sum(float(row["usd"]) for row in rows) == pytest.approx(month, abs=1e-4)


def test_the_report_html_embeds_its_charts_and_reads_well(month, store, settings):
    write_report(store, settings, 2026, 10)
    html = (settings.report.dir / "report-2026-10.html").read_text()
    assert html.count("data:image/png;base64,") == 2
    assert "Cost per day by tier" in html and "Share of tickets per tier" in html
    assert "Prompt inventory" in html and "analysis" in html


def test_the_digest_shows_high_risk_first_with_next_steps_and_the_days_cost(month, store, settings):
    day = next(  # a day of the seeded month that had a security incident
        date(2026, 10, d)
        for d in range(1, 29)
        if build_digest(read_period(store, day_window(date(2026, 10, d), "UTC"), True)).high_risk
    )
    data = read_period(store, day_window(day, "UTC"), with_tickets=True)
    digest = build_digest(data)
    assert digest.tickets == len(data.tickets) > 0
    assert all(t.risk == "high" for t in digest.high_risk)
    assert digest.total_usd == pytest.approx(sum(r.usd for r in data.by_workflow_tier))
    assert digest.total_usd == pytest.approx(sum(t.cost_usd for t in data.tickets))
    _, written = write_digest(store, settings, day)
    markdown = written.paths[0].read_text()
    assert markdown.index("P1 and P2") < markdown.index("P3 and P4 by category")
    assert "Reset the password" in markdown
    html = written.paths[1].read_text()
    assert "<style" not in html.split("<body")[1]  # inline styles only: mail clients


def test_the_digest_lists_what_needs_review_and_storms(pipeline, store, settings):
    from tests.conftest import mail, raw

    pipeline.handle(raw(b'{"subject": "x"}', name="bad.json"))
    for n in range(3):
        pipeline.handle(
            raw(
                mail("VPN", "down", sender=f"u{n}@example.com", message_id="<same@x>"),
                name=f"{n}.eml",
            )
        )
    digest = build_digest(read_period(store, day_window(date(2026, 11, 2), "UTC"), True))
    assert [t.status for t in digest.quarantine] == ["quarantined"]
    assert "JSON" in (digest.quarantine[0].reason or "")
    assert "quarantined" not in {t.status for t, _ in digest.review}
    assert digest.quarantine_total == 1
    assert digest.duplicates == 2


def test_the_inventory_lists_each_template_with_calls_tokens_and_cost(
    month, store, settings, tmp_path, capsys
):
    config = tmp_path / "config.toml"
    assert main(["--config", str(config), "inventory", "--month", "2026-10", "--json"]) == 0
    inventory = json.loads(capsys.readouterr().out)
    templates = {(row["template"], row["tier"]) for row in inventory["templates"]}
    assert ("triage", "local") in templates and ("analysis", "paid") in templates
    total = sum(row["usd"] for row in inventory["templates"])
    assert total == pytest.approx(month, abs=1e-3)
    assert main(["--config", str(config), "inventory", "--month", "2026-10"]) == 0
    table = capsys.readouterr().out
    assert table.splitlines()[0].split()[:4] == ["template", "version", "tier", "workflow"]


def test_the_commands_write_the_files_and_print_their_paths(month, settings, tmp_path, capsys):
    config = tmp_path / "config.toml"
    assert main(["--config", str(config), "report", "--month", "2026-10"]) == 0
    assert len(capsys.readouterr().out.split()) == 4
    assert main(["--config", str(config), "digest", "--date", "2026-10-03"]) == 0
    assert [p.rsplit(".", 1)[1] for p in capsys.readouterr().out.split()] == ["md", "html"]
    with pytest.raises(SystemExit) as usage:
        main(["--config", str(config), "report", "--month", "2026-13"])
    assert usage.value.code == 2


def test_yesterday_and_last_month_follow_the_time_zone():
    from datetime import UTC, datetime

    late = datetime(2026, 11, 1, 23, 30, tzinfo=UTC)  # already Nov 2 in Berlin
    assert previous_day(late, "UTC") == date(2026, 10, 31)
    assert previous_day(late, "Europe/Berlin") == date(2026, 11, 1)
    assert previous_month(datetime(2026, 1, 1, 0, 30, tzinfo=UTC), "UTC") == (2025, 12)
    assert previous_month(datetime(2026, 1, 31, 23, 30, tzinfo=UTC), "Asia/Tokyo") == (2026, 1)


def test_the_report_has_subtotals_a_total_line_and_thousands_separators(month, store, settings):
    report, _ = write_report(store, settings, 2026, 10)
    markdown = (settings.report.dir / "report-2026-10.md").read_text()
    assert "| **security** | **subtotal** |" in markdown
    total_line = next(line for line in markdown.splitlines() if line.startswith("| **Total** | |"))
    assert f"**{report.calls:,}**" in total_line and f"**${report.total_usd:,.2f}**" in total_line
    biggest = max(report.by_workflow_groups, key=lambda g: g.tokens_in)
    assert biggest.tokens_in >= 1000 and f"**{biggest.tokens_in:,}**" in markdown  # 1,234
    groups = report.inventory_groups
    assert {g.name for g in groups} == {"triage", "analysis"}
    assert sum(g.usd for g in groups) == pytest.approx(report.total_usd, abs=1e-4)
    assert "| **analysis** | | | **subtotal** |" in markdown


def test_dollars_have_two_decimals_and_per_call_prices_four():
    from triage.reporting.render import usd, usd_per_call

    assert usd(1234.5) == "$1,234.50"
    assert usd(0.004) == "< $0.01"
    assert usd(0) == "$0.00"
    assert usd_per_call(0.01234) == "$0.0123"


def test_the_most_expensive_tickets_show_their_subjects_scrubbed(store, settings):
    from datetime import UTC, datetime

    from triage.result import Cost, Result, Route
    from triage.store import LedgerEntry, TicketKeys

    at = datetime(2026, 10, 5, 9, tzinfo=UTC)
    result = Result.model_validate(
        {
            "id": "t-costly",
            "source": "cli",
            "source_ref": "/in/x.eml",
            "message_id": None,
            "received_at": at,
            "from": "ann@example.com",
            "subject": "Call me on +49 170 1234567 about ann@example.com",
            "status": "triaged",
            "status_reason": None,
            "route": Route(tier="paid", reason="seeded"),
            "cost": Cost(usd=0.05),
            "workflow": "security",
        }
    )
    store.save(result, TicketKeys(None), at)
    store.book(
        LedgerEntry(
            at, "t-costly", "security", "paid", "m", "analysis", "1", 1, 1, 0, 1.0, 0.05, 0.05, "ok"
        )
    )
    report, _ = write_report(store, settings, 2026, 10)
    [costly] = report.expensive
    assert costly.ticket == "t-costly" and "Call me on" in costly.subject
    assert "1234567" not in costly.subject and "ann@example.com" not in costly.subject
    html = (settings.report.dir / "report-2026-10.html").read_text()
    assert "Call me on" in html and "1234567" not in html


def test_the_report_compares_with_last_month_and_projects_the_month_end(store, make_settings):
    from datetime import UTC, datetime

    fill_month(store, 2026, 9, tickets=100, seed=3)
    fill_month(store, 2026, 10, tickets=100, seed=4)
    settings = make_settings("[paid]\nenabled = true\napi_key = 'k'\nmonthly_budget_usd = 1.0\n")
    middle = datetime(2026, 10, 16, 0, 0, tzinfo=UTC)
    report, _ = write_report(store, settings, 2026, 10, now=middle)
    assert report.previous is not None and report.previous.tickets == 100
    assert report.previous_month == "2026-09"
    projection = report.projection
    assert projection is not None and not projection.complete
    assert projection.projected_usd == pytest.approx(report.total_usd / (15 / 31))
    # paid is enabled; runpod is not, yet spent that month, so its budget counts too
    assert {b.tier: b.budget_usd for b in report.budgets} == {"paid": 1.0, "runpod": 20.0}
    assert projection.budget_usd == 21.0
    finished, _ = write_report(store, settings, 2026, 10)
    assert finished.projection is not None and finished.projection.complete
    assert finished.projection.projected_usd == pytest.approx(finished.total_usd)
    markdown = (settings.report.dir / "report-2026-10.md").read_text()
    assert "(2026-09: $" in markdown and "of the budget of $21.00" in markdown
    document = json.loads((settings.report.dir / "report-2026-10.json").read_text())
    assert document["previous_month"]["tickets"] == 100
    assert report.daily_budget_usd == pytest.approx(21.0 / 31)


def test_a_rules_only_month_says_so_in_one_sentence(pipeline, store, settings):
    from tests.conftest import mail, raw

    for n in range(3):
        pipeline.handle(raw(mail(f"VPN down {n}", "help"), name=f"{n}.eml"))
    report, _ = write_report(store, settings, 2026, 11)
    assert report.rules_only
    html = (settings.report.dir / "report-2026-11.html").read_text()
    assert "All 3 tickets of 2026-11 were answered by the rules tier" in html
    assert "data:image/png" not in html and "<table" not in html
    markdown = (settings.report.dir / "report-2026-11.md").read_text()
    assert "answered by the rules tier" in markdown and "|" not in markdown


def test_a_sliver_of_a_budget_is_not_rounded_away():
    from triage.reporting.render import percent

    assert [percent(x) for x in (0.0, 0.004, 0.006, 0.25)] == ["0%", "< 1%", "1%", "25%"]


def _call_at(store, moment, usd: float) -> None:
    from triage.store import LedgerEntry

    store.book(
        LedgerEntry(
            moment, None, "vpn", "paid", "m", "triage", "1", 100, 10, 0, 1.0, usd, usd, "ok"
        )
    )


@pytest.mark.parametrize(
    ("year", "month", "calls", "days"),
    [
        # Berlin goes to summer time on 29 March 2026 (+1 -> +2 hours).
        (
            2026,
            3,
            [(2026, 3, 1, 0, 30, 1.0), (2026, 3, 30, 22, 30, 2.0), (2026, 3, 30, 21, 59, 4.0)],
            {"2026-03-01": 1.0, "2026-03-30": 4.0, "2026-03-31": 2.0},
        ),
        # ...and back to winter time on 25 October 2026 (+2 -> +1 hours).
        (
            2026,
            10,
            [(2026, 9, 30, 22, 30, 1.0), (2026, 10, 26, 22, 30, 2.0), (2026, 10, 26, 23, 5, 4.0)],
            {"2026-10-01": 1.0, "2026-10-26": 2.0, "2026-10-27": 4.0},
        ),
    ],
)
def test_the_daily_cost_chart_counts_each_call_on_its_local_day_across_a_clock_change(
    store, make_settings, year, month, calls, days
):
    from datetime import UTC, datetime

    for y, m, d, hour, minute, usd in calls:
        _call_at(store, datetime(y, m, d, hour, minute, tzinfo=UTC), usd)
    settings = make_settings("[digest]\ntimezone = 'Europe/Berlin'\n")
    report, _ = write_report(store, settings, year, month)
    assert {day: tiers["paid"] for day, tiers in report.daily.items()} == days
