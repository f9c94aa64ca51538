"""The result of one ticket: the JSON object of CONTRACT.md, written to the outbox and printed
by `process --json`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, TypedDict, Unpack

from pydantic import BaseModel, ConfigDict, Field

from triage.rules.extract import Fields
from triage.ticket import Category, Level, Priority, Risk, Status, Tier


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Attempt(_Model):
    tier: Tier
    ok: bool
    error: str | None = None


class Route(_Model):
    tier: Tier
    reason: str
    attempts: list[Attempt] = Field(default_factory=list)
    wanted: Tier | None = None  # set when the policy asked for a tier the gates refused


class FindingOut(_Model):
    """Where a sensitive value is; never the value."""

    tag: str
    kind: str
    field: str
    start: int
    end: int


class SensitivityOut(_Model):
    level: Level = "public"
    tags: list[str] = Field(default_factory=list)
    findings: list[FindingOut] = Field(default_factory=list)


class FieldsOut(_Model):
    @classmethod
    def from_fields(cls, fields: Fields) -> FieldsOut:
        return _fields_from(fields)

    requester: str | None = None
    hosts: list[str] = Field(default_factory=list)
    ips: list[str] = Field(default_factory=list)
    error_codes: list[str] = Field(default_factory=list)
    applications: list[str] = Field(default_factory=list)
    devices: list[str] = Field(default_factory=list)


def _fields_from(fields: Fields) -> FieldsOut:
    return FieldsOut(
        requester=fields.requester,
        hosts=list(fields.hosts),
        ips=list(fields.ips),
        error_codes=list(fields.error_codes),
        applications=list(fields.applications),
        devices=list(fields.devices),
    )


class Cost(_Model):
    usd: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    cached_tokens: int = 0


class Assignment(_Model):
    """Which team should work the ticket, and who said so: the learned tier (with the
    calibrated probability and the model's card id) or a rule."""

    team: str
    probability: float = Field(ge=0.0, le=1.0)
    tier: Literal["learned", "rules"]
    model: str | None = None  # the model's card id


class Suggestion(_Model):
    """A knowledge article or solved ticket that answers the ticket (CONTRACT.md)."""

    title: str
    source: str  # kb/<file> or ticket:<id>
    score: float = Field(ge=0.0, le=1.0)  # calibrated: the share of such suggestions that answer


class Result(_Model):
    id: str
    source: str
    source_ref: str
    message_id: str | None
    received_at: datetime
    sender: str | None = Field(alias="from")
    subject: str
    status: Status
    status_reason: str | None
    duplicate_of: str | None = None
    category: Category = "other"
    priority: Priority = "P3"
    risk: Risk = "low"
    risk_reasons: list[str] = Field(default_factory=list)
    sensitivity: SensitivityOut = Field(default_factory=SensitivityOut)
    summary: str = ""
    fields: FieldsOut = Field(default_factory=FieldsOut)
    route: Route
    escalation: dict[str, Any] | None = None
    cost: Cost = Field(default_factory=Cost)
    workflow: str
    assignment: Assignment | None = None
    # Beyond the contract's required keys:
    needs_review: list[str] = Field(default_factory=list)
    escalate: bool = False  # a model tier's signal that a senior engineer should look now
    cache_of: str | None = None  # the ticket whose answer was reused (a storm, answered once)
    matched_rules: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)  # set by the admin's [[rules]]
    storm_of: str | None = None  # the first report of the same incident by others
    log_slice: str | None = None
    language: str | None = None  # ISO 639-1, None when unsure
    suggestions: list[Suggestion] = Field(default_factory=list)

    def revised(self, **changes: Unpack[ResultChanges]) -> Result:
        """A copy with some fields changed: keyword names and value types are checked by
        mypy (a misspelt field fails type-checking), unlike `model_copy(update=...)`."""
        return self.model_copy(update=changes)

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> Result:
        return cls.model_validate_json(text)


class ResultChanges(TypedDict, total=False):
    """The fields the pipeline and the model tiers may change on a result (`Result.revised`)."""

    source_ref: str  # masked where it leaves the store (redaction.published)
    status: Status
    status_reason: str | None
    duplicate_of: str | None
    category: Category
    priority: Priority
    risk: Risk
    risk_reasons: list[str]
    summary: str
    fields: FieldsOut
    route: Route
    escalation: dict[str, Any] | None
    cost: Cost
    workflow: str
    needs_review: list[str]
    escalate: bool
    cache_of: str | None
    storm_of: str | None
    # Redacted copies for what leaves the machine (triage.delivery): scrubbed text only.
    subject: str
    log_slice: str | None
    assignment: Assignment | None
    language: str | None
    suggestions: list[Suggestion]
