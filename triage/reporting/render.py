"""Writing the digest and the report: Jinja2 templates, matplotlib charts, JSON and CSV."""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from triage.config.settings import Settings
from triage.ports import ReportStore
from triage.redaction import scrub_text
from triage.reporting.build import Budget, Digest, Report, build_digest, build_report
from triage.reporting.data import day_window, month_totals, read_period, report_month
from triage.reporting.digest import BudgetLine

if TYPE_CHECKING:
    from matplotlib.axes import Axes

TIERS = ("rules", "local", "runpod", "paid")
TIER_COLOURS = {"rules": "#9aa5b1", "local": "#3e7bfa", "runpod": "#f59f00", "paid": "#d92d20"}


def _scrubbed(value: object) -> object:
    """Every value a template prints passes the scrub (a credential in a dropped file's name
    shown for an unreadable input, say); only our own markup (the charts) is exempt."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return scrub_text(value)
    return value


# The templates are named `*.html.j2`: autoescaping must be on for that name, or a subject
# like `<script>` runs in the reader's mail client. Nothing from a ticket is marked safe.
_templates = Environment(
    loader=PackageLoader("triage.reporting", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=False),
    finalize=_scrubbed,
    trim_blocks=False,
    keep_trailing_newline=True,
)


def thousands(value: float) -> str:
    return f"{value:,.0f}"


def usd(value: float) -> str:
    """Dollars for people: 2 decimals with thousands separators; a non-zero amount under a
    cent says so instead of $0.00."""
    if 0 < abs(value) < 0.005:
        return "< $0.01"
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"


def usd_per_call(value: float) -> str:
    """A per-call or per-ticket price: 4 decimals."""
    return f"${value:,.4f}"


def percent(share: float) -> str:
    """A share (0-1) as a whole percentage; a sliver is not rounded away to 0%."""
    return "< 1%" if 0 < share < 0.005 else f"{share:.0%}"


def md_cell(value: object) -> str:
    """Text for a Markdown table cell: a '|' from a ticket would split the cell."""
    return " ".join(str(value).split()).replace("|", "\\|")


_templates.filters.update(
    thousands=thousands, usd=usd, usd_per_call=usd_per_call, md_cell=md_cell, percent=percent
)


@dataclass(frozen=True)
class Written:
    paths: list[Path]


def render_digest(digest: Digest) -> dict[str, str]:
    return {
        "md": _templates.get_template("digest.md.j2").render(d=digest),
        "html": _templates.get_template("digest.html.j2").render(d=digest),
    }


def render_report(report: Report) -> dict[str, str]:
    charts = {"daily": _daily_chart(report), "share": _share_chart(report)}  # base64 PNGs
    rows = io.StringIO()
    writer = csv.writer(rows)
    writer.writerow(["month", "workflow", "tier", "calls", "tokens_in", "tokens_out", "usd"])
    for row in report.rows:
        writer.writerow(
            [report.month, *row.keys, row.calls, row.tokens_in, row.tokens_out, f"{row.usd:.6f}"]
        )
    return {
        "md": _templates.get_template("report.md.j2").render(r=report),
        "html": _templates.get_template("report.html.j2").render(r=report, charts=charts),
        "json": json.dumps(report.as_json(), indent=2) + "\n",
        "csv": rows.getvalue(),
    }


def write_digest(store: ReportStore, settings: Settings, day: date) -> tuple[Digest, Written]:
    window = day_window(day, settings.digest.timezone)
    budgets = digest_budgets(store, settings, window.until)
    period = read_period(store, window, with_tickets=True)
    digest = build_digest(period, budgets, knowledge=settings.knowledge.enabled)
    return digest, _write(settings.digest.dir, f"digest-{day.isoformat()}", render_digest(digest))


def enabled_budgets(settings: Settings) -> dict[str, float]:
    """The monthly budget of each enabled paid tier."""
    budgets = {}
    if settings.paid.enabled:
        budgets["paid"] = settings.paid.monthly_budget_usd
    if settings.runpod.enabled:
        budgets["runpod"] = settings.runpod.monthly_budget_usd
    return budgets


def digest_budgets(store: ReportStore, settings: Settings, until: datetime) -> list[BudgetLine]:
    """Month-to-date spend (to `until`, the end of the digest's day) of each enabled tier,
    and what it had spent by the same day last month."""
    budgets = enabled_budgets(settings)
    if not budgets:
        return []
    start = until - timedelta(microseconds=1)
    month = report_month(start.year, start.month, settings.digest.timezone)
    before = report_month(*_month_before(start.year, start.month), settings.digest.timezone)
    same_day = min(before.since + (until - month.since), before.until)
    now = store.spent_by_tier(month.since, until)
    then = store.spent_by_tier(before.since, same_day)
    return [
        BudgetLine(tier, budget, now.get(tier, 0.0), then.get(tier, 0.0))
        for tier, budget in budgets.items()
    ]


def _month_before(year: int, month: int) -> tuple[int, int]:
    return (year, month - 1) if month > 1 else (year - 1, 12)


def write_report(
    store: ReportStore, settings: Settings, year: int, month: int, now: datetime | None = None
) -> tuple[Report, Written]:
    """`now`: when the report is made (a month not over yet is projected to its end)."""
    window = report_month(year, month, settings.digest.timezone)
    data = read_period(store, window, with_tickets=False)
    spent: dict[str, float] = {}
    for line in data.by_workflow_tier:
        spent[line.keys[1]] = spent.get(line.keys[1], 0.0) + line.usd
    enabled = enabled_budgets(settings)
    configured = {
        "paid": settings.paid.monthly_budget_usd,
        "runpod": settings.runpod.monthly_budget_usd,
    }
    # A tier's budget is shown while it is enabled, or when it spent that month.
    budgets = [
        Budget(tier, budget, spent.get(tier, 0.0))
        for tier, budget in configured.items()
        if tier in enabled or spent.get(tier)
    ]
    before = report_month(*_month_before(year, month), settings.digest.timezone)
    previous = month_totals(store, before)
    known = previous if previous.tickets or previous.usd else None  # no data: no comparison
    report = build_report(data, budgets, known, as_of=now)
    return report, _write(settings.report.dir, f"report-{window.label}", render_report(report))


def _write(folder: Path, stem: str, documents: dict[str, str]) -> Written:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for suffix, text in documents.items():
        target = folder / f"{stem}.{suffix}"
        temporary = target.with_name(f".{target.name}.tmp")
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(target)
        paths.append(target)
    return Written(paths)


def _figure_png(draw: Callable[[Axes], None]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(4.3, 2.8), dpi=110)
    draw(axes)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    pyplot.close(figure)
    # Ours, not a ticket's, and base64 holds no markup: exempt from the scrub (see _scrubbed).
    return Markup(base64.b64encode(buffer.getvalue()).decode())  # noqa: S704


BUDGET_OFF_SCALE = 4.0  # a budget line this many times the busiest day is not drawn to scale


def _daily_chart(report: Report) -> str | None:
    if not report.daily or not report.total_usd:
        return None
    month = report.month
    days = [f"{month}-{day:02d}" for day in range(1, report.days_in_month + 1)]

    def draw(axes: Axes) -> None:
        bottom = [0.0] * len(days)
        for tier in TIERS:
            values = [report.daily.get(day, {}).get(tier, 0.0) for day in days]
            if any(values):
                axes.bar(
                    range(len(days)),
                    values,
                    bottom=bottom,
                    color=TIER_COLOURS[tier],
                    label=tier,
                )
                bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        budget, busiest = report.daily_budget_usd, max(bottom)
        if budget and budget <= BUDGET_OFF_SCALE * busiest:
            axes.axhline(
                budget,
                color="#1f2933",
                linestyle="--",
                linewidth=1,
                label=f"budget per day (${budget:,.2f})",
            )
        elif budget:  # far above: say where it is instead of flattening the bars
            axes.set_ylim(0, busiest * 1.35)
            axes.annotate(
                f"budget per day ${budget:,.2f}: {busiest / budget:.0%} used on the busiest day",
                xy=(0.01, 0.97),
                xycoords="axes fraction",
                va="top",
                fontsize=7,
                color="#1f2933",
            )
        labels = [day[-2:] if index % 7 == 0 else "" for index, day in enumerate(days)]
        axes.set_xticks(range(len(days)), labels)
        axes.set_xlabel(month, fontsize=8)
        axes.set_title("Cost per day by tier (USD)", fontsize=10)
        axes.tick_params(labelsize=7)
        axes.legend(fontsize=7, frameon=False, loc="upper right")

    return _figure_png(draw)


def _share_chart(report: Report) -> str | None:
    if report.rules_only:
        return None  # a 100% pie says nothing: the report says it in a sentence
    counts = {tier: report.tickets_by_tier.get(tier, 0) for tier in TIERS}
    if not any(counts.values()):
        return None
    shown = {tier: n for tier, n in counts.items() if n}

    def draw(axes: Axes) -> None:
        axes.pie(
            list(shown.values()),
            labels=list(shown),
            autopct="%1.0f%%",
            colors=[TIER_COLOURS[t] for t in shown],
            textprops={"fontsize": 8},
        )
        axes.set_title("Share of tickets per tier", fontsize=10)

    return _figure_png(draw)


def previous_day(now: datetime, zone: str) -> date:
    from zoneinfo import ZoneInfo

    return date.fromordinal(now.astimezone(ZoneInfo(zone)).date().toordinal() - 1)


def previous_month(now: datetime, zone: str) -> tuple[int, int]:
    from zoneinfo import ZoneInfo

    local = now.astimezone(ZoneInfo(zone))
    return (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
