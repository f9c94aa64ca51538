"""Several daemons on one PostgreSQL store: who holds what, for how long.

- Each node holds the lease `node:<name>` while it lives, renewed every third of the lease
  time by `Heartbeat` (which also publishes its status line). Drop-folder files a node
  claimed (renamed into `.claims/<node>/`) are its own while that lease lasts; a node whose
  lease ran out is dead, and its claimed files are taken over (connectors.dropfolder).
- A mailbox is polled by the node that holds `imap:<account>/<folder>` (`Leased` runs the
  connector only while the lease is held; a node that dies is taken over once it runs out).
- Scheduled jobs run on the node that holds `jobs` (`lease_gate`), once per period (the
  store's jobs_done).
- A node name is one daemon's: a daemon started under a name whose lease another live
  process renews is refused (`claim_node`); one whose holder died (a restart after a crash)
  waits for that lease to run out, at most the lease time, and starts.

`leases_for` is pure: which of the leases wanted a node asks for now.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

import structlog

from triage.logs import crash_site
from triage.ports import LeaseStore
from triage.records import Lease

log = structlog.get_logger("triage.fleet")

NODE_PREFIX = "node:"


class Liveness:
    """Is a node alive (its node lease current)? For the drop folder's takeovers."""

    def __init__(self, store: LeaseStore, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._clock = clock
        self.node = store.node

    def alive(self, node: str) -> bool:
        return self._store.lease_holder(NODE_PREFIX + node, self._clock()) == node


class Heartbeat:
    """Renews this node's lease every third of the lease time, in its own thread."""

    def __init__(
        self,
        store: LeaseStore,
        lease_seconds: float,
        clock: Callable[[], datetime],
        stop: threading.Event,
    ) -> None:
        self._store = store
        self._lease = lease_seconds
        self._clock = clock
        self._stop = stop
        self._thread: threading.Thread | None = None
        self.beats = 0
        # Why this daemon must stop: another process took its node name (the daemon's health)
        self.lost: str | None = None

    def beat(self) -> bool:
        """Renew now; False when the store could not be reached, or another process runs
        under this node's name and holds its lease: then `lost` says so, and the daemon stops
        (its health), since two daemons under one name would take each other's claims."""
        name = NODE_PREFIX + self._store.node
        try:
            held = self._store.take_lease(name, self._lease, self._clock())
            other = None if held else self._store.lease_of(name, self._clock())
        except Exception as exc:
            log.warning("fleet.heartbeat_failed", node=self._store.node, **crash_site(exc))
            return False
        if other is not None and other.instance != self._store.instance:
            log.error(
                "fleet.node_name_taken",
                node=self._store.node,
                by=other.instance,
                hint="another daemon runs under this [store] node name: give each its own",
            )
            self.lost = (
                f"another daemon (pid {other.pid} on host {other.host}) took the node name "
                f"{self._store.node!r} ([store] node) while this one had not renewed its lease "
                f"for {self._lease:g} s (stalled?): this one stops. Give each daemon its own "
                "[store] node name"
            )
        self.beats += 1
        return held

    def start(self) -> None:
        self.beat()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._lease / 3):
            self.beat()

    def stop(self) -> None:
        """At a clean stop: the node lease goes at once, so its claims are taken over now."""
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            self._store.release_lease(NODE_PREFIX + self._store.node)
        except Exception as exc:
            log.warning("fleet.release_failed", node=self._store.node, **crash_site(exc))


def claim_node(
    store: LeaseStore, lease_seconds: float, clock: Callable[[], datetime], stop: threading.Event
) -> str | None:
    """Take this node's lease at start; None once it is ours, else why not (another live
    daemon holds the name). A live holder renews its lease every third of the lease time, so
    its lease never runs out; a dead one's runs out within `lease_seconds`. So when the lease
    is held, wait until the moment it was held until (at most the lease time) and try again:
    still held then means renewed, by a live daemon."""
    name = NODE_PREFIX + store.node
    if store.take_lease(name, lease_seconds, clock()):
        return None
    held = store.lease_of(name, clock())
    if held is not None:
        wait = min(max((held.until - clock()).total_seconds(), 0.0), lease_seconds)
        log.warning(
            "fleet.node_name_held",
            node=store.node,
            by=held.instance,
            wait_seconds=round(wait, 1),
            hint="waiting for the lease to run out (a daemon that died), else refusing",
        )
        if stop.wait(wait + min(0.5, lease_seconds / 3)):
            return f"stopped while waiting for the node name {store.node!r}"
    if store.take_lease(name, lease_seconds, clock()):
        if held is not None:
            log.info("fleet.node_taken_over", node=store.node, was=held.instance)
        return None
    return name_taken(store.node, store.lease_of(name, clock()) or held, lease_seconds)


def name_taken(node: str, held: Lease | None, lease_seconds: float) -> str:
    """Pure: what to tell the admin of a daemon refused for its node name."""
    who = f"pid {held.pid} on host {held.host}" if held is not None else "another process"
    return (
        f"the node name {node!r} ([store] node) is in use by another running daemon ({who}), "
        f"which renewed its lease within the last {lease_seconds:g} s. Each daemon of a fleet "
        "needs its own name: set [store] node in this daemon's config.toml (or "
        "TRIAGE_STORE__NODE) to a name no other daemon uses, or stop the other daemon first. "
        "(A daemon that died holds its name only until its lease runs out: it is then taken "
        "over at start.)"
    )


class Runnable(Protocol):
    name: str
    last_activity: float

    def run(self) -> None: ...


class Leased:
    """A connector that one node of the fleet runs at a time: it runs here only while this
    node holds the lease `lease`, and stops (its own stop event) when the lease is lost.
    `make(stop)` builds a fresh connector for each hold."""

    def __init__(
        self,
        lease: str,
        make: Callable[[threading.Event], Runnable],
        store: LeaseStore,
        lease_seconds: float,
        clock: Callable[[], datetime],
        stop: threading.Event,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = lease
        self.lease = lease
        self._make = make
        self._store = store
        self._seconds = lease_seconds
        self._clock = clock
        self._stop = stop
        self._monotonic = monotonic
        self.last_activity = monotonic()
        self.held = False
        self.current: Runnable | None = None

    def run(self) -> None:
        while not self._stop.is_set():
            self.last_activity = self._monotonic()
            if self._take():
                self._hold()
            else:
                self._stop.wait(self._seconds / 3)

    def _take(self) -> bool:
        try:
            return self._store.take_lease(self.lease, self._seconds, self._clock())
        except Exception as exc:
            log.warning("fleet.lease_failed", lease=self.lease, **crash_site(exc))
            return False

    def _hold(self) -> None:
        """Run the connector until the lease is lost or the daemon stops."""
        inner_stop = threading.Event()
        connector = self._make(inner_stop)
        self.current, self.held = connector, True
        log.info("fleet.lease_taken", lease=self.lease, node=self._store.node)
        thread = threading.Thread(target=connector.run, name=f"{self.lease}", daemon=True)
        thread.start()
        try:
            while thread.is_alive():
                self.last_activity = max(self._monotonic(), connector.last_activity)
                if self._stop.wait(self._seconds / 3):
                    break
                if not self._take():
                    log.warning("fleet.lease_lost", lease=self.lease, node=self._store.node)
                    break
        finally:
            inner_stop.set()
            thread.join(timeout=30)
            self.held = False
            self.current = None
            if self._stop.is_set():
                try:
                    self._store.release_lease(self.lease)
                except Exception as exc:
                    log.warning("fleet.release_failed", lease=self.lease, **crash_site(exc))


def lease_gate(
    store: LeaseStore, lease: str, seconds: float, clock: Callable[[], datetime]
) -> Callable[[], bool]:
    """A check that holds `lease` for `seconds` when it is free: run the jobs only then."""

    def gate() -> bool:
        return store.take_lease(lease, seconds, clock())

    return gate


def holdings(store: LeaseStore, now: datetime) -> list[str]:
    """What this node holds now, for STATUS= and /metrics (its node lease left out)."""
    return [name for name in store.leases_held(now) if not name.startswith(NODE_PREFIX)]
