"""Building delivery from the settings: the relay and webhook senders, and the metrics server
(part of the composition root)."""

from __future__ import annotations

import dataclasses
import time
from datetime import datetime, timedelta

import structlog

from connectors.imap import ImapFolder
from triage.compose.tiers import utc_now
from triage.config.settings import Settings
from triage.delivery.ack import AckPolicy, ack_problem
from triage.delivery.sender import Transport
from triage.delivery.service import DeliveryService
from triage.delivery.smtp import RELAY_HOST_EMPTY, SmtpTransport
from triage.delivery.webhook import WebhookTransport
from triage.errors import ConfigError
from triage.ports import Clock, LeaseStore, Store
from triage.runtime.daemon import Connector
from triage.runtime.fleet import holdings
from triage.runtime.metrics import MetricsServer, MetricsSources, StoreCollector, registry_for

log = structlog.get_logger("triage.compose")


def build_delivery(
    settings: Settings, store: Store, clock: Clock = utc_now
) -> DeliveryService | None:
    """The relay, the webhooks and the acknowledgements, or None when none is on. An
    enabled [ack] that cannot send is a configuration error (`triage check` says why)."""
    transports: list[Transport] = []
    if settings.relay.enabled:
        if not settings.relay.host:
            raise ConfigError(RELAY_HOST_EMPTY)
        transports.append(SmtpTransport(settings.relay))
    if settings.webhooks:
        transports.append(WebhookTransport(settings.webhooks, clock))
    ack = ack_policy(settings)
    if ack.enabled:
        problem = ack_problem(settings.ack, settings.relay)
        if problem is not None:
            raise ConfigError(problem)
        # Their own sender and connection, with the null envelope sender MAIL FROM:<>.
        transports.append(SmtpTransport(settings.relay, kind="ack", envelope_from=""))
    if not transports:
        return None
    return DeliveryService(store, settings.relay, settings.webhooks, clock, transports, ack)


def ack_policy(settings: Settings) -> AckPolicy:
    """[ack] with our own addresses (the relay's, the mailboxes read) and the domains of
    the organisation ([senders] own_domains)."""
    logins = (
        [account.username for _, account in settings.imap.account_list()]
        if settings.imap.enabled
        else []
    )
    return AckPolicy.of(settings.ack, settings.relay, settings.senders.own_domains, logins)


def build_metrics(
    settings: Settings,
    store: Store,
    connectors: list[Connector],
    clock: Clock = utc_now,
    fleet: LeaseStore | None = None,
) -> MetricsServer | None:
    """/metrics and/or the textfile, or None when [metrics] is off."""
    config = settings.metrics
    if not config.listen and config.textfile is None:
        return None

    def queue_depth() -> dict[str, int]:
        return {c.name: int(getattr(c, "pending", lambda: 0)()) for c in connectors}

    def last_pass() -> dict[str, datetime]:
        """IMAP: the last completed sync; other sources: their loop's latest turn."""
        now, monotonic = clock(), time.monotonic()
        passes = {}
        for c in connectors:
            if isinstance(c, ImapFolder):
                if c.last_sync is not None:
                    passes[c.name] = c.last_sync
            else:
                passes[c.name] = now - timedelta(seconds=max(0.0, monotonic - c.last_activity))
        return passes

    sources = MetricsSources(
        budgets={
            "paid": settings.paid.monthly_budget_usd,
            "runpod": settings.runpod.monthly_budget_usd,
        },
        zone=settings.digest.timezone,
        queue_depth=queue_depth,
        last_pass=last_pass,
    )
    if fleet is not None:  # a fleet's store: the node's name and what it holds

        def holds() -> dict[str, int]:
            held = {name: 1 for name in holdings(fleet, clock())}
            held["claimed"] = sum(int(getattr(c, "claimed", lambda: 0)()) for c in connectors)
            return held

        sources = dataclasses.replace(sources, node=fleet.node, holds=holds)
    registry = registry_for(StoreCollector(store, clock, sources))
    return MetricsServer(registry, config.listen, config.textfile, config.textfile_seconds)
