"""The structured answer a model tier gives for one ticket, and its JSON schema.

The same schema constrains the local model (as a llama.cpp grammar) and the Runpod worker,
and validates what either returns.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from triage.ticket import Category, Priority, Risk

_SHORT = 120
SUMMARY_CHARS = 400


class ExtractedFields(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hosts: list[str] = Field(default_factory=list, max_length=5)
    ips: list[str] = Field(default_factory=list, max_length=5)
    error_codes: list[str] = Field(default_factory=list, max_length=5)
    applications: list[str] = Field(default_factory=list, max_length=5)
    devices: list[str] = Field(default_factory=list, max_length=5)


class ModelAnswer(BaseModel):
    """One call's answer: classification, summary, extraction and the escalation signal."""

    model_config = ConfigDict(extra="forbid")
    category: Category
    priority: Priority
    risk: Risk
    risk_reasons: list[str] = Field(max_length=3)
    summary: str = Field(min_length=1, max_length=1200)
    fields: ExtractedFields
    escalate: bool
    confidence: int = Field(ge=0, le=100, description="percent")

    @field_validator("summary")
    @classmethod
    def _trim(cls, summary: str) -> str:
        # The grammar stops at SUMMARY_CHARS characters; bytes that were not valid UTF-8
        # decode to one replacement character each and may push the count past it.
        return summary.strip()[:SUMMARY_CHARS]


def answer_schema() -> dict[str, Any]:
    """The JSON schema, with length limits the grammar enforces while generating."""
    schema = ModelAnswer.model_json_schema()
    fields = schema["$defs"]["ExtractedFields"]
    for prop in fields["properties"].values():
        prop["items"]["maxLength"] = 80
        prop["maxItems"] = 5
    schema["properties"]["risk_reasons"]["items"]["maxLength"] = _SHORT
    schema["properties"]["summary"]["maxLength"] = SUMMARY_CHARS
    # llama.cpp's grammar does not bound integers: offer the steps as literals instead.
    schema["properties"]["confidence"] = {"type": "integer", "enum": list(range(0, 101, 5))}
    schema["additionalProperties"] = False
    fields["additionalProperties"] = False
    schema["required"] = list(schema["properties"])
    fields["required"] = list(fields["properties"])
    return schema


class Analysis(BaseModel):
    """The paid model's structured analysis of one ticket."""

    model_config = ConfigDict(extra="ignore")
    severity: Literal["critical", "high", "medium", "low"]
    category: Category
    priority: Priority
    next_steps: list[str] = Field(min_length=1, max_length=10)
    draft_reply: str = Field(min_length=1, max_length=4000)
    confidence: int = Field(ge=0, le=100)
