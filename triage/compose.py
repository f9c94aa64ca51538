"""The composition root: the one module that turns Settings into concrete parts."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import structlog

from connectors.dropfolder import DropFolder, DropFolderOptions
from connectors.imap import ImapFolder
from models.port import TicketModel
from triage.config import Settings
from triage.daemon import Connector
from triage.outbox import Outbox
from triage.parsing import MailLimits
from triage.pipeline import Pipeline, PipelineOptions
from triage.ports import Clock, ResultSink, TicketStore
from triage.rules.keywords import CompiledRule, Rule, compile_rules
from triage.store import SqliteStore

log = structlog.get_logger("triage.compose")


def utc_now() -> datetime:
    return datetime.now(UTC)


def rules_from(settings: Settings) -> tuple[CompiledRule, ...]:
    return compile_rules(
        [
            Rule(
                name=rule.name,
                match=tuple(rule.match),
                on=tuple(rule.on),
                category=rule.category,
                priority=rule.priority,
                risk=rule.risk,
                stop=rule.stop,
            )
            for rule in settings.rules
        ]
    )


def pipeline_options(settings: Settings) -> PipelineOptions:
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
        local_min_confidence=settings.local.min_confidence,
        local_usd_per_mtok=settings.local.usd_per_mtok,
    )


def build_pipeline(
    settings: Settings,
    store: TicketStore,
    sink: ResultSink | None,
    clock: Clock = utc_now,
    local: TicketModel | None = None,
) -> Pipeline:
    return Pipeline(store, rules_from(settings), pipeline_options(settings), clock, sink, local)


def build_local_model(settings: Settings) -> TicketModel | None:
    """The local tier, or None when it is off. Raises LocalModelError naming the file."""
    config = settings.local
    if not config.enabled or config.model_path is None:
        log.info("local.disabled", hint="the rules tier answers alone; see [local] model_path")
        return None
    from models.local import LocalModel  # llama.cpp is imported only when a model is used
    from models.prompt import load_prompt

    model = LocalModel(
        config.model_path,
        load_prompt("triage"),
        n_threads=config.n_threads,
        n_ctx=config.n_ctx,
        max_tokens=config.max_tokens,
        timeout_seconds=config.timeout_seconds,
    )
    log.info("local.loaded", model=model.model, threads=model.threads, n_ctx=config.n_ctx)
    return model


@dataclass
class App:
    """Everything `triage run` runs, built from one Settings."""

    settings: Settings
    store: SqliteStore
    pipeline: Pipeline
    stop: threading.Event
    connectors: list[Connector] = field(default_factory=list)

    def close(self) -> None:
        self.store.close()


def build_app(settings: Settings, clock: Clock = utc_now) -> App:
    local = build_local_model(settings)
    store = SqliteStore(settings.store.path)
    pipeline = build_pipeline(settings, store, Outbox(settings.outbox.dir), clock, local)
    stop = threading.Event()
    app = App(settings, store, pipeline, stop)
    if settings.dropfolder.enabled:
        app.connectors.append(DropFolder(dropfolder_options(settings), pipeline, stop))
    if settings.imap.enabled:
        for account, config in settings.imap.account_list():
            for folder in config.folders:
                app.connectors.append(
                    ImapFolder(account, config, folder, pipeline, store, stop, clock)
                )
    return app


def dropfolder_options(settings: Settings) -> DropFolderOptions:
    config = settings.dropfolder
    return DropFolderOptions(
        inbox=config.inbox,
        processed=config.processed,
        failed=config.failed,
        settle_seconds=config.settle_seconds,
        rescan_seconds=config.rescan_seconds,
        max_bytes=int(config.max_file_mb * 1_000_000),
    )
