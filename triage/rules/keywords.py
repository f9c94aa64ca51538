"""The ordered [[rules]] of the config, compiled once and applied to each ticket."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from triage.ticket import Category, Priority, Risk, Ticket

Field = Literal["subject", "body", "from"]
RISK_ORDER: dict[str, int] = {"low": 0, "medium": 1, "high": 2}


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
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class RuleMatch:
    """What the rules decided; None where no rule said anything."""

    category: Category | None
    priority: Priority | None
    risk: Risk | None
    matched: tuple[str, ...]  # names of the rules that matched, in order


def compile_rules(rules: list[Rule]) -> tuple[CompiledRule, ...]:
    return tuple(CompiledRule(rule, _compile(rule.match)) for rule in rules)


def _compile(entries: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = []
    for entry in entries:
        if len(entry) >= 2 and entry.startswith("/") and entry.endswith("/"):
            alternatives.append(f"(?:{entry[1:-1]})")
            continue
        prefix = entry.endswith("*")
        words = entry.rstrip("*").strip().split()
        phrase = r"[\s\-_]+".join(re.escape(word) for word in words)
        alternatives.append(rf"(?<!\w){phrase}" + ("" if prefix else r"(?!\w)"))
    return re.compile("|".join(alternatives), re.IGNORECASE)


def apply_rules(rules: tuple[CompiledRule, ...], ticket: Ticket) -> RuleMatch:
    texts: dict[Field, str] = {
        "subject": ticket.subject,
        "body": ticket.body,
        "from": ticket.sender or "",
    }
    category: Category | None = None
    priority: Priority | None = None
    risk: Risk | None = None
    matched: list[str] = []
    for compiled in rules:
        rule = compiled.rule
        if not any(compiled.pattern.search(texts[field]) for field in rule.on):
            continue
        matched.append(rule.name)
        category = category or rule.category
        priority = priority or rule.priority
        if rule.risk and (risk is None or RISK_ORDER[rule.risk] > RISK_ORDER[risk]):
            risk = rule.risk
        if rule.stop:
            break
    return RuleMatch(category, priority, risk, tuple(matched))
