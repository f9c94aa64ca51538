"""The ordered [[rules]] of the config, compiled once and applied to each ticket."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from triage.rules.text import Terms, TextIndex
from triage.ticket import RISK_ORDER, Category, Priority, Risk, Ticket

Field = Literal["subject", "body", "from"]


@dataclass(frozen=True)
class Rule:
    """One keyword rule, as the config states it."""

    name: str
    match: tuple[str, ...]
    on: tuple[Field, ...] = ("subject", "body")
    category: Category | None = None
    priority: Priority | None = None
    risk: Risk | None = None
    stop: bool = False


@dataclass(frozen=True)
class CompiledRule:
    rule: Rule
    terms: Terms
    patterns: tuple[re.Pattern[str], ...]

    def matches(self, index: TextIndex) -> bool:
        return self.terms.any(index) or any(p.search(index.text) for p in self.patterns)


@dataclass(frozen=True)
class RuleMatch:
    """What the rules decided; None where no rule said anything."""

    category: Category | None
    priority: Priority | None
    risk: Risk | None
    matched: tuple[str, ...]  # names of the rules that matched, in order
    category_in_subject: bool = False  # the category's rule matched the subject: a strong hint


def compile_rules(rules: list[Rule]) -> tuple[CompiledRule, ...]:
    compiled = []
    for rule in rules:
        regexes = [entry for entry in rule.match if _is_regex(entry)]
        compiled.append(
            CompiledRule(
                rule=rule,
                terms=Terms(entry for entry in rule.match if not _is_regex(entry)),
                patterns=tuple(re.compile(entry[1:-1], re.IGNORECASE) for entry in regexes),
            )
        )
    return tuple(compiled)


def _is_regex(entry: str) -> bool:
    return len(entry) >= 2 and entry.startswith("/") and entry.endswith("/")


def index_fields(ticket: Ticket) -> dict[Field, TextIndex]:
    return {
        "subject": TextIndex(ticket.subject),
        "body": TextIndex(ticket.body),
        "from": TextIndex(ticket.sender or ""),
    }


def apply_rules(rules: tuple[CompiledRule, ...], indexes: dict[Field, TextIndex]) -> RuleMatch:
    """Rules are tried in order against the subject first, then against every field they name:
    a rule the subject matches outranks one only the body matches."""
    subject_only = _evaluate(rules, indexes, subject_pass=True)
    if subject_only.category is not None:
        return subject_only
    return _evaluate(rules, indexes, subject_pass=False)


def _evaluate(
    rules: tuple[CompiledRule, ...], indexes: dict[Field, TextIndex], subject_pass: bool
) -> RuleMatch:
    category: Category | None = None
    priority: Priority | None = None
    risk: Risk | None = None
    matched: list[str] = []
    for compiled in rules:
        rule = compiled.rule
        fields: tuple[Field, ...] = ("subject",) if subject_pass else rule.on
        if subject_pass and "subject" not in rule.on:
            continue
        if not any(compiled.matches(indexes[field]) for field in fields):
            continue
        matched.append(rule.name)
        category = category or rule.category
        priority = priority or rule.priority
        if rule.risk and (risk is None or RISK_ORDER[rule.risk] > RISK_ORDER[risk]):
            risk = rule.risk
        if rule.stop:
            break
    return RuleMatch(category, priority, risk, tuple(matched), subject_pass)
