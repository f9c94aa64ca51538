"""`triage eval LABELS.jsonl`: a labelled set through the pipeline in dry-run, scored.

Each line of the labels file names a message file (relative to the labels file) and what a
helpdesk lead accepts for it: `status`; `cat` (a list of acceptable categories) or
`category` (one); `risk` (a level, a list of acceptable levels, or null when not triaged);
`tags` (the sensitivity tags that must be found). This reads the development set's format
(../shared/evalsets/dev/README.md) as it is.

The set runs rules-only and, when a local model is configured, with it. Per run: the
README's metrics (status, category, high-risk recall, false high, tag recall) and the
share of tickets that want the paid tier. For the model: the precision of the changes it
proposes (category where the rules were unsure, risk raised above the rules) at each
probability threshold, and escalation precision and recall; saved as its trust profile.
Token counts are estimated at 4 characters a token (the same for both sides of each ratio).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from models.port import ALL_QUESTIONS, ModelCall, TicketModel
from models.schema import ModelAnswer
from triage.costs import Price
from triage.errors import InputError
from triage.result import Result
from triage.ticket import RISK_ORDER, Risk
from triage.tiers.trust import THRESHOLDS, Measured, TrustProfile

CHARS_PER_TOKEN = 4
ANSWER_TOKENS = 400  # a structured analysis, for the cost estimates of both sides


@dataclass(frozen=True)
class Label:
    file: Path
    categories: tuple[str, ...]  # acceptable; empty when not triaged
    risks: tuple[str, ...]  # acceptable; empty when not triaged
    status: str
    tags: frozenset[str]
    group: str = ""
    team: str | None = None  # optional: the team, to score the learned tier's assignment

    @property
    def must_be_high(self) -> bool:
        return self.risks == ("high",)

    @property
    def never_high(self) -> bool:
        return self.status == "triaged" and "high" not in self.risks


@dataclass(frozen=True)
class Opinion:
    """What the model said about one ticket, before any gate, and what the rules said."""

    rules_category: str
    rules_confident: bool
    rules_risk: Risk
    answer: ModelAnswer


@dataclass(frozen=True)
class Scored:
    label: Label
    result: Result
    raw_tokens: int  # the raw mail, as an all-paid triage would send it
    paid_tokens: int  # the redacted compact context the paid tier gets (when escalated)
    opinion: Opinion | None = None


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
    metrics: dict[str, float] = field(default_factory=dict)
    misses: list[str] = field(default_factory=list)
    learned_assigned: int = 0  # tickets the learned tier assigned a team
    team_accuracy: float | None = None  # among those with a labelled team (unassigned: wrong)

    @property
    def token_ratio(self) -> float:
        return self.paid_tokens_per_escalation / max(self.raw_tokens_per_escalation, 1.0)

    @property
    def cost_ratio(self) -> float:
        return self.cost_per_1000_usd / max(self.baseline_per_1000_usd, 1e-12)


def _accepted(value: object, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise TypeError(f"{name} must be a string, a list of strings or null")


def load_labels(path: Path) -> list[Label]:
    labels = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            categories = item["cat"] if "cat" in item else item["category"]
            labels.append(
                Label(
                    file=path.parent / item["file"],
                    categories=_accepted(categories, "cat"),
                    risks=_accepted(item["risk"], "risk"),
                    status=item["status"],
                    tags=frozenset(item.get("tags", [])),
                    group=str(item.get("group", "")),
                    team=item.get("team"),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise InputError(f"{path}:{number}: not a label line ({exc})") from None
    return labels


def estimate_tokens(text: str | bytes) -> int:
    return len(text) // CHARS_PER_TOKEN + 1


def wants_paid(result: Result) -> bool:
    return "paid" in (result.route.wanted, result.route.tier)


def metrics(rows: list[Scored]) -> dict[str, float]:
    """Pure: the README's metrics (and the paid tier's share) over the scored rows."""
    triaged = [r for r in rows if r.label.status == "triaged"]
    must = [r for r in triaged if r.label.must_be_high]
    never = [r for r in triaged if r.label.never_high]

    def ok(row: Scored) -> bool:
        return row.result.status == "triaged"

    def high(row: Scored) -> bool:
        return ok(row) and row.result.risk == "high"

    expected = sum(len(r.label.tags) for r in triaged)
    found = sum(len(r.label.tags & set(r.result.sensitivity.tags)) for r in triaged if ok(r))
    return {
        "status": _share(sum(r.result.status == r.label.status for r in rows), len(rows)),
        "category": _share(
            sum(ok(r) and r.result.category in r.label.categories for r in triaged), len(triaged)
        ),
        "high_recall": _share(sum(high(r) for r in must), len(must)),
        "false_high": _share(sum(high(r) for r in never), len(never)),
        "tag_recall": _share(found, expected),
        "paid_wanted": _share(sum(wants_paid(r.result) for r in rows), len(rows)),
    }


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def score(rows: list[Scored], price: Price | None, system_tokens: int) -> Report:
    """Pure: the numbers of the report from the scored rows."""
    total = len(rows) or 1
    checks: dict[str, Callable[[Scored], bool]] = {
        "category": lambda r: (
            r.result.category in r.label.categories
            or (not r.label.categories and r.result.status != "triaged")
        ),
        "risk": lambda r: r.result.risk in r.label.risks or not r.label.risks,
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
    escalated = [r for r in rows if wants_paid(r.result)]
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
        metrics=metrics(rows),
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
    if name == "tags":
        return str(sorted(row.label.tags))
    accepted = {"category": row.label.categories, "risk": row.label.risks}.get(name)
    if accepted is None:
        return str(getattr(row.label, name))
    return " or ".join(accepted) or "none"


# The model's own record: what it proposed before any gate, against the labels.


def _category_proposal(op: Opinion) -> float | None:
    """The probability of a category change the model proposes (None: proposes none)."""
    answer = op.answer
    if op.rules_confident or answer.category in (op.rules_category, "other"):
        return None
    return answer.label_probabilities.get(answer.category, answer.confidence / 100)


def _raise_proposal(op: Opinion) -> float | None:
    if RISK_ORDER[op.answer.risk] <= RISK_ORDER[op.rules_risk]:
        return None
    return op.answer.incident_probability if op.answer.incident_probability is not None else 0.0


def measured(rows: list[Scored]) -> tuple[tuple[Measured, ...], tuple[Measured, ...]]:
    """Pure: the model's category changes and risk raises, per probability threshold."""
    pairs = [(r.label, r.opinion) for r in rows if r.opinion and r.label.status == "triaged"]
    category: list[Measured] = []
    risk: list[Measured] = []
    for threshold in THRESHOLDS:
        cats = [(label, op) for label, op in pairs if _at(_category_proposal(op), threshold)]
        raises = [(label, op) for label, op in pairs if _at(_raise_proposal(op), threshold)]
        right = sum(op.answer.category in label.categories for label, op in cats)
        category.append(Measured(threshold, len(cats), right))
        right = sum(op.answer.risk in label.risks for label, op in raises)
        risk.append(Measured(threshold, len(raises), right))
    return tuple(category), tuple(risk)


def _at(probability: float | None, threshold: float) -> bool:
    return probability is not None and probability >= threshold


def model_record(rows: list[Scored]) -> dict[str, float | int | None]:
    """Pure: the model's raw answers scored as a tier of their own."""
    judged = [r for r in rows if r.opinion is not None and r.label.status == "triaged"]
    answers = [(r, r.opinion.answer) for r in judged if r.opinion is not None]
    flagged = [r for r, a in answers if a.escalate]
    must = [r for r, _ in answers if r.label.must_be_high]
    raised = [r for r, a in answers if a.risk == "high"]
    return {
        "answered": len(answers),
        "category": _ratio(sum(a.category in r.label.categories for r, a in answers), len(answers)),
        "says_high": _ratio(len(raised), len(answers)),
        "escalation_precision": _ratio(sum("high" in r.label.risks for r in flagged), len(flagged)),
        "escalation_recall": _ratio(
            sum(a.escalate for r, a in answers if r.label.must_be_high), len(must)
        ),
    }


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def trust_profile(rows: list[Scored], model: str, template: str, labels: str) -> TrustProfile:
    category, risk = measured(rows)
    recall = model_record(rows)["escalation_recall"]
    return TrustProfile(
        model=model,
        template=template,
        labels=labels,
        tickets=sum(1 for r in rows if r.opinion is not None),
        category=category,
        risk_raise=risk,
        escalation_recall=float(recall) if recall is not None else None,
    )


_ROWS = ("status", "category", "high_recall", "false_high", "tag_recall", "paid_wanted")


def render_runs(runs: dict[str, dict[str, float]]) -> list[str]:
    """One score row per run (rules-only, with the model), the README's metrics."""
    width = max(len(name) for name in runs)
    header = f"  {'run':<{width}}  " + "  ".join(f"{name:>11}" for name in _ROWS)
    return [
        header,
        *(
            f"  {name:<{width}}  " + "  ".join(f"{values[key]:>11.3f}" for key in _ROWS)
            for name, values in runs.items()
        ),
    ]


def render_trust(profile: TrustProfile, record: dict[str, float | int | None]) -> list[str]:
    lines = [
        f"  model {profile.model} ({profile.template}), raw answers on {record['answered']}"
        f" triaged tickets: category {record['category']}, says high {record['says_high']},"
        f" escalation precision {record['escalation_precision']}"
        f" recall {record['escalation_recall']}",
        "  proposals by probability  (proposed/right: category change | risk raise)",
    ]
    for cat, risk in zip(profile.category, profile.risk_raise, strict=True):
        lines.append(
            f"    p >= {cat.threshold:.2f}:  {cat.correct:3d}/{cat.proposals:<3d} | "
            f"{risk.correct:3d}/{risk.proposals:<3d}"
        )
    return lines


def render(report: Report, runs: dict[str, dict[str, float]] | None = None) -> str:
    lines = [f"{report.tickets} labelled tickets (dry run: nothing written, nothing spent)", ""]
    lines += [f"  accuracy {name:<9} {value:6.1%}" for name, value in report.accuracy.items()]
    lines += ["", *render_runs(runs or {"configured": report.metrics}), ""]
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


class Recording:
    """A TicketModel that passes calls through and keeps the last answer (for the record)."""

    def __init__(self, inner: TicketModel) -> None:
        self.inner = inner
        self.model, self.template = inner.model, inner.template
        self.provider = inner.provider
        self.template_version = inner.template_version
        self.last: ModelCall | None = None
        self.seconds = 0.0
        self.tokens_out = 0
        self.calls = 0

    def complete(
        self,
        render: Callable[[int], str],
        rules_category: str,
        rules_risk: str,
        asks: frozenset[str] = ALL_QUESTIONS,
    ) -> ModelCall:
        call = self.inner.complete(render, rules_category, rules_risk, asks)
        self.last = call
        self.calls += 1
        self.seconds += call.seconds
        self.tokens_out += call.tokens_out
        return call
