"""`triage knowledge [--rebuild]`: bring the knowledge index up to date with `[knowledge]
dirs` and `history` now (the daemon does it in the background too) and print the counts;
`--rebuild` reads and indexes every article and solved ticket again."""

from __future__ import annotations

import argparse
import sys

from triage.cli.common import EXIT_CONFIG, EXIT_FAILURE, EXIT_OK, Commands
from triage.compose.app import open_configured
from triage.compose.knowledge import build_indexer
from triage.config.settings import LoadedSettings


def register(commands: Commands) -> None:
    knowledge = commands.add_parser(
        "knowledge",
        help="bring the knowledge index up to date with [knowledge] dirs and history",
    )
    knowledge.add_argument(
        "--rebuild", action="store_true", help="read and index every document again"
    )
    knowledge.set_defaults(handler=_knowledge)


def _knowledge(loaded: LoadedSettings, args: argparse.Namespace) -> int:
    settings = loaded.settings
    store, _ = open_configured(settings)
    try:
        indexer = build_indexer(settings, store)
        if indexer is None:
            print(
                "triage: knowledge suggestions are off: set [knowledge] dirs (folders of "
                "articles) or history (a solved-ticket export)",
                file=sys.stderr,
            )
            return EXIT_CONFIG
        counts = indexer.sync(rebuild=args.rebuild)
        sources = store.knowledge_digests()
    finally:
        store.close()
    articles = sum(source.startswith("kb/") for source in sources)
    print(f"knowledge: {counts.describe()}")
    print(f"index: {articles} articles, {len(sources) - articles} solved tickets")
    return EXIT_FAILURE if counts.missing or counts.history_error else EXIT_OK
