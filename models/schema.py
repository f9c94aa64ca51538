"""The structured answer a model tier gives for one ticket.

A model tier answers in two parts. The decisions (category, risk, escalation) are never
written by the model: they are *scored* from its token probabilities, as a choice among the
allowed labels and a yes/no question (models/local.py), and carried as probabilities. What
the model writes, under a llama.cpp grammar, is only a one-line summary: nothing else (the
rules already extract hosts, IPs, error codes, applications and devices; asking a small model
for them again only invites values that are not in the ticket).

The written part is bounded so that its largest possible answer fits `max_tokens` (see
`worst_case_tokens`). The same answer validates what the Runpod worker returns.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from triage.ticket import Category, Priority, Risk

SUMMARY_CHARS = 100  # one short sentence, one line
BYTES_PER_CHAR = 4  # UTF-8


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
    summary: str  # the decoder holds it to SUMMARY_CHARS characters on one line

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


def largest_answer() -> str:
    """The longest text the grammar allows."""
    return "x" * SUMMARY_CHARS


def worst_case_tokens() -> int:
    """An upper bound on the tokens of any answer the grammar admits: a character is at most
    BYTES_PER_CHAR bytes of UTF-8 and a token at least one byte."""
    return SUMMARY_CHARS * BYTES_PER_CHAR


class Analysis(BaseModel):
    """The paid model's structured analysis of one ticket."""

    model_config = ConfigDict(extra="ignore")
    severity: Literal["critical", "high", "medium", "low"]
    category: Category
    priority: Priority
    next_steps: list[str] = Field(min_length=1, max_length=10)
    draft_reply: str = Field(min_length=1, max_length=4000)
    confidence: int = Field(ge=0, le=100)
