"""Pure decision: is a dropped file complete? Its size and mtime must hold still for a while."""

from __future__ import annotations

from dataclasses import dataclass, field

IGNORED_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".swp")


def is_ignored_name(name: str) -> bool:
    """Files still being written by the documented write-then-rename convention."""
    return name.startswith(".") or name.lower().endswith(IGNORED_SUFFIXES) or name.endswith("~")


@dataclass
class StabilityTracker:
    settle_seconds: float
    _seen: dict[str, tuple[int, int, float]] = field(default_factory=dict)

    def observe(self, key: str, size: int, mtime_ns: int, now: float) -> bool:
        """True once (size, mtime) have been unchanged for settle_seconds."""
        previous = self._seen.get(key)
        if previous is None or previous[:2] != (size, mtime_ns):
            self._seen[key] = (size, mtime_ns, now)
            return self.settle_seconds <= 0
        return now - previous[2] >= self.settle_seconds

    def forget(self, key: str) -> None:
        self._seen.pop(key, None)
