"""A fault that repeats is logged when it appears and once more when it clears.

A connector that retries a failing folder or store every few seconds would otherwise write
the same error hundreds of times a minute and bury the one line that says what to do. The
repeats in between go to debug; `active` lists the faults now present (for STATUS= and the
stall report).
"""

from __future__ import annotations

import threading
from typing import Any


class FaultLog:
    def __init__(self, logger: Any) -> None:
        self._log = logger
        self._active: dict[str, str] = {}
        self._lock = threading.Lock()

    def report(
        self, key: str, event: str, summary: str, level: str = "error", **fields: Any
    ) -> None:
        """Fault `key` happened (again); `summary` is a short text saying what and what to do."""
        with self._lock:
            first = key not in self._active
            self._active[key] = summary
        if first:
            getattr(self._log, level)(event, **fields)
        else:
            self._log.debug(event, repeated=True, **fields)

    def clear(self, key: str, event: str, **fields: Any) -> None:
        """Fault `key` is over: said once, if it had been reported."""
        with self._lock:
            was = self._active.pop(key, None)
        if was is not None:
            self._log.info(event, **fields)

    def active(self) -> list[str]:
        with self._lock:
            return list(self._active.values())
