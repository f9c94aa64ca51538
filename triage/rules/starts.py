"""Where a case-insensitive regular expression can begin, found cheaply, so that the expression
is tried there only instead of at every character of a long text.

A pattern compiled with IGNORECASE and no literal to start with is slow to search with: the
engine tries it at each position. When every match begins with one of a few words, a plain
search for those words in the lower-cased text (which the engine does at memory speed) gives
the only places worth trying; the matches are the same as the pattern's own `finditer`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

# Characters that IGNORECASE matches to an ASCII letter but whose lower case is not that
# letter (dotless i, long s; capital I with a dot grows on lower-casing): a text holding one
# is searched with the pattern itself.
_ODD_CASES = ("ı", "ſ")


class Starts:
    """`pattern` (its matches never empty) begins each match with one of `anchors`
    (lower-case ASCII letters), as IGNORECASE reads them. `word_start`: the pattern also opens
    with a word boundary (`\\b`), so a match never begins inside a run of letters."""

    def __init__(
        self, pattern: re.Pattern[str], anchors: Iterable[str], word_start: bool = False
    ) -> None:
        words = sorted(set(anchors), key=lambda word: (-len(word), word))
        if not words or not all(word.isascii() and word.isalpha() and word.islower() for word in words):
            raise ValueError(f"anchors must be lower-case ASCII words: {words}")
        self.pattern = pattern
        alternation = "|".join(map(re.escape, words))
        # A plain search skips past each word it finds; where one word can begin inside
        # another (and the pattern can begin there), every position is looked at instead.
        overlapping = not word_start and _can_overlap(words)
        self._finder = re.compile(f"(?={alternation})" if overlapping else alternation)

    def finditer(self, text: str, lower: str | None = None) -> Iterator[re.Match[str]]:
        """The same matches as `pattern.finditer(text)`; `lower` is text.lower(), if known."""
        if lower is None:
            lower = text.lower()
        if not lower_reads_as_ignorecase(text, lower):
            yield from self.pattern.finditer(text)
            return
        end = 0
        for found in self._finder.finditer(lower):
            start = found.start()
            if start < end:
                continue
            match = self.pattern.match(text, start)
            if match is not None:
                end = match.end()
                yield match


def lower_reads_as_ignorecase(text: str, lower: str) -> bool:
    """Whether an ASCII word IGNORECASE finds in `text` is, at the same place, that word in
    `lower` (text.lower()): no character grew on lower-casing and none of the odd cases."""
    return len(lower) == len(text) and (
        text.isascii() or not any(odd in lower for odd in _ODD_CASES)
    )


def _can_overlap(words: list[str]) -> bool:
    """Whether one word can begin inside an occurrence of another (or of itself)."""
    return any(
        first[offset : offset + len(second)] == second[: len(first) - offset]
        for first in words
        for second in words
        for offset in range(1, len(first))
    )
