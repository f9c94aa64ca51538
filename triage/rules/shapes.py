"""A credential shape: one row of the table the sensitivity scan reads (see credentials.py)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Shape:
    name: str  # the finding's kind, e.g. aws_key; several rows may share one
    pattern: re.Pattern[str]
    anchors: tuple[str, ...]  # lower case; the text must hold one of them
    example: str  # a text the shape finds
    near_miss: str = ""  # a text that looks alike and must not be found
    plausible: Callable[[re.Match[str]], bool] | None = None  # a second look at a match
    # Where a match can begin, searched in the lower-cased text: the pattern is tried only
    # there. A pattern that opens with \b, a look-behind or (?i) is slow to search with (the
    # regular expression engine cannot skip ahead to a literal); this is ten times faster.
    starts: re.Pattern[str] | None = None
    leads: bool = False  # a match begins with one of the anchors: they are its starts

    def matches(self, text: str, lower: str) -> Iterator[re.Match[str]]:
        """The pattern's matches in `text` (`lower` is text.lower()), plausible or not."""
        starts = self.starts or (_finder(self.anchors) if self.leads else None)
        if starts is None or len(lower) != len(text):
            yield from self.pattern.finditer(text)
            return
        end = 0
        for start in starts.finditer(lower):
            if start.start() < end:
                continue
            match = self.pattern.match(text, start.start())
            if match is not None:
                end = max(match.end(), start.start() + 1)
                yield match

    def found(self, text: str, lower: str) -> Iterator[re.Match[str]]:
        """The plausible matches (the caller checked that the text holds an anchor)."""
        for match in self.matches(text, lower):
            if self.plausible is None or self.plausible(match):
                yield match


def secret_span(match: re.Match[str]) -> tuple[int, int]:
    """Where the secret itself is: the `value` group where a shape has one, else the match."""
    return match.span("value") if "value" in match.re.groupindex else match.span()


def compiled(pattern: str, flags: int = 0) -> re.Pattern[str]:
    return re.compile(pattern, flags)


@functools.cache
def _finder(anchors: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(anchor) for anchor in anchors))
