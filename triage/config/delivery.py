"""The configuration of delivery: [relay] with its [[relay.routes]], [[webhooks]], [metrics]."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import (
    Field,
    SecretStr,
    field_validator,
)

from triage.config.sections import Section, ServerConfig, _empty_is_none
from triage.ticket import Category, Priority, Risk

HeaderStyle = Literal["zammad", "otrs", "plain"]


def _one_or_many(value: object) -> object:
    """An address may be written alone or as a list; "" means none."""
    if value == "":
        return []
    return [value] if isinstance(value, str) else value


class RelayRouteConfig(Section):
    """One [[relay.routes]] entry: an empty list matches anything; every list given must match."""

    name: str = ""
    category: list[Category] = Field(default_factory=list)
    risk: list[Risk] = Field(default_factory=list)
    priority: list[Priority] = Field(default_factory=list)
    workflow: list[str] = Field(default_factory=list)
    team: list[str] = Field(default_factory=list)
    source: list[str] = Field(default_factory=list)
    storm: bool | None = None
    language: list[str] = Field(default_factory=list)  # ISO 639-1 codes: "de", "fr", ...
    to: list[str] = Field(min_length=1)
    headers: HeaderStyle = "plain"
    group: str = ""
    attach: bool = False
    internal: bool = False

    _listed = field_validator("to", mode="before")(_one_or_many)


class RelayConfig(ServerConfig):
    enabled: bool
    sender: str = Field(alias="from", min_length=3)
    default_to: list[str]
    default_headers: HeaderStyle
    default_internal: bool
    statuses: list[Literal["triaged", "duplicate", "ignored", "quarantined"]]
    timeout_seconds: float = Field(gt=0)
    retry_cap_seconds: float = Field(gt=0)
    give_up_hours: float = Field(gt=0)
    routes: list[RelayRouteConfig] = Field(default_factory=list)

    _none_when_empty = field_validator("ca_file", "password", mode="before")(_empty_is_none)
    _listed = field_validator("default_to", mode="before")(_one_or_many)


class WebhookConfig(Section):
    url: str = Field(pattern=r"^https?://\S+$")
    secret: SecretStr = Field(min_length=16)
    status: list[Literal["triaged", "duplicate", "ignored", "quarantined"]] = Field(
        default_factory=list
    )
    category: list[Category] = Field(default_factory=list)
    risk: list[Risk] = Field(default_factory=list)
    timeout_seconds: float = Field(default=10.0, gt=0)
    retry_cap_seconds: float = Field(default=300.0, gt=0)
    give_up_hours: float = Field(default=24.0, gt=0)


class MetricsConfig(Section):
    listen: str = Field(pattern=r"^$|^\[?[\w.:-]*\]?:\d{1,5}$")
    textfile: Path | None
    textfile_seconds: float = Field(gt=0)

    _none_when_empty = field_validator("textfile", mode="before")(_empty_is_none)
