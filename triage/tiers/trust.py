"""Pure: what a model's answer may change, and on what evidence.

Every change a model proposes passes a gate here before it becomes a decision:
- an extracted value is kept only if it occurs in the ticket and has the field's format;
- a summary is taken only if it is grounded in the ticket's words (not the prompt's);
- a category change or a risk raise is made only where the model's measured precision on
  the helpdesk's labelled set (its trust profile, saved by `triage eval --save-trust`) passes
  the configured bar at the probability the model gave; otherwise it becomes a review note;
- a crying-wolf guard: while the model raises risk on more than a configured share of recent
  tickets, its raises do not go to the paid tier (they become review notes).
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from models.schema import ModelAnswer
from triage.errors import ConfigError
from triage.records import GuardAnswer
from triage.result import FieldsOut
from triage.rules import RulesVerdict
from triage.rules.extract import Fields
from triage.ticket import RISK_ORDER, Category, Priority, Risk, Tier
from triage.tiers.merge import Opinion, merge

# The review note of a raise the crying-wolf guard held back: the digest counts results
# carrying it (`held_back`), since the guard keeps only its recent answers.
HELD_BACK = "held back: the local model is raising risk on too many tickets"
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)  # the probabilities a profile is measured at
PROFILE_VERSION = 1


@dataclass(frozen=True)
class Measured:
    """At one probability threshold: how often the model proposed the change, how often the
    labelled answer agreed."""

    threshold: float
    proposals: int
    correct: int

    @property
    def precision(self) -> float | None:
        return self.correct / self.proposals if self.proposals else None


@dataclass(frozen=True)
class TrustProfile:
    """One model's measured record on a labelled set (one prompt template version)."""

    model: str
    template: str  # "name@vN": a profile holds for the prompt it was measured with
    labels: str  # the labelled set it was measured on
    tickets: int
    category: tuple[Measured, ...]  # category changes where the rules were unsure
    risk_raise: tuple[Measured, ...]  # risk raised above the rules' risk
    escalation_recall: float | None = None  # of the tickets labelled high, share it flagged

    def to_json(self) -> str:
        return json.dumps({"version": PROFILE_VERSION, **asdict(self)}, indent=2)

    @classmethod
    def from_json(cls, text: str) -> TrustProfile:
        data = json.loads(text)
        if data.pop("version", None) != PROFILE_VERSION:
            raise ValueError("not a trust profile of this version")
        for name in ("category", "risk_raise"):
            data[name] = tuple(Measured(**row) for row in data[name])
        return cls(**data)


def load_trust(path: Path | None) -> TrustProfile | None:
    """The saved profile, None when none is configured. A configured profile that cannot be
    read is a configuration error (exit 78), not a silent "no trust"."""
    if path is None:
        return None
    try:
        return TrustProfile.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise ConfigError(
            f"[local] trust_profile {path}: not a readable trust profile ({exc}); "
            "write one with `triage eval LABELS --save-trust PATH`"
        ) from None


@dataclass(frozen=True)
class TrustBars:
    """What the model must have shown before it decides anything (`[local]` keys)."""

    min_precision: float = 0.8  # trust_min_precision
    min_proposals: int = 5  # trust_min_proposals: fewer is no evidence
    min_confidence: int = 60  # a category change needs at least this probability (percent)
    wolf_share: float = 0.5  # the crying-wolf guard's limit...
    wolf_window: int = 20  # ...over this many recent answers


def trust_for(profile: TrustProfile | None, model: str, template: str) -> TrustProfile | None:
    """A profile holds only for the model and prompt version it was measured with."""
    if profile is None or (profile.model, profile.template) != (model, template):
        return None
    return profile


def earned_threshold(rows: tuple[Measured, ...], bars: TrustBars) -> float | None:
    """The lowest probability at which the model's proposals were right often enough on
    enough tickets; None when no threshold earns it."""
    for row in sorted(rows, key=lambda r: r.threshold):
        precision = row.precision
        enough = row.proposals >= bars.min_proposals and precision is not None
        if enough and precision is not None and precision >= bars.min_precision:
            return row.threshold
    return None


@dataclass(frozen=True)
class WolfGuard:
    """Immutable: the local model's recent risk raises. `observe` returns the next state;
    `tripped` says its raises should not reach the paid tier now."""

    window: int = 20  # wolf_window: recent tickets the model answered
    limit: float = 0.5  # wolf_share: the share of raises above which it is crying wolf
    min_seen: int = 5
    recent: tuple[bool, ...] = ()
    held: bool = False  # tripped: it stays so until the share falls below RECOVER x limit

    RECOVER = 0.8  # hysteresis: a share hovering at the limit does not flap

    @classmethod
    def recalled(
        cls, window: int, limit: float, answers: Sequence[GuardAnswer], min_seen: int = 5
    ) -> WolfGuard:
        """The guard as the remembered answers leave it (oldest first, as the store's
        GuardMemory gives them): the last `window` of them, held as the latest one left it."""
        recent = tuple(answer.raised for answer in answers[-window:])
        return cls(window, limit, min_seen, recent, answers[-1].held if answers else False)

    def remembered(self, raised: bool) -> tuple[WolfGuard, GuardAnswer]:
        """`observe`, and the answer to remember so that `recalled` gives the same guard."""
        after = self.observe(raised)
        return after, GuardAnswer(raised=raised, held=after.held)

    def observe(self, raised: bool) -> WolfGuard:
        recent = (*self.recent, raised)[-self.window :]
        share = sum(recent) / len(recent)
        if self.held:
            held = share > self.limit * self.RECOVER
        else:
            held = len(recent) >= self.min_seen and share > self.limit
        return WolfGuard(self.window, self.limit, self.min_seen, recent, held)

    @property
    def share(self) -> float:
        return sum(self.recent) / len(self.recent) if self.recent else 0.0

    @property
    def tripped(self) -> bool:
        return self.held

    def state(self) -> dict[str, object]:
        """For `check`, STATUS= and the digest."""
        return {
            "tripped": self.tripped,
            "raises": sum(self.recent),
            "seen": len(self.recent),
            "share": round(self.share, 2),
            "limit": self.limit,
        }

    def describe(self) -> str:
        state = self.state()
        verdict = "raises held back from the paid tier" if self.tripped else "ok"
        return (
            f"local model raised risk on {state['raises']} of the last {state['seen']} "
            f"tickets (limit {self.limit:.0%}): {verdict}"
        )


@dataclass(frozen=True)
class Gate:
    """What one answer is judged against."""

    ticket_text: str  # subject, body and log slice: what the model saw of the ticket
    instructions: str  # the prompt's own text: a summary that repeats it is not grounded
    trust: TrustProfile | None
    bars: TrustBars = field(default_factory=TrustBars)
    crying_wolf: bool = False  # WolfGuard.tripped before this answer


@dataclass(frozen=True)
class Refined:
    category: Category
    priority: Priority
    risk: Risk
    risk_reasons: tuple[str, ...]
    summary: str
    fields: Fields
    escalate: bool
    note: str  # what the model changed, for the route's reason
    review: tuple[str, ...] = ()  # what the model thought but had not earned: needs_review
    # The model's category probability (percent) where its category is trusted, for the
    # router's "ambiguous" test; None where its doubt says nothing.
    confidence: int | None = None


def questions_for(verdict: RulesVerdict) -> frozenset[str]:
    """Pure: ask the model only where the rules are unsure: the category unless a rule placed
    it from the subject; the incident question unless the rules already say high."""
    asks = set()
    if not verdict.category_confident:
        asks.add("category")
    if verdict.risk != "high":
        asks.add("incident")
    return frozenset(asks)


def held_back(needs_review: list[str]) -> bool:
    """Pure: a result whose risk raise the crying-wolf guard held back (for the digest)."""
    return any(HELD_BACK in note for note in needs_review)


def proposes_raise(verdict: RulesVerdict, answer: ModelAnswer) -> bool:
    """The model's answer would raise the rules' risk (what the crying-wolf guard counts)."""
    return RISK_ORDER[answer.risk] > RISK_ORDER[verdict.risk]


@dataclass(frozen=True)
class Admission:
    """What of a model's answer was earned (as an Opinion for the one merge policy), and
    what it thought but had not earned (review notes)."""

    opinion: Opinion
    changes: tuple[str, ...]  # what was admitted, with the model's probabilities
    review: tuple[str, ...]
    confidence: int | None  # the category probability (percent) where the category is trusted


def admit(
    verdict: RulesVerdict, answer: ModelAnswer, gate: Gate, tier: Tier = "local"
) -> Admission:
    """Pure: the part of `answer` the model has earned the right to say, judged against what
    the triage says so far (`verdict`): a category change or a risk raise only at a measured
    precision, a summary only when grounded in the ticket, extracted values only when they
    occur in it with their field's format."""
    changes: list[str] = []
    review: list[str] = []
    trust, bars = gate.trust, gate.bars
    category: Category = "other"  # "other" never replaces a category: nothing admitted
    category_bar = earned_threshold(trust.category, bars) if trust else None
    p_category = answer.label_probabilities.get(answer.category, answer.confidence / 100)
    if (
        not verdict.category_confident
        and answer.category not in (verdict.category, "other")
        and p_category >= bars.min_confidence / 100
    ):
        bar = category_bar
        if bar is not None and p_category >= bar:
            changes.append(f"category {verdict.category} -> {answer.category} (p {p_category:.2f})")
            category = answer.category
        else:
            review.append(
                f"local model suggests category {answer.category} (p {p_category:.2f}); "
                f"{_unearned(trust, bar, 'category')}"
            )
    risk: Risk = "low"  # never lowers: the merge keeps the higher risk
    priority: Priority = "P4"  # never less urgent: the merge keeps the more urgent
    reasons: tuple[str, ...] = ()
    escalate = False
    if proposes_raise(verdict, answer):
        p_raise = answer.incident_probability
        bar = earned_threshold(trust.risk_raise, bars) if trust else None
        suggestion = f"local model suggests risk {answer.risk}" + (
            f" (p {p_raise:.2f})" if p_raise is not None else ""
        )
        if gate.crying_wolf:
            review.append(f"{suggestion}; {HELD_BACK}")
        elif bar is not None and p_raise is not None and p_raise >= bar:
            changes.append(f"risk {verdict.risk} -> {answer.risk} (p {p_raise:.2f})")
            risk, priority, reasons = answer.risk, answer.priority, tuple(answer.risk_reasons)
            escalate = answer.escalate
        else:
            review.append(f"{suggestion}; {_unearned(trust, bar, 'risk raise')}")
    summary = ""
    if answer.summary and grounded_summary(answer.summary, gate.ticket_text, gate.instructions):
        summary = answer.summary
        changes.append("summary")
    found = answer.fields
    opinion = Opinion(
        tier=tier,
        category=category,
        priority=priority,
        risk=risk,
        risk_reasons=reasons,
        summary=summary,
        fields=FieldsOut(
            hosts=grounded_values("hosts", found.hosts, gate),
            ips=grounded_values("ips", found.ips, gate),
            error_codes=grounded_values("error_codes", found.error_codes, gate),
            applications=grounded_values("applications", found.applications, gate),
            devices=grounded_values("devices", found.devices, gate),
        ),
        escalate=escalate,
    )
    confidence = (
        answer.confidence if category_bar is not None and answer.label_probabilities else None
    )
    return Admission(opinion, tuple(changes), tuple(review), confidence)


def gate_answer(verdict: RulesVerdict, answer: ModelAnswer, gate: Gate) -> Refined:
    """Fold what a model's answer has earned into the rules' verdict, by the one merge policy
    (triage/tiers/merge.py): the model never lowers risk or priority and never overrides a
    category the rules placed from the subject: nothing a ticket says can talk the triage
    down."""
    admission = admit(verdict, answer, gate)
    fields = FieldsOut.from_fields(verdict.fields)
    merged = merge(verdict, fields, verdict.category_confident, admission.opinion, 0)
    changes = list(admission.changes)
    if merged.priority != verdict.priority:
        changes.append(f"priority {verdict.priority} -> {merged.priority}")
    if admission.opinion.escalate:
        changes.append("escalation suggested")
    out = merged.fields
    return Refined(
        category=merged.category,
        priority=merged.priority,
        risk=merged.risk,
        risk_reasons=tuple(merged.risk_reasons),
        summary=merged.summary,
        fields=Fields(
            requester=out.requester,
            hosts=tuple(out.hosts),
            ips=tuple(out.ips),
            error_codes=tuple(out.error_codes),
            applications=tuple(out.applications),
            devices=tuple(out.devices),
        ),
        escalate=admission.opinion.escalate,
        note=", ".join(changes) or "confirmed the rules",
        review=admission.review,
        confidence=admission.confidence,
    )


def _unearned(trust: TrustProfile | None, bar: float | None, what: str) -> str:
    if trust is None:
        return "not applied: no trust profile (see `triage eval --save-trust`)"
    if bar is None:
        return f"not applied: its {what} precision on {trust.labels} is below the bar"
    return f"not applied: below the probability {bar:.2f} its {what}s earned"


_HOST = re.compile(r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?(?:\.[a-z0-9-]{1,63})*$")
_ERROR_CODE = re.compile(r"^(?=.*\d)[a-z0-9][a-z0-9_.:/-]{0,30}$|^0x[0-9a-f]{1,16}$")
_NAME = re.compile(r"^(?=.*[^\W\d_])[\w][\w .+&()/-]{0,59}$")


def has_format(kind: str, value: str) -> bool:
    """Pure: whether a value looks like what the field holds."""
    lowered = value.lower()
    if kind == "ips":
        return _is_ip(value)
    if kind == "hosts":
        return bool(_HOST.match(lowered)) and "." in lowered and not _is_ip(lowered)
    if kind == "error_codes":
        return bool(_ERROR_CODE.match(lowered))
    return bool(_NAME.match(value))  # applications, devices: a name, not a sentence


def grounded_values(kind: str, values: list[str], gate: Gate) -> list[str]:
    """The values that occur in the ticket (case-insensitively) and have the field's format."""
    text = gate.ticket_text.lower()
    kept = []
    for value in values:
        value = value.strip()
        if value and has_format(kind, value) and value.lower() in text:
            kept.append(value)
    return kept


_WORD = re.compile(r"[^\W_]{3,}")


def _words(text: str) -> set[str]:
    return {word.lower() for word in _WORD.findall(text)}


def grounded_summary(summary: str, ticket_text: str, instructions: str) -> bool:
    """Pure: most of the summary's words come from the ticket, and it does not lean on the
    prompt's own wording (words of the instructions that the ticket does not use)."""
    words = _words(summary)
    if len(words) < 3:
        return False
    ticket = _words(ticket_text)
    borrowed = (_words(instructions) - ticket) & words
    from_ticket = len(words & ticket) / len(words)
    return from_ticket >= 0.5 and len(borrowed) / len(words) <= 0.2


def parrots(summary: str, ticket_text: str, instructions: str) -> bool:
    """Pure: the summary repeats the prompt: a third or more of its words are the
    instructions' own, words the ticket does not use."""
    words = _words(summary)
    borrowed = (_words(instructions) - _words(ticket_text)) & words
    return len(words) >= 3 and len(borrowed) * 3 >= len(words)


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True
