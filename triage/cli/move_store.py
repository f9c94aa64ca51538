"""`triage store-to-postgres`: copy the SQLite store at `[store] path` into the empty
PostgreSQL store at `[store] url`. Both ends come from the config, so the url (a secret) is
never on a command line, where `ps` shows it: stop the daemon first, copy, then start the
fleet on the url."""

from __future__ import annotations

import argparse
import sys

from triage.cli.common import EXIT_CONFIG, EXIT_FAILURE, EXIT_OK, Commands, refuse
from triage.config.settings import LoadedSettings
from triage.errors import ConfigError, TriageError


def register(commands: Commands) -> None:
    move = commands.add_parser(
        "store-to-postgres",
        help="copy the SQLite store at [store] path into the empty PostgreSQL store at [store] url",
    )
    move.set_defaults(handler=_store_to_postgres)


def _store_to_postgres(loaded: LoadedSettings, _args: argparse.Namespace) -> int:
    settings = loaded.settings
    if settings.store.url is None:
        print(
            "triage: set [store] url (better: TRIAGE_STORE__URL) to the empty PostgreSQL "
            "database to copy into; [store] path names the SQLite store copied from",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    from triage.store import copy_sqlite_to, open_shared
    from triage.store.guard import running_daemon

    if running_daemon(settings.store.path) is not None:
        print(
            f"triage: a daemon runs on {settings.store.path}: stop it first "
            "(systemctl stop triage), so nothing is written while it is copied",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    try:
        target = open_shared(settings.store.url.get_secret_value(), node="store-to-postgres")
    except ImportError as exc:
        return refuse(ConfigError(f"[store] url: psycopg is missing ({exc}): "
                                  "pip install 'triage[postgres]'"))  # fmt: skip
    except TriageError as exc:
        return refuse(exc)
    try:
        copied = copy_sqlite_to(settings.store.path, target)
    except TriageError as exc:
        return refuse(exc)
    finally:
        target.close()
    rows = ", ".join(f"{n} {table}" for table, n in copied.items() if n)
    print(f"copied {settings.store.path} into {target.path}: {rows or 'nothing (it was empty)'}")
    return EXIT_OK
