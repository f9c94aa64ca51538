"""The ordered [[rules]] of the config, compiled once and applied to each ticket.

A rule looks at named fields of the ticket: its text (subject, body), its envelope (from, to,
cc, any header as `header:<Name>`), its attachments (names and content types) and where it
came from (source: `imap:<account>/<folder>`, `dropfolder`, `cli`). `match` is any-of on the
fields in `on`; every entry of `when` is one more condition that must hold as well.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from triage.rules.text import Terms, TextIndex
from triage.ticket import RISK_ORDER, Category, Priority, Risk, Ticket

# "subject", "body", "from", "to", "cc", "attachments", "source" or "header:<name>"
Field = str
TEXT_FIELDS: tuple[str, ...] = ("subject", "body", "from", "to", "cc", "attachments", "source")
HEADER_PREFIX = "header:"


def valid_field(name: str) -> bool:
    return name in TEXT_FIELDS or (
        name.lower().startswith(HEADER_PREFIX) and len(name) > len(HEADER_PREFIX)
    )


def _field_key(name: str) -> str:
    """Header names are case-insensitive: `header:X-Priority` and `header:x-priority` agree."""
    return name.lower() if name.lower().startswith(HEADER_PREFIX) else name


@dataclass(frozen=True)
class Rule:
    """One rule, as the config states it."""

    name: str
    match: tuple[str, ...]
    on: tuple[Field, ...] = ("subject", "body")
    category: Category | None = None
    priority: Priority | None = None
    risk: Risk | None = None
    stop: bool = False
    when: tuple[tuple[Field, tuple[str, ...]], ...] = ()  # every condition must hold
    workflow: str | None = None
    team: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Matcher:
    """Keywords and /regexes/ of one list, matched against one field's text."""

    terms: Terms
    patterns: tuple[re.Pattern[str], ...]

    @classmethod
    def of(cls, entries: tuple[str, ...]) -> Matcher:
        return cls(
            Terms(entry for entry in entries if not is_regex(entry)),
            tuple(re.compile(e[1:-1], re.IGNORECASE) for e in entries if is_regex(e)),
        )

    def find(self, index: TextIndex) -> list[str]:
        """What matched: the keywords as configured, and the text each regex matched."""
        found = self.terms.find(index)
        for pattern in self.patterns:
            hit = pattern.search(index.text)
            if hit:
                found.append(hit.group(0))
        return found


@dataclass(frozen=True)
class CompiledRule:
    rule: Rule
    matcher: Matcher
    conditions: tuple[tuple[Field, Matcher], ...] = ()

    @property
    def terms(self) -> Terms:
        return self.matcher.terms

    @property
    def patterns(self) -> tuple[re.Pattern[str], ...]:
        return self.matcher.patterns

    def matches(self, index: TextIndex) -> bool:
        return bool(self.matcher.find(index))


@dataclass(frozen=True)
class Hit:
    """One rule that fired: on which field, and the words that made it fire."""

    rule: str
    field: str
    words: tuple[str, ...]


@dataclass(frozen=True)
class RuleMatch:
    """What the rules decided; None where no rule said anything."""

    category: Category | None
    priority: Priority | None
    risk: Risk | None
    matched: tuple[str, ...]  # names of the rules that matched, in order
    category_in_subject: bool = False  # the category's rule matched the subject: a strong hint
    hits: tuple[Hit, ...] = ()
    workflow: str | None = None
    team: str | None = None
    team_rule: str | None = None  # the rule that assigned the team
    tags: tuple[str, ...] = ()


def compile_rules(rules: list[Rule]) -> tuple[CompiledRule, ...]:
    return tuple(
        CompiledRule(
            rule=rule,
            matcher=Matcher.of(rule.match),
            conditions=tuple(
                (_field_key(name), Matcher.of(entries)) for name, entries in rule.when
            ),
        )
        for rule in rules
    )


def is_regex(entry: str) -> bool:
    return len(entry) >= 2 and entry.startswith("/") and entry.endswith("/")


def index_fields(ticket: Ticket, source: str = "") -> dict[Field, TextIndex]:
    """Every field a rule may name; headers are looked up lazily by `_index_of`."""
    attachments = " ".join(
        " ".join(part for part in (a.filename or "", a.content_type) if part)
        for a in ticket.attachments
    )
    return {
        "subject": TextIndex(ticket.subject),
        "body": TextIndex(ticket.body),
        "from": TextIndex(ticket.sender or ""),
        "to": TextIndex(", ".join(ticket.header_all("to"))),
        "cc": TextIndex(", ".join(ticket.header_all("cc"))),
        "attachments": TextIndex(attachments),
        "source": TextIndex(source),
        **{
            f"{HEADER_PREFIX}{name}": TextIndex(value)
            for name, value in _joined_headers(ticket).items()
        },
    }


def _joined_headers(ticket: Ticket) -> dict[str, str]:
    joined: dict[str, list[str]] = {}
    for name, value in ticket.headers:
        joined.setdefault(name.lower(), []).append(value)
    return {name: "\n".join(values) for name, values in joined.items()}


_EMPTY = TextIndex("")


def _index_of(indexes: Mapping[Field, TextIndex], name: str) -> TextIndex:
    return indexes.get(name, _EMPTY)


def apply_rules(rules: tuple[CompiledRule, ...], indexes: Mapping[Field, TextIndex]) -> RuleMatch:
    """Rules are tried in order against the subject first, then against every field they name:
    a rule the subject matches outranks one only the body matches. A rule with no `match`
    (only `when` conditions on the envelope) takes part in both passes."""
    subject_only = _evaluate(rules, indexes, subject_pass=True)
    if subject_only.category is not None:
        return subject_only
    return _evaluate(rules, indexes, subject_pass=False)


@dataclass
class _Decision:
    category: Category | None = None
    priority: Priority | None = None
    risk: Risk | None = None
    workflow: str | None = None
    team: str | None = None
    team_rule: str | None = None
    tags: list[str] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)

    def take(self, rule: Rule) -> None:
        """A matching rule sets what no earlier rule set; risk only ever rises."""
        self.category = self.category or rule.category
        self.priority = self.priority or rule.priority
        if rule.risk and (self.risk is None or RISK_ORDER[rule.risk] > RISK_ORDER[self.risk]):
            self.risk = rule.risk
        self.workflow = self.workflow or rule.workflow
        if self.team is None and rule.team:
            self.team, self.team_rule = rule.team, rule.name
        self.tags.extend(tag for tag in rule.tags if tag not in self.tags)


def _evaluate(
    rules: tuple[CompiledRule, ...], indexes: Mapping[Field, TextIndex], subject_pass: bool
) -> RuleMatch:
    decision = _Decision()
    for compiled in rules:
        hit = _fire(compiled, indexes, subject_pass)
        if hit is None:
            continue
        decision.hits.append(hit)
        decision.take(compiled.rule)
        if compiled.rule.stop:
            break
    return RuleMatch(
        decision.category,
        decision.priority,
        decision.risk,
        tuple(hit.rule for hit in decision.hits),
        subject_pass,
        hits=tuple(decision.hits),
        workflow=decision.workflow,
        team=decision.team,
        team_rule=decision.team_rule,
        tags=tuple(decision.tags),
    )


def _fire(
    compiled: CompiledRule, indexes: Mapping[Field, TextIndex], subject_pass: bool
) -> Hit | None:
    """The rule's hit when all its conditions hold, else None."""
    rule = compiled.rule
    where: list[str] = []
    words: list[str] = []
    if rule.match:
        if subject_pass and "subject" not in rule.on:
            return None
        fields = ("subject",) if subject_pass else rule.on
        for name in fields:
            found = compiled.matcher.find(_index_of(indexes, _field_key(name)))
            if found:
                where.append(name)
                words.extend(w for w in found if w not in words)
        if not where:
            return None
    for name, matcher in compiled.conditions:
        found = matcher.find(_index_of(indexes, name))
        if not found:
            return None
        where.append(name)
        words.extend(w for w in found if w not in words)
    return Hit(rule.name, ", ".join(where), tuple(words))
