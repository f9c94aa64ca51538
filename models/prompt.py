"""Prompt templates: named, versioned files under models/prompts/, static part first."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    version: str
    system: str
    user: str
    workflow_task: str  # what the seed's policy calls the task: classification, summary, ...

    @property
    def label(self) -> str:
        return f"{self.name}@v{self.version}"

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
    )
