"""SIGHUP deferred: caught from the moment this module is imported (the entry point's first
instruction) and remembered; `triage run` applies it once ready, every other command puts the
default back and, if one came, ends as it would have."""

import signal
from collections.abc import Callable
from types import FrameType

_hangups: list[int] = []


def _remember(signum: int, _frame: FrameType | None) -> None:
    _hangups.append(signum)


signal.signal(signal.SIGHUP, _remember)


def hangup_pending() -> bool:
    """A SIGHUP came before the command took SIGHUP over."""
    return bool(_hangups)


def take_over(handler: Callable[[int, FrameType | None], None] | signal.Handlers) -> bool:
    """Give SIGHUP to `handler` (a function, or signal.SIG_DFL); True when one came before."""
    signal.signal(signal.SIGHUP, handler)
    return hangup_pending()
