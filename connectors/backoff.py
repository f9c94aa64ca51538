"""Pure: how long to wait before the next attempt. Capped exponential growth with jitter, so a
fleet of daemons does not reconnect in lock-step after a server restart."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Backoff:
    first: float
    cap: float
    factor: float = 2.0
    jitter: float = 0.2  # each delay is scaled by a random factor in [1 - jitter, 1 + jitter]
    attempts: int = 0

    def next_delay(self, rand: Callable[[], float] = random.random, floor: float = 0.0) -> float:
        """The delay before the next attempt; `floor` raises it (e.g. when throttled)."""
        base = min(self.cap, self.first * self.factor**self.attempts)
        self.attempts += 1
        delay = base * (1 - self.jitter + 2 * self.jitter * rand())
        return min(self.cap, max(floor, delay))

    def reset(self) -> None:
        self.attempts = 0
