"""Prompt templates: named, versioned files under models/prompts/, static part first."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    version: str
    system: str
    user: str
    workflow_task: str  # what the seed's policy calls the task: classification, summary, ...
    questions: dict[str, str] = field(default_factory=dict)  # asked after the ticket, by name

    @property
    def label(self) -> str:
        return f"{self.name}@v{self.version}"

    @property
    def instructions(self) -> str:
        """The template's own words (system text and questions), without the ticket."""
        return "\n".join([self.system, *self.questions.values()])

    def messages(self, **values: str) -> list[dict[str, str]]:
        """The system text (identical for every ticket) first, the ticket last."""
        return [
            {"role": "system", "content": self.system},
            {"role": "user", "content": self.user.format(**values)},
        ]


def load_prompt(name: str) -> PromptTemplate:
    text = resources.files("models").joinpath("prompts", f"{name}.toml").read_text("utf-8")
    data = tomllib.loads(text)
    return PromptTemplate(
        name=data["name"],
        version=str(data["version"]),
        system=data["system"].strip(),
        user=data["user"].strip(),
        workflow_task=data["workflow_task"],
        questions={key: str(text).strip() for key, text in data.get("questions", {}).items()},
    )
