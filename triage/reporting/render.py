"""Writing the digest and the report: Jinja2 templates, matplotlib charts, JSON and CSV."""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from triage.config import Settings
from triage.redaction import scrub_text
from triage.reporting.build import Budget, Digest, Report, build_digest, build_report
from triage.reporting.data import Queryable, day_window, month_window, read_period

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
    loader=PackageLoader("triage", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=False),
    finalize=_scrubbed,
    trim_blocks=False,
    keep_trailing_newline=True,
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


def write_digest(store: Queryable, settings: Settings, day: date) -> tuple[Digest, Written]:
    window = day_window(day, settings.digest.timezone)
    digest = build_digest(read_period(store, window, with_tickets=True))
    return digest, _write(settings.digest.dir, f"digest-{day.isoformat()}", render_digest(digest))


def write_report(
    store: Queryable, settings: Settings, year: int, month: int
) -> tuple[Report, Written]:
    window = month_window(year, month, settings.digest.timezone)
    data = read_period(store, window, with_tickets=False)
    spent = {line.keys[1]: 0.0 for line in data.by_workflow_tier}
    for line in data.by_workflow_tier:
        spent[line.keys[1]] += line.usd
    budgets = [
        Budget("paid", settings.paid.monthly_budget_usd, spent.get("paid", 0.0)),
        Budget("runpod", settings.runpod.monthly_budget_usd, spent.get("runpod", 0.0)),
    ]
    report = build_report(data, budgets)
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


def _daily_chart(report: Report) -> str | None:
    if not report.daily:
        return None
    days = list(report.daily)

    def draw(axes: Axes) -> None:
        bottom = [0.0] * len(days)
        for tier in TIERS:
            values = [report.daily[day].get(tier, 0.0) for day in days]
            if any(values):
                axes.bar(
                    range(len(days)),
                    values,
                    bottom=bottom,
                    color=TIER_COLOURS[tier],
                    label=tier,
                )
                bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        labels = [day[-2:] if index % 7 == 0 else "" for index, day in enumerate(days)]
        axes.set_xticks(range(len(days)), labels)
        axes.set_xlabel(days[0][:7], fontsize=8)
        axes.set_title("Cost per day by tier (USD)", fontsize=10)
        axes.tick_params(labelsize=7)
        axes.legend(fontsize=7, frameon=False)

    return _figure_png(draw)


def _share_chart(report: Report) -> str | None:
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
