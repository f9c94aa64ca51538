"""`triage eval LABELS.jsonl`: a labelled set through the pipeline in dry-run, scored.

Each line of the labels file: {"file": path relative to the labels file, "category": ...,
"risk": ..., "status": ..., "tags": [...]}. Reported: accuracy per field, the share of tickets
each tier answered, how many the policy would escalate to the paid tier, paid input tokens per
escalated ticket against sending the raw mail, and the cost per 1,000 tickets against sending
every ticket's raw mail to the paid model. Token counts are estimated at 4 characters a token
(the same estimate for both sides of each ratio).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from triage.costs import Price
from triage.errors import InputError
from triage.result import Result

CHARS_PER_TOKEN = 4
ANSWER_TOKENS = 400  # a structured analysis, for the cost estimates of both sides


@dataclass(frozen=True)
class Label:
    file: Path
    category: str
    risk: str
    status: str
    tags: frozenset[str]
    team: str | None = None  # optional: the team, to score the learned tier's assignment


@dataclass(frozen=True)
class Scored:
    label: Label
    result: Result
    raw_tokens: int  # the raw mail, as an all-paid triage would send it
    paid_tokens: int  # the redacted compact context the paid tier gets (when escalated)


@dataclass
class Report:
    tickets: int
    accuracy: dict[str, float]
    tiers: dict[str, int]
    escalated: int
    never_paid_share: float
    paid_tokens_per_escalation: float
    raw_tokens_per_escalation: float
    cost_per_1000_usd: float
    baseline_per_1000_usd: float
    misses: list[str] = field(default_factory=list)
    learned_assigned: int = 0  # tickets the learned tier assigned a team
    team_accuracy: float | None = None  # among those with a labelled team (unassigned: wrong)

    @property
    def token_ratio(self) -> float:
        return self.paid_tokens_per_escalation / max(self.raw_tokens_per_escalation, 1.0)

    @property
    def cost_ratio(self) -> float:
        return self.cost_per_1000_usd / max(self.baseline_per_1000_usd, 1e-12)


def load_labels(path: Path) -> list[Label]:
    labels = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            labels.append(
                Label(
                    file=path.parent / item["file"],
                    category=item["category"],
                    risk=item["risk"],
                    status=item["status"],
                    tags=frozenset(item.get("tags", [])),
                    team=item.get("team"),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise InputError(f"{path}:{number}: not a label line ({exc})") from None
    return labels


def estimate_tokens(text: str | bytes) -> int:
    return len(text) // CHARS_PER_TOKEN + 1


def score(rows: list[Scored], price: Price | None, system_tokens: int) -> Report:
    """Pure: the numbers of the report from the scored rows."""
    total = len(rows) or 1
    checks: dict[str, Callable[[Scored], bool]] = {
        "category": lambda r: r.result.category == r.label.category,
        "risk": lambda r: r.result.risk == r.label.risk,
        "status": lambda r: r.result.status == r.label.status,
        "tags": lambda r: frozenset(r.result.sensitivity.tags) == r.label.tags,
    }
    accuracy = {name: sum(1 for r in rows if check(r)) / total for name, check in checks.items()}
    misses = [
        f"{r.label.file.name}: {name} {_got(r, name)} (expected {_expected(r, name)})"
        for r in rows
        for name, check in checks.items()
        if not check(r)
    ]
    escalated = [r for r in rows if "paid" in (r.result.route.wanted, r.result.route.tier)]
    tiers = Counter(str(r.result.route.tier) for r in rows)
    paid_in = sum(r.paid_tokens + system_tokens for r in escalated)
    raw_in = sum(r.raw_tokens + system_tokens for r in escalated)
    if price is None:
        ours = baseline = 0.0
    else:
        per_output = ANSWER_TOKENS * price.output_per_mtok / 1e6
        ours = paid_in * price.input_per_mtok / 1e6 + len(escalated) * per_output
        baseline = (
            sum(r.raw_tokens + system_tokens for r in rows) * price.input_per_mtok / 1e6
            + len(rows) * per_output
        )
    count = len(escalated) or 1
    teams = [r for r in rows if r.label.team is not None]
    team_hits = sum(
        1 for r in teams if r.result.assignment and r.result.assignment.team == r.label.team
    )
    return Report(
        tickets=len(rows),
        accuracy=accuracy,
        tiers=dict(tiers),
        escalated=len(escalated),
        never_paid_share=1 - len(escalated) / total,
        paid_tokens_per_escalation=paid_in / count,
        raw_tokens_per_escalation=raw_in / count,
        cost_per_1000_usd=ours / total * 1000,
        baseline_per_1000_usd=baseline / total * 1000,
        misses=misses,
        learned_assigned=sum(
            1 for r in rows if r.result.assignment and r.result.assignment.tier == "learned"
        ),
        team_accuracy=team_hits / len(teams) if teams else None,
    )


def _got(row: Scored, name: str) -> str:
    if name == "tags":
        return str(sorted(row.result.sensitivity.tags))
    return str(getattr(row.result, name))


def _expected(row: Scored, name: str) -> str:
    return str(sorted(row.label.tags)) if name == "tags" else str(getattr(row.label, name))


def render(report: Report) -> str:
    lines = [f"{report.tickets} labelled tickets (dry run: nothing written, nothing spent)", ""]
    lines += [f"  accuracy {name:<9} {value:6.1%}" for name, value in report.accuracy.items()]
    lines.append("")
    lines += [
        f"  answered by {tier:<7} {n:4d}  ({n / report.tickets:.0%})"
        for tier, n in sorted(report.tiers.items())
    ]
    if report.learned_assigned or report.team_accuracy is not None:
        team = "" if report.team_accuracy is None else f"; team right {report.team_accuracy:.0%}"
        lines.append(
            f"  assigned by learned {report.learned_assigned:4d}  "
            f"({report.learned_assigned / max(report.tickets, 1):.0%}){team}"
        )
    lines += [
        "",
        f"  escalated to paid   {report.escalated:4d}  ({1 - report.never_paid_share:.0%}); "
        f"never reach paid: {report.never_paid_share:.0%}",
        f"  paid input tokens per escalation: {report.paid_tokens_per_escalation:.0f} vs "
        f"{report.raw_tokens_per_escalation:.0f} for the raw mail ({report.token_ratio:.0%})",
        f"  cost per 1,000 tickets: ${report.cost_per_1000_usd:.2f} vs all-paid "
        f"${report.baseline_per_1000_usd:.2f} ({report.cost_ratio:.1%})",
    ]
    if report.misses:
        lines += ["", "  misses:", *(f"    {miss}" for miss in report.misses)]
    return "\n".join(lines)
