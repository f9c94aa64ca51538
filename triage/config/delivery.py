"""The configuration of delivery: [relay] with its [[relay.routes]], [ack], [[webhooks]],
[metrics]."""

from __future__ import annotations

import re
import string
from pathlib import Path
from typing import Literal

from pydantic import (
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from triage.config.sections import Section, ServerConfig, _empty_is_none
from triage.ticket import Category, Priority, Risk

HeaderStyle = Literal["zammad", "otrs", "plain"]


# A ticket's language as the result names it: a lowercase ISO 639-1 code.
_LANGUAGE = re.compile(r"^[a-z]{2}$")


def _iso_codes(value: list[str]) -> list[str]:
    """A route's languages: "German" or "DE" would never match a result's "de"."""
    wrong = [code for code in value if not _LANGUAGE.match(code)]
    if wrong:
        raise ValueError(f"{wrong[0]!r} is not an ISO 639-1 code, e.g. 'de'")
    return value


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
    _codes = field_validator("language")(_iso_codes)


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


# What an acknowledgement's texts may name: the ticket's id and the requester's subject.
ACK_PLACEHOLDERS = frozenset({"id", "subject"})
_PLAIN_ADDRESS = re.compile(r"^[!-~]+@[A-Za-z0-9.-]+\.[A-Za-z0-9-]+$")


def _placeholders(value: str) -> str:
    """Only {id} and {subject} (and {{ }} for a brace): anything else is refused at load,
    never found out when the first ticket arrives."""
    try:
        parsed = list(string.Formatter().parse(value))
    except ValueError as exc:
        raise ValueError(f"{exc}; write {{{{ and }}}} for a brace") from None
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in ACK_PLACEHOLDERS or spec or conversion:
            raise ValueError(
                f"unknown placeholder {{{name}}}: only {{id}} and {{subject}} are filled in"
            )
    return value


class AckTextConfig(Section):
    """One language's acknowledgement: {id} is the ticket's id, {subject} the requester's
    subject (on one line, with anything sensitive masked)."""

    subject: str = Field(min_length=1)
    body: str = Field(min_length=1)

    _filled = field_validator("subject", "body")(_placeholders)


class AckConfig(Section):
    """[ack]: a short auto-reply to the requester (RFC 3834), through the relay's server."""

    enabled: bool
    sender: str = Field(alias="from")  # "" while disabled; `triage check` says what is missing
    name: str  # the display name of From
    language: str  # the texts used when the ticket's language has none (or is unsure)
    per_hour: int = Field(ge=1)  # at most this many to one address within an hour
    max_age_hours: float = Field(gt=0)  # older mail (a backlog, a re-read folder) gets none
    sources: list[str]  # where the tickets come from (patterns with *), e.g. "imap:*"
    never_to: list[str]  # further addresses (patterns with *) that never get one
    texts: dict[str, AckTextConfig]
    phishing: dict[str, AckTextConfig]  # for a colleague's report of a phishing mail

    @field_validator("sender")
    @classmethod
    def _address(cls, value: str) -> str:
        if value and not _PLAIN_ADDRESS.match(value):
            raise ValueError("must be one plain mail address, e.g. helpdesk@example.com")
        return value

    @field_validator("name")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if any(ch in value for ch in "\r\n\x00"):
            raise ValueError("must be one line")
        return value

    @model_validator(mode="after")
    def _languages(self) -> AckConfig:
        if not _LANGUAGE.match(self.language):
            raise ValueError(f"language {self.language!r} must be an ISO 639-1 code, e.g. 'en'")
        for table in ("texts", "phishing"):
            given: dict[str, AckTextConfig] = getattr(self, table)
            wrong = [code for code in given if not _LANGUAGE.match(code)]
            if wrong:
                raise ValueError(f"{table}: {wrong[0]!r} is not an ISO 639-1 code, e.g. 'de'")
            if self.language not in given:
                raise ValueError(
                    f"{table} has no text for language = {self.language!r}, the fallback"
                )
        return self


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
