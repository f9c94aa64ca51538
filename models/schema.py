"""The structured answer a model tier gives for one ticket, and the JSON schema it writes.

A model tier answers in two parts. The decisions (category, risk, escalation) are never
written by the model: they are *scored* from its token probabilities, as a choice among the
allowed labels and a yes/no question (models/local.py), and carried as probabilities. What
the model writes, under a llama.cpp grammar, is only the short free text: a summary and the
nothing else (the rules already extract hosts, IPs, error codes, applications and devices;
asking a small model for them again only invites values that are not in the ticket).

The written part's schema is bounded so that its largest possible answer fits `max_tokens`
(see `worst_case_tokens`). The same schema validates what the Runpod worker returns.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from triage.ticket import Category, Priority, Risk

SUMMARY_CHARS = 140  # one short sentence
# The written answer's grammar allows no \u escapes, so one character is at most four bytes
# (UTF-8) and one generated token is at least one byte.
BYTES_PER_CHAR = 4


class ExtractedFields(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hosts: list[str] = Field(default_factory=list, max_length=5)
    ips: list[str] = Field(default_factory=list, max_length=5)
    error_codes: list[str] = Field(default_factory=list, max_length=5)
    applications: list[str] = Field(default_factory=list, max_length=5)
    devices: list[str] = Field(default_factory=list, max_length=5)


class Written(BaseModel):
    """What the model writes itself: nothing the rules already know."""

    model_config = ConfigDict(extra="forbid")
    summary: str  # the grammar holds it to SUMMARY_CHARS (answer_schema)

    @field_validator("summary")
    @classmethod
    def _trim(cls, summary: str) -> str:
        # Bytes that were not valid UTF-8 decode to one replacement character each and may
        # push the count past the grammar's limit.
        return summary.strip()[:SUMMARY_CHARS]


class ModelAnswer(BaseModel):
    """One call's answer. `category`, `risk` and `escalate` follow from the probabilities;
    `confidence` is the chosen category's probability in percent, not a number the model
    wrote."""

    model_config = ConfigDict(extra="forbid")
    category: Category
    priority: Priority
    risk: Risk
    risk_reasons: list[str] = Field(max_length=3)
    summary: str = Field(max_length=1200)
    fields: ExtractedFields
    escalate: bool
    confidence: int = Field(ge=0, le=100, description="percent")
    # The scored choice: each allowed category's probability (they sum to 1).
    label_probabilities: dict[str, float] = Field(default_factory=dict)
    # P(yes) for "a security incident or an outage of many people?"; None: not asked.
    incident_probability: float | None = Field(default=None, ge=0.0, le=1.0)

    @field_validator("summary")
    @classmethod
    def _trim(cls, summary: str) -> str:
        return summary.strip()[:SUMMARY_CHARS]


def answer_schema() -> dict[str, Any]:
    """The JSON schema of the written part, with the limits the grammar enforces."""
    schema = Written.model_json_schema()
    props = schema["properties"]
    props["summary"]["maxLength"] = SUMMARY_CHARS
    schema["additionalProperties"] = False
    schema["required"] = list(props)
    return schema


def largest_answer() -> str:
    """The longest text the schema allows (every string at its limit)."""
    return json.dumps({"summary": "x" * SUMMARY_CHARS})


def worst_case_tokens() -> int:
    """An upper bound on the tokens of any answer the grammar admits: each string character
    may take up to BYTES_PER_CHAR byte tokens, the JSON around them one token a byte."""
    strings = SUMMARY_CHARS
    structure = len(largest_answer()) - strings
    return structure + strings * BYTES_PER_CHAR


class Analysis(BaseModel):
    """The paid model's structured analysis of one ticket."""

    model_config = ConfigDict(extra="ignore")
    severity: Literal["critical", "high", "medium", "low"]
    category: Category
    priority: Priority
    next_steps: list[str] = Field(min_length=1, max_length=10)
    draft_reply: str = Field(min_length=1, max_length=4000)
    confidence: int = Field(ge=0, le=100)
