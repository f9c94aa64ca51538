"""The delivery package's face to the rest of the daemon: the pipeline asks it for the extra
writes of a result's transaction and tells it when they are committed; the daemon starts and
stops it; check, the digest and STATUS= ask it what is stuck."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import structlog

from triage.config.delivery import RelayConfig, WebhookConfig
from triage.delivery.ack import AckPolicy, ack_delivery, decide
from triage.delivery.plan import plan_deliveries
from triage.delivery.queue import FAILING_AFTER, DeliveryQueue, lanes, problems
from triage.delivery.sender import Sender, Transport
from triage.errors import StoreError
from triage.logs import crash_site
from triage.ports import Clock, DeliveryStore
from triage.records import ACK_DESTINATION, Delivery, Inbound, Planned
from triage.result import Result

log = structlog.get_logger("triage.delivery")


class DeliveryService:
    def __init__(
        self,
        store: DeliveryStore,
        relay: RelayConfig,
        webhooks: Sequence[WebhookConfig],
        clock: Clock,
        transports: Sequence[Transport],
        ack: AckPolicy | None = None,
    ) -> None:
        self._relay = relay
        self._ack = ack if ack is not None and ack.enabled else None
        self._webhooks = tuple(webhooks)
        self._store = store
        self.queue = DeliveryQueue(store)
        self._transports = tuple(transports)
        self._senders = [
            Sender(self.queue, transport, clock, lane)
            for transport in transports
            for lane in lanes(transport.destinations())
        ]

    @property
    def active(self) -> bool:
        return self._relay.enabled or bool(self._webhooks) or self._ack is not None

    def plan(
        self,
        result: Result,
        raw: bytes,
        now: datetime,
        replaces: bool = False,
        inbound: Inbound | None = None,
    ) -> Planned | None:
        """The deliveries to write in `result`'s transaction (None: nothing to deliver).
        `replaces`: the result replaces one committed before (a replay): to each destination
        that had the earlier one it is the next revision, and earlier ones still pending are
        superseded. `inbound`: the input as the rules read it, for the acknowledgement."""
        if not self.active:
            return None
        try:
            before = self._store.delivery_revisions(result.id) if replaces else {}
            planned = plan_deliveries(result, raw, self._relay, self._webhooks, now, before)
        except Exception as exc:  # a bug must cost a visible delivery, never intake
            log.error("delivery.plan_crashed", ticket=result.id, **crash_site(exc))
            return Planned(unbuildable=f"could not be built: {type(exc).__name__} (see the log)")
        ack = self._acknowledgement(result, inbound, now, before)
        if ack is not None:
            planned.append(ack)
        return Planned(tuple(planned), revised=bool(before)) if planned else None

    def _acknowledgement(
        self,
        result: Result,
        inbound: Inbound | None,
        now: datetime,
        before: dict[tuple[str, str], int],
    ) -> Delivery | None:
        """The requester's acknowledgement, if this ticket gets one: never a second for one
        ticket (its key never changes: a replay or a retried commit writes no new row), at
        most `per_hour` to one address. A bug here costs the acknowledgement alone."""
        policy = self._ack
        if policy is None or ("ack", ACK_DESTINATION) in before:
            return None
        try:
            decision = decide(result, inbound, policy, now)
            if decision.to is None or inbound is None:
                log.debug("ack.none", ticket=result.id, reason=decision.skipped)
                return None
            hour = now - timedelta(hours=1)
            if self._store.deliveries_to("ack", decision.to, hour) >= policy.config.per_hour:
                log.info("ack.none", ticket=result.id, reason="per_hour limit of its sender")
                return None
            return ack_delivery(result, inbound, policy, decision, now)
        except StoreError:
            raise  # the commit fails and the input is retried, its acknowledgement with it
        except Exception as exc:
            log.error("ack.plan_crashed", ticket=result.id, **crash_site(exc))
            return None

    def committed(self) -> None:
        """Right after a commit that wrote deliveries: the senders look now, not later."""
        for sender in self._senders:
            sender.wake()

    def start(self) -> None:
        for sender in self._senders:
            sender.start()

    def stop(self) -> None:
        """Every sender stops after its delivery in flight (each bounded by its transport's
        deadline, all waited for together), then the transports close."""
        for sender in self._senders:
            sender.halt()
        for sender in self._senders:
            sender.join()
        for transport in self._transports:
            transport.close()

    def counts(self) -> dict[tuple[str, str], int]:
        return self._store.delivery_counts()

    def problems(self) -> list[str]:
        """Destinations that keep failing and deliveries refused for good, in words."""
        return problems(self._store)

    def status(self) -> str:
        """For STATUS=: e.g. 'deliveries 2 pending, 1 failing, 1 misconfigured'."""
        by_state = self._store.delivery_counts()
        pending = sum(n for (_, state), n in by_state.items() if state == "pending")
        wrong = {(f.kind, f.destination) for f in self._store.deliveries_misconfigured()}
        failing = self._store.deliveries_failing(FAILING_AFTER)
        stuck = len([f for f in failing if (f.kind, f.destination) not in wrong])
        return (
            f"deliveries {pending} pending"
            + (f", {stuck} failing" if stuck else "")
            + (f", {len(wrong)} misconfigured" if wrong else "")
        )
