"""structlog set-up: JSON lines on stderr when not a terminal, readable on a terminal.

Log events carry ids, counts and reasons; never a message body. As a last line of defence
every text in an event (a file name, a library's message, an exception) is masked twice:
configured secret values become ***, and what the sensitivity scan finds (credentials, card
numbers, IBANs) becomes a typed placeholder such as [CREDENTIAL:password].
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Iterable, MutableMapping
from typing import Any, TextIO

import structlog

from triage.rules.sensitivity import CARD, CREDENTIAL, IBAN, scrub

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


class SecretMasker:
    """A processor that replaces any configured secret value found in an event by ***."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self._secrets = tuple(sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True))

    def __call__(self, _logger: Any, _name: str, event: MutableMapping[str, Any]) -> Any:
        if not self._secrets:
            return event
        for key, value in event.items():
            if isinstance(value, str):
                for secret in self._secrets:
                    if secret in value:
                        value = value.replace(secret, "***")
                event[key] = value
        return event


_SCRUBBED_TAGS = (CREDENTIAL, CARD, IBAN)


def scrub_event(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> Any:
    """A processor that masks what the sensitivity scan finds in any text of an event: a
    dropped file named `password=Hunter2!.eml` is logged as `password=[CREDENTIAL:password]`."""
    for key, value in event.items():
        event[key] = _scrubbed(value)
    return event


def _scrubbed(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value, _SCRUBBED_TAGS)
    if isinstance(value, list | tuple):
        return [_scrubbed(item) for item in value]
    if isinstance(value, dict):
        return {key: _scrubbed(item) for key, item in value.items()}
    return value


def configure_logging(
    level: str = "info",
    fmt: str = "auto",
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> None:
    stream = stream or sys.stderr
    as_json = fmt == "json" or (fmt == "auto" and not stream.isatty())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    # After the exception is formatted, so that its text is masked too.
    masks: list[Any] = [SecretMasker(secrets), scrub_event]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if as_json
        else structlog.dev.ConsoleRenderer(colors=stream.isatty())
    )
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, *masks, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS[level]),
        logger_factory=structlog.WriteLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
    # Libraries log through the standard library: same format, same stream, warnings up.
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                *masks,
                renderer,
            ],
        )
    )
    handler.addFilter(_drop_stop_noise)
    logging.captureWarnings(True)  # e.g. an SDK's deprecation notice: into the same stream
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(logging.WARNING, _LEVELS[level]))


def _drop_stop_noise(record: logging.LogRecord) -> bool:
    """watchdog logs an *error* when its inotify thread is stopped while reading, which is
    every clean stop: not something for an admin to chase in the journal."""
    return not (
        record.name.startswith("watchdog")
        and "called when the thread is inactive" in record.getMessage()
    )


def crash_site(exc: BaseException) -> dict[str, str]:
    """Where an unexpected exception was raised: type and innermost frame, no message text
    (a message may quote the input)."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = (
        f"{frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno} in {frames[-1].name}"
        if frames
        else "?"
    )
    return {"error_type": type(exc).__name__, "where": where}
