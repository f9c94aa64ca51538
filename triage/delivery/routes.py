"""Which helpdesk address a result is relayed to: the first [[relay.routes]] entry that
matches, else [relay] default_to. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from triage.config.delivery import HeaderStyle, RelayConfig, RelayRouteConfig
from triage.result import Result


@dataclass(frozen=True)
class Facts:
    """What routes match on, taken from a result (never free text)."""

    category: str
    risk: str
    priority: str
    workflow: str
    team: str | None
    source: str
    storm: bool  # a later report of an incident someone reported first
    language: str | None = None  # ISO 639-1, None when unsure

    @classmethod
    def of(cls, result: Result) -> Facts:
        # assignment and storm_of arrive with the learned tier and storm detection; until a
        # result carries them, team is unknown and no ticket is part of a storm.
        assignment = getattr(result, "assignment", None)
        team = getattr(assignment, "team", None) if assignment is not None else None
        return cls(
            category=result.category,
            risk=result.risk,
            priority=result.priority,
            workflow=result.workflow,
            team=team if isinstance(team, str) else None,
            source=result.source,
            storm=getattr(result, "storm_of", None) is not None,
            language=result.language,
        )


@dataclass(frozen=True)
class Destination:
    name: str
    to: tuple[str, ...]
    headers: HeaderStyle
    group: str  # Zammad group / Znuny queue; "" = the category
    attach: bool  # the original as message/rfc822 instead of Resent-* headers
    internal: bool  # may receive the original of a restricted ticket


def route_matches(route: RelayRouteConfig, facts: Facts) -> bool:
    def listed(values: Sequence[str], value: str | None) -> bool:
        return not values or (value is not None and value in values)

    return (
        listed(route.category, facts.category)
        and listed(route.risk, facts.risk)
        and listed(route.priority, facts.priority)
        and listed(route.workflow, facts.workflow)
        and listed(route.team, facts.team)
        and listed(route.language, facts.language)
        and (not route.source or any(fnmatchcase(facts.source, p) for p in route.source))
        and (route.storm is None or route.storm == facts.storm)
    )


def pick_destination(facts: Facts, relay: RelayConfig) -> Destination | None:
    """The first matching route's destination, else the default one, else None."""
    for number, route in enumerate(relay.routes, start=1):
        if route_matches(route, facts):
            return Destination(
                name=route.name or f"route-{number}",
                to=tuple(route.to),
                headers=route.headers,
                group=route.group,
                attach=route.attach,
                internal=route.internal,
            )
    if not relay.default_to:
        return None
    return Destination(
        name="default",
        to=tuple(relay.default_to),
        headers=relay.default_headers,
        group="",
        attach=False,
        internal=relay.default_internal,
    )
