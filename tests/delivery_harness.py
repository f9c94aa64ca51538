"""One test's pipeline, store and delivery service, driven by hand: a result is triaged by the
real pipeline and its deliveries written in a transaction, as the commit path does."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.conftest import FixedClock, raw
from triage.compose.app import build_pipeline
from triage.config.settings import Settings
from triage.delivery.outbox import Outbox
from triage.delivery.sender import Sender, Transport
from triage.delivery.service import DeliveryService
from triage.delivery.smtp import SmtpTransport
from triage.delivery.webhook import WebhookTransport
from triage.result import Result
from triage.store.sqlite import SqliteStore


class Harness:
    def __init__(self, settings: Settings, clock: FixedClock) -> None:
        self.settings = settings
        self.store = SqliteStore(settings.store.path)
        self.clock = clock
        self.pipeline = build_pipeline(settings, self.store, Outbox(settings.outbox.dir), clock)
        transports: list[Transport] = []
        if settings.relay.enabled:
            transports.append(SmtpTransport(settings.relay))
        if settings.webhooks:
            transports.append(WebhookTransport(settings.webhooks, clock))
        self.service = DeliveryService(
            self.store, settings.relay, settings.webhooks, clock, transports
        )

    def sender(self, kind: str) -> Sender:
        return next(s for s in self.service._senders if s._transport.kind == kind)

    def triage(self, data: bytes | str, name: str = "ticket.eml", source: str = "cli") -> Result:
        item = raw(data, name=name, source=source)
        result = self.pipeline.handle(item).result
        planned = self.service.plan(result, item.data, self.clock())
        if planned is not None:
            self.store.add_deliveries(result.id, planned, self.clock())
            self.service.committed()
        return result

    def close(self) -> None:
        self.service.stop()
        self.store.close()


@pytest.fixture
def harness_for(
    make_settings: Callable[..., Settings], clock: FixedClock
) -> Iterator[Callable[[str], Harness]]:
    """harness_for(toml): a Harness on settings from that TOML; closed after the test."""
    made: list[Harness] = []

    def make(toml: str) -> Harness:
        made.append(Harness(make_settings(toml), clock))
        return made[-1]

    yield make
    for harness in made:
        harness.close()
