"""One test's pipeline, store and delivery service, driven by hand: a result is triaged by the
real pipeline and its deliveries written in a transaction, as the commit path does."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

import pytest

from tests.conftest import FixedClock, raw
from triage.compose.app import build_pipeline
from triage.compose.delivery import build_delivery
from triage.config.settings import Settings
from triage.delivery.outbox import Outbox
from triage.delivery.sender import Sender
from triage.delivery.service import DeliveryService
from triage.result import Result
from triage.store.sqlite import SqliteStore


class Harness:
    def __init__(self, settings: Settings, clock: FixedClock) -> None:
        self.settings = settings
        self.store = SqliteStore(settings.store.path)
        self.clock = clock
        # The composition root's delivery: the relay, webhooks and acknowledgements.
        self.service = build_delivery(settings, self.store, clock) or DeliveryService(
            self.store, settings.relay, settings.webhooks, clock, []
        )
        self.pipeline = build_pipeline(
            settings, self.store, Outbox(settings.outbox.dir), clock, deliveries=self.service
        )

    def sender(self, kind: str) -> Sender:
        return next(s for s in self.service._senders if s._transport.kind == kind)

    def triage(
        self,
        data: bytes | str,
        name: str = "ticket.eml",
        source: str = "cli",
        at: datetime | None = None,
    ) -> Result:
        """Through the real commit path: the deliveries are written in the result's
        transaction."""
        return self.pipeline.handle(raw(data, name=name, source=source, at=at)).result

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
