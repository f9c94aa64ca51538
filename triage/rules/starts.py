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
    """`pattern` (its matches never empty) begins each match with one of `anchors`, as
    IGNORECASE reads them (lower-case ASCII letters), or exactly as written where
    `case_sensitive` (the pattern is not IGNORECASE)."""

    def __init__(
        self, pattern: re.Pattern[str], anchors: Iterable[str], case_sensitive: bool = False
    ) -> None:
        words = sorted(set(anchors), key=lambda word: (-len(word), word))
        if not words or not (case_sensitive or all(map(_lower_ascii_word, words))):
            raise ValueError(f"anchors must be lower-case ASCII words: {words}")
        self.pattern = pattern
        self.case_sensitive = case_sensitive
        self._finder = re.compile("|".join(map(re.escape, words)))

    def finditer(self, text: str, lower: str | None = None) -> Iterator[re.Match[str]]:
        """The same matches as `pattern.finditer(text)`; `lower` is text.lower(), if known."""
        if self.case_sensitive:
            lower = text
        elif lower is None:
            lower = text.lower()
        if not self.case_sensitive and not lower_reads_as_ignorecase(text, lower):
            yield from self.pattern.finditer(text)
            return
        # Each place an anchor begins, left to right (after a place that gives no match the
        # next search starts one character on, so an anchor inside another is not skipped);
        # after a match, the search goes on from its end, as finditer's does.
        position = 0
        while (found := self._finder.search(lower, position)) is not None:
            match = self.pattern.match(text, found.start())
            if match is None:
                position = found.start() + 1
            else:
                position = match.end()
                yield match


def _lower_ascii_word(word: str) -> bool:
    return word.isascii() and word.isalpha() and word.islower()


def lower_reads_as_ignorecase(text: str, lower: str) -> bool:
    """Whether an ASCII word IGNORECASE finds in `text` is, at the same place, that word in
    `lower` (text.lower()): no character grew on lower-casing and none of the odd cases."""
    return len(lower) == len(text) and (
        text.isascii() or not any(odd in lower for odd in _ODD_CASES)
    )
