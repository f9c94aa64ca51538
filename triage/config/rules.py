"""The configuration of the admin's [[rules]] and [rules_options]."""

from __future__ import annotations

import re

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from triage.config.sections import Section
from triage.rules.keywords import TEXT_FIELDS, Rule, is_regex, valid_field
from triage.ticket import Category, Priority, Risk

_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
_NAME_HINT = "a name of letters, digits, '.', '_' or '-' (e.g. 'network-ops')"


def _check_entries(entries: list[str]) -> list[str]:
    for entry in entries:
        if is_regex(entry):
            try:
                re.compile(entry[1:-1])
            except re.error as exc:
                raise ValueError(f"regular expression {entry} does not compile: {exc}") from exc
        elif not entry.strip(" *"):
            raise ValueError("an empty keyword matches everything; remove it")
    return entries


def _check_field(name: str) -> str:
    if not valid_field(name):
        raise ValueError(
            f"unknown field {name!r}: one of {', '.join(TEXT_FIELDS)}, or 'header:<Name>'"
            " (e.g. 'header:X-Priority')"
        )
    return name


class RuleConfig(Section):
    """One [[rules]] table: conditions (`match` on the fields in `on`, and every `when`) and
    what a match sets."""

    name: str = Field(min_length=1)
    match: list[str] = Field(default_factory=list)
    on: list[str] = Field(default=["subject", "body"], min_length=1)
    when: dict[str, list[str]] = Field(default_factory=dict)
    category: Category | None = None
    priority: Priority | None = None
    risk: Risk | None = None
    workflow: str | None = None
    team: str | None = None
    tags: list[str] = Field(default_factory=list)
    stop: bool = False

    @field_validator("match")
    @classmethod
    def _regexes_compile(cls, entries: list[str]) -> list[str]:
        return _check_entries(entries)

    @field_validator("on")
    @classmethod
    def _known_fields(cls, names: list[str]) -> list[str]:
        return [_check_field(name) for name in names]

    @field_validator("when")
    @classmethod
    def _known_conditions(cls, conditions: dict[str, list[str]]) -> dict[str, list[str]]:
        for name, entries in conditions.items():
            _check_field(name)
            if not entries:
                raise ValueError(f"when.{name} is empty: give at least one keyword or /regex/")
            _check_entries(entries)
        return conditions

    @field_validator("workflow", "team")
    @classmethod
    def _a_name(cls, value: str | None) -> str | None:
        if value is not None and not re.match(_NAME, value):
            raise ValueError(f"expected {_NAME_HINT}")
        return value

    @field_validator("tags")
    @classmethod
    def _names(cls, tags: list[str]) -> list[str]:
        for tag in tags:
            if not re.match(_NAME, tag):
                raise ValueError(f"tag {tag!r}: expected {_NAME_HINT}")
        return tags

    @model_validator(mode="after")
    def _has_a_condition(self) -> RuleConfig:
        if not self.match and not self.when:
            raise ValueError("a rule needs `match` or `when` (otherwise it matches everything)")
        return self

    def to_rule(self) -> Rule:
        return Rule(
            name=self.name,
            match=tuple(self.match),
            on=tuple(self.on),
            category=self.category,
            priority=self.priority,
            risk=self.risk,
            stop=self.stop,
            when=tuple((name, tuple(entries)) for name, entries in self.when.items()),
            workflow=self.workflow,
            team=self.team,
            tags=tuple(self.tags),
        )


class RulesOptions(Section):
    replace_defaults: bool
