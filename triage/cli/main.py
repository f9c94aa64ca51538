"""`triage [--config PATH] COMMAND`: the command line of CONTRACT.md.

Each command lives in its own module of this package and registers itself with `register`;
COMMANDS lists them in the order `triage --help` shows. Errors become exit codes in one place
(triage.cli.common.EXIT_CODES): 0 ok, 1 failure, 2 usage, 78 bad configuration. Logs go to
stderr; stdout carries only the command's output.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from triage.cli import (
    check,
    evaluate,
    knowledge,
    learn,
    move_store,
    process,
    replay,
    reports,
    run,
    show,
)
from triage.cli.common import EXIT_CONFIG, EXIT_OK, refuse
from triage.config.settings import find_config, load_settings, secret_values
from triage.errors import ConfigError, TriageError
from triage.logs import configure_logging

# The commands in the order of `triage --help`; each module's `register` adds its parsers.
COMMANDS = (run, process, reports, evaluate, replay, show, learn, knowledge, move_store, check)

__all__ = ["EXIT_CONFIG", "EXIT_OK", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    # SIGHUP is deferred from here on (from the first instruction, run as `triage`).
    from triage.runtime import hangup

    parser = _parser()
    args = parser.parse_args(argv)
    if args.command != "run" and hangup.take_over(signal.SIG_DFL):
        os.kill(os.getpid(), signal.SIGHUP)  # one came while starting: end as it would have
    # Files the daemon writes (store, outbox, .error notes) are not world-readable.
    os.umask(0o027)
    try:
        loaded = load_settings(
            find_config(args.config, os.environ, Path.cwd()), os.environ, Path.cwd()
        )
    except ConfigError as exc:
        configure_logging()
        return refuse(exc)
    settings = loaded.settings
    configure_logging(settings.log.level, settings.log.format, secrets=secret_values(settings))
    try:
        code: int = args.handler(loaded, args)
    except TriageError as exc:  # what a command did not handle itself
        return refuse(exc)
    return code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="triage",
        description="IT-helpdesk ticket triage: rules first, local model second, paid last.",
    )
    parser.add_argument(
        "--config",
        type=Path,
        help="config file (default: $TRIAGE_CONFIG, ./config.toml, /etc/triage/config.toml)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(commands)
    return parser


if __name__ == "__main__":
    sys.exit(main())
