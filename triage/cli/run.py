"""`triage run`: the daemon, until SIGTERM/SIGINT (SIGHUP reloads the configuration)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from triage.cli.common import EXIT_CONFIG, EXIT_FAILURE, NEW_STORE_HELP, Commands, refuse
from triage.config.settings import LoadedSettings, load_settings
from triage.errors import ConfigError, TriageError
from triage.store.guard import missing_store

if TYPE_CHECKING:
    from triage.store.guard import DaemonLock

log = structlog.get_logger("triage.cli")


def register(commands: Commands) -> None:
    run = commands.add_parser("run", help="run the daemon until SIGTERM/SIGINT")
    run.add_argument("--new-store", action="store_true", help=NEW_STORE_HELP)
    run.set_defaults(handler=_run)


def _run(loaded: LoadedSettings, args: argparse.Namespace) -> int:
    from triage.errors import StoreLocked
    from triage.store.guard import DaemonLock

    settings = loaded.settings
    if settings.store.shared:
        # Several daemons share a PostgreSQL store: no lock file; each publishes its status
        # in the store (its heartbeat), where `triage check` reads the fleet.
        return _run_locked(loaded, None)
    problem = None if args.new_store else missing_store(settings.store.path, settings.outbox.dir)
    if problem:
        print(f"triage: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        lock = DaemonLock(settings.store.path)
    except StoreLocked as exc:
        print(f"triage: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except OSError as exc:
        print(f"triage: cannot lock the store {settings.store.path}: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    try:
        return _run_locked(loaded, lock)
    finally:
        lock.release()


def _run_locked(loaded: LoadedSettings, lock: DaemonLock | None) -> int:
    from triage.compose.app import build_app
    from triage.runtime import hangup
    from triage.runtime.daemon import Daemon
    from triage.runtime.notify import Notifier

    # A stop asked for while starting (loading a model can take seconds) is honoured too.
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        app = build_app(loaded.settings, stop=stop)
    except TriageError as exc:
        return refuse(exc)
    log.info("config.loaded", path=str(loaded.source) if loaded.source else "built-in defaults")

    def reload() -> bool:
        """SIGHUP: read the config again; a broken one is refused and the running one stays."""
        try:
            new = load_settings(loaded.source, os.environ, Path.cwd()).settings
            restart = app.apply(new)
        except ConfigError as exc:
            log.error(
                "config.reload_refused",
                error=str(exc),
                hint="the running configuration stays; fix the file and reload again",
            )
            return False
        log.info(
            "config.reloaded",
            path=str(loaded.source) if loaded.source else "defaults",
            needs_restart=restart,
        )
        return True

    daemon = Daemon(
        app.connectors,
        app.stop,
        app.close,
        notifier=Notifier(os.environ),
        status=app.status_line,
        reload=reload,
        start_jobs=app.start_jobs,  # the scheduler, delivery senders, metrics
        stop_jobs=app.stop_jobs,
        health=app.health,
        publish=lock.publish if lock is not None else app.publish,
    )
    return daemon.run(reload_pending=hangup.hangup_pending)
