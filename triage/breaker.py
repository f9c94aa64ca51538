"""A circuit breaker per backend: after `failures` failures in a row the backend is cooled
down for `cooldown` seconds; then one trial call decides. Pure, with time passed in."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Breaker:
    failures: int
    cooldown: float
    _in_a_row: int = 0
    _open_until: float | None = None
    _trial_out: bool = False

    def allow(self, now: float) -> bool:
        """May a call be made now? While cooling down: no. After: one trial at a time."""
        if self._open_until is None:
            return True
        if now < self._open_until or self._trial_out:
            return False
        self._trial_out = True
        return True

    def success(self) -> None:
        self._in_a_row, self._open_until, self._trial_out = 0, None, False

    def failure(self, now: float) -> None:
        self._in_a_row += 1
        self._trial_out = False
        if self._open_until is not None or self._in_a_row >= self.failures:
            self._open_until = now + self.cooldown

    def state(self, now: float) -> str:
        if self._open_until is None:
            return "closed"
        return "open" if now < self._open_until else "half-open"
