"""The composition root: the one module that turns Settings into concrete parts."""

from __future__ import annotations

import dataclasses
import os
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog

from connectors.dropfolder import DropFolder, DropFolderOptions
from connectors.imap import ImapFolder
from models.port import TicketModel
from triage.compose.delivery import build_delivery, build_metrics
from triage.compose.knowledge import build_indexer, build_suggester
from triage.compose.tiers import (
    build_escalator,
    build_learned,
    build_local_model,
    build_offloader,
    escalation_policy,
    learned_policy,
    offload_policy,
    paid_client,
    paid_fallbacks,
    prices,
    runpod_client,
    utc_now,
)
from triage.config.sections import ImapAccountConfig
from triage.config.settings import Settings, secret_values
from triage.delivery.outbox import Outbox
from triage.delivery.service import DeliveryService
from triage.errors import ConfigError, NodeNameTaken
from triage.knowledge.indexer import KnowledgeIndexer
from triage.knowledge.suggest import KnowledgeSuggester
from triage.learned.classifier import LearnedTier
from triage.parsing import MailLimits
from triage.pipeline import Pipeline
from triage.ports import (
    BatchStore,
    Clock,
    Deliveries,
    GuardMemory,
    LeaseStore,
    ResultSink,
    Store,
    Suggester,
    TicketStore,
)
from triage.records import month_window
from triage.rules.keywords import CompiledRule, compile_rules
from triage.runtime.daemon import Connector
from triage.runtime.fleet import (
    Heartbeat,
    Leased,
    Liveness,
    claim_node,
    holdings,
    lease_gate,
)
from triage.runtime.metrics import MetricsServer
from triage.runtime.scheduler import Jobs, Scheduler
from triage.store import open_dry_run, open_shared, open_store
from triage.tiers.options import PipelineOptions
from triage.tiers.paid import Escalator
from triage.tiers.router import Policy
from triage.tiers.runpod import Offloader
from triage.tiers.trust import TrustBars, load_trust

log = structlog.get_logger("triage.compose")


def rules_from(settings: Settings) -> tuple[CompiledRule, ...]:
    return compile_rules([rule.to_rule() for rule in settings.rules])


def routing_policy(settings: Settings) -> Policy:
    routing = settings.routing
    return Policy(
        paid_risks=frozenset(routing.paid_risks),
        local_tasks=frozenset(routing.local_tasks),
        runpod_min_tokens=routing.runpod_min_tokens,
        runpod_levels=frozenset(routing.runpod_levels),
        escalate_to_paid=routing.escalate_to_paid,
        ambiguous_below=routing.ambiguous_below,
    )


def pipeline_options(settings: Settings, dry_run: bool = False) -> PipelineOptions:
    return PipelineOptions(
        limits=MailLimits(
            max_text_attachment_bytes=settings.parsing.max_text_attachment_kb * 1024,
            max_parts=settings.parsing.max_parts,
            max_depth=settings.parsing.max_depth,
            max_body_chars=settings.parsing.max_body_kb * 1024,
        ),
        dedup_window=timedelta(hours=settings.dedup.window_hours),
        log_slice_lines=settings.parsing.log_slice_lines,
        sender_limit_per_hour=settings.dedup.sender_limit_per_hour,
        sender_limit_sources=tuple(settings.dedup.sender_limit_sources),
        own_domains=tuple(settings.senders.own_domains),
        unsolicited=settings.senders.unsolicited,
        local_min_confidence=settings.local.min_confidence,
        local_usd_per_mtok=settings.local.usd_per_mtok,
        policy=routing_policy(settings),
        paid_redact=frozenset(settings.paid.redact),
        allow_spending=not dry_run,
        baseline_price=prices(settings).get(settings.paid.model),
        cache_ttl=timedelta(days=settings.cache.ttl_days) if settings.cache.enabled else None,
        runpod_backlog_seconds=settings.routing.runpod_backlog_seconds,
        secrets=tuple(secret_values(settings)),
        trust=load_trust(settings.local.trust_profile),
        trust_bars=TrustBars(
            min_precision=settings.local.trust_min_precision,
            min_proposals=settings.local.trust_min_proposals,
            min_confidence=settings.local.min_confidence,
            wolf_share=settings.local.wolf_share,
            wolf_window=settings.local.wolf_window,
        ),
    )


def build_pipeline(
    settings: Settings,
    store: TicketStore,
    sink: ResultSink | None,
    clock: Clock = utc_now,
    local: TicketModel | None = None,
    escalator: Escalator | None = None,
    dry_run: bool = False,
    offloader: Offloader | None = None,
    deliveries: Deliveries | None = None,
    learned: LearnedTier | None = None,
    guard_memory: GuardMemory | None = None,
    suggester: Suggester | None = None,
) -> Pipeline:
    """`guard_memory`: the crying-wolf guard's memory, `store` itself (every daemon and
    command on the store then shares it); None keeps it in the pipeline (dry runs, eval)."""
    return Pipeline(
        store,
        rules_from(settings),
        pipeline_options(settings, dry_run),
        clock,
        sink,
        local,
        escalator,
        offloader,
        deliveries,
        learned,
        guard_memory,
        suggester,
    )


@dataclass
class App:
    """Everything `triage run` runs, built from one Settings."""

    settings: Settings
    store: Store
    pipeline: Pipeline
    stop: threading.Event
    connectors: list[Connector] = field(default_factory=list)
    escalator: Escalator | None = None
    offloader: Offloader | None = None
    clock: Clock = utc_now
    scheduler: Scheduler | None = None
    learned: LearnedTier | None = None
    delivery: DeliveryService | None = None
    metrics: MetricsServer | None = None
    fleet: LeaseStore | None = None  # the store's leases, when a fleet shares it (PostgreSQL)
    heartbeat: Heartbeat | None = None  # this node's lease in the fleet
    indexer: KnowledgeIndexer | None = None  # [knowledge]: follows the folders
    suggester: KnowledgeSuggester | None = None

    def start_jobs(self) -> None:
        """After the connectors: the scheduler, the delivery senders, the metrics."""
        if self.heartbeat is not None:
            self.heartbeat.start()
        if self.indexer is not None:
            self.indexer.start(self.stop)  # builds the index in the background
        if self.scheduler is not None:
            self.scheduler.start()
        if self.delivery is not None:
            self.delivery.start()  # undelivered rows of an earlier run go out first
        if self.metrics is not None:
            self.metrics.start()

    def stop_jobs(self) -> None:
        """At shutdown. Deliveries still pending stay in the store for the next start."""
        if self.scheduler is not None:
            self.scheduler.shutdown()
        if self.delivery is not None:
            self.delivery.stop()
        if self.metrics is not None:
            self.metrics.stop()
        if self.heartbeat is not None:
            self.heartbeat.stop()
        if self.indexer is not None:
            self.indexer.stop_and_join()

    def close(self) -> None:
        self.store.close()

    def health(self) -> str | None:
        """What makes going on wrong: the store file replaced under the daemon, or its node
        name taken by another daemon of the fleet (the daemon then stops with an error)."""
        problem = self.store.identity_problem()
        if problem is None and self.heartbeat is not None:
            problem = self.heartbeat.lost
        return problem

    def publish(self, status: str) -> None:
        """The daemon's status line where `triage check` reads it: a fleet's store."""
        if self.fleet is not None:
            self.fleet.heartbeat(status, self.clock())

    def fleet_status(self, now: datetime) -> str:
        """'node web-2 holds imap:support/INBOX, 3 claimed; ' in a fleet, else ''."""
        if self.fleet is None:
            return ""
        claimed = sum(getattr(c, "claimed", lambda: 0)() for c in self.connectors)
        holds = ", ".join([*holdings(self.fleet, now), f"{claimed} claimed"])
        return f"node {self.fleet.node} holds {holds}; "

    def status_line(self) -> str:
        """For systemd's STATUS=: queue depth, last IMAP sync, tickets today, month's spend."""
        now = self.clock()
        waiting = sum(getattr(c, "pending", lambda: 0)() for c in self.connectors)
        syncs = [c.last_sync for c in self.connectors if isinstance(c, ImapFolder) and c.last_sync]
        last_sync = max(syncs).astimezone().strftime("%H:%M:%S") if syncs else "never"
        today = self.store.count_since(now.replace(hour=0, minute=0, second=0, microsecond=0))
        since, until = month_window(now, self.settings.digest.timezone)
        spent = self.store.spent_total(since, until)
        imap = f", last IMAP sync {last_sync}" if self.settings.imap.enabled else ""
        delivery = f", {self.delivery.status()}" if self.delivery is not None else ""
        guard = self.pipeline.model_guard()
        wolf = f", {guard.describe()}" if guard.tripped else ""
        return self.fleet_status(now) + (
            f"{waiting} waiting{imap}, {today} tickets today, ${spent:.2f} spent this month"
            f"{delivery}{wolf}"
        )

    def apply(self, new: Settings) -> list[str]:
        """A reload: rules, routing policy, budgets, prices and the paid and Runpod clients
        (rebuilt from the new settings) take effect for the next ticket. Returns what changed
        that only a restart applies (connectors, the local model, a tier switched on or off).
        Raises ConfigError, before changing anything, when a new client cannot be built."""
        old = self.settings
        paid = paid_client(new) if self.escalator and new.paid.enabled else None
        # A broken fallback refuses the reload before anything changes.
        fallbacks = paid_fallbacks(new) if paid is not None else []
        gpu = runpod_client(new) if self.offloader and new.runpod.enabled else None
        self.pipeline.replace_rules(rules_from(new))
        self.pipeline.replace_options(pipeline_options(new))
        if self.escalator is not None and paid is not None:
            self.escalator.replace(escalation_policy(new), *paid, fallbacks)
        if self.offloader is not None and gpu is not None:
            self.offloader.replace(offload_policy(new), gpu)
        if self.scheduler is not None:
            self.scheduler.reschedule(new)
        if self.learned is not None and new.learned.enabled:
            # A new model file (or another path) is picked up; a broken one is refused and
            # the running model stays (logged).
            self.learned.replace_policy(learned_policy(new))
            self.learned.reload(new.learned.model_path)
        knowledge = new.knowledge
        if self.suggester is not None and self.indexer is not None and knowledge.enabled:
            self.suggester.replace(knowledge.max_suggestions, knowledge.min_score)
            self.indexer.replace(knowledge.dirs, knowledge.history, knowledge.rescan_seconds)
        restart = [
            name
            for name in (
                "dropfolder",
                "imap",
                "local",
                "store",
                "outbox",
                "relay",
                "ack",
                "webhooks",
                "metrics",
            )
            if getattr(old, name) != getattr(new, name)
        ] + [
            name
            for name in ("paid", "runpod", "learned", "knowledge")
            if getattr(old, name).enabled != getattr(new, name).enabled
        ]
        self.settings = new
        return restart


def build_batch(settings: Settings, dry_run: bool = False) -> tuple[Pipeline, BatchStore]:
    """The pipeline of a one-off command (`process`, `replay`) with its store; the caller
    closes the store. A dry run reads the real store, writes nothing and spends nothing."""
    local = build_local_model(settings)
    if dry_run:
        dry = open_dry_run(settings.store.path)
        learned = build_learned(settings, dry)
        pipeline = build_pipeline(
            settings,
            dry,
            None,
            local=local,
            dry_run=True,
            learned=learned,
            suggester=build_suggester(settings, dry),  # the index as it is: nothing written
        )
        return pipeline, dry
    store, _ = open_configured(settings)
    try:
        escalator = build_escalator(settings, store)
        offloader = build_offloader(settings, store)
        learned = build_learned(settings, store)
        indexer = build_indexer(settings, store)
        if indexer is not None:
            indexer.sync()  # a one-off command: the index brought up to date first
    except BaseException:
        store.close()
        raise
    pipeline = build_pipeline(
        settings,
        store,
        Outbox(settings.outbox.dir),
        local=local,
        escalator=escalator,
        offloader=offloader,
        # Planned with the result; `triage run` (now or at its next start) sends them.
        deliveries=build_delivery(settings, store),
        learned=learned,
        guard_memory=store,
        suggester=build_suggester(settings, store),
    )
    return pipeline, store


def build_app(
    settings: Settings, clock: Clock = utc_now, stop: threading.Event | None = None
) -> App:
    stop = stop or threading.Event()
    local = build_local_model(settings)
    store, fleet = open_configured(settings)
    if fleet is not None:  # this node's lease: alive before the first file is claimed
        refused = claim_node(fleet, settings.store.lease_seconds, clock, stop)
        if refused is not None:
            store.close()
            raise NodeNameTaken(refused)
    escalator = build_escalator(settings, store, clock)
    offloader = build_offloader(settings, store, clock)
    delivery = build_delivery(settings, store, clock)
    learned = build_learned(settings, store, clock)
    suggester = build_suggester(settings, store)
    pipeline = build_pipeline(
        settings,
        store,
        Outbox(settings.outbox.dir),
        clock,
        local,
        escalator,
        offloader=offloader,
        deliveries=delivery,
        learned=learned,
        guard_memory=store,
        suggester=suggester,
    )
    jobs = Jobs(store, settings, clock)
    seconds = settings.store.lease_seconds
    if fleet is not None:  # the jobs run on the node that holds the "jobs" lease
        jobs.gate = lease_gate(fleet, "jobs", seconds, clock)
    app = App(
        settings,
        store,
        pipeline,
        stop,
        escalator=escalator,
        offloader=offloader,
        clock=clock,
        scheduler=Scheduler(jobs),
        delivery=delivery,
        learned=learned,
        fleet=fleet,
        heartbeat=Heartbeat(fleet, seconds, clock, stop) if fleet is not None else None,
        indexer=build_indexer(settings, store),
        suggester=suggester,
    )
    if settings.dropfolder.enabled:
        options = dropfolder_options(settings)
        liveness = None
        if fleet is not None:  # files claimed by rename; a dead node's claims taken over
            options = dataclasses.replace(options, node=fleet.node)
            liveness = Liveness(fleet, clock)
        app.connectors.append(DropFolder(options, pipeline, stop, liveness=liveness))
    if settings.imap.enabled:
        for account, config in settings.imap.account_list():
            for folder in config.folders:

                def imap(
                    own_stop: threading.Event,
                    account: str = account,
                    config: ImapAccountConfig = config,
                    folder: str = folder,
                ) -> ImapFolder:
                    return ImapFolder(
                        account,
                        config,
                        folder,
                        pipeline,
                        store,
                        own_stop,
                        clock,
                        quarantine=settings.dropfolder.failed,
                    )

                if fleet is None:
                    app.connectors.append(imap(stop))
                else:  # one node of the fleet polls a mailbox at a time
                    lease = f"imap:{account}/{folder}"
                    app.connectors.append(Leased(lease, imap, fleet, seconds, clock, stop))
    app.metrics = build_metrics(settings, store, app.connectors, clock, fleet)
    return app


def open_configured(settings: Settings) -> tuple[Store, LeaseStore | None]:
    """The configured store, and its leases when a fleet shares it: PostgreSQL when
    `[store] url` is set, else the SQLite file at `[store] path` (one daemon, no leases).
    Raises StoreError when it cannot be opened."""
    config = settings.store
    if config.url is None:
        return open_store(config.path), None
    try:
        shared = open_shared(
            config.url.get_secret_value(),
            node=node_name(settings),
            pool_size=config.pool_size,
            lease_seconds=config.lease_seconds,
        )
    except ImportError as exc:
        raise ConfigError(
            f"[store] url: a PostgreSQL store needs psycopg ({exc}): "
            "pip install 'triage[postgres]', or leave url empty for the SQLite store"
        ) from None
    return shared, shared


def node_name(settings: Settings) -> str:
    """This daemon's name in the fleet: `[store] node`, else the host's name."""
    return settings.store.node or os.uname().nodename


def dropfolder_options(settings: Settings) -> DropFolderOptions:
    config = settings.dropfolder
    return DropFolderOptions(
        inbox=config.inbox,
        processed=config.processed,
        failed=config.failed,
        settle_seconds=config.settle_seconds,
        rescan_seconds=config.rescan_seconds,
        max_bytes=int(config.max_file_mb * 1_000_000),
        abandoned_seconds=config.abandoned_minutes * 60,
    )
