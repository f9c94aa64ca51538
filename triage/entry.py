"""The `triage` command's entry point: SIGHUP is deferred from the first instruction.

SIGHUP's default action ends a process, and `triage run` reloads on it only once the daemon
is ready; a reload asked for while it starts (reading the config, loading a model) would
kill it. So the first thing this module does, before anything slow is imported, is to
catch SIGHUP and remember it: `triage run` applies it once ready; every other command puts
the default back and, if one came, ends as it would have.
"""

from triage.runtime import hangup  # first: catches SIGHUP before anything slow is imported

__all__ = ["hangup", "main"]


def main() -> int:
    from triage.cli.main import main as cli_main

    return cli_main()
