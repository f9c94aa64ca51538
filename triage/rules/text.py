"""Fast keyword matching: a text is split into words once; each keyword, phrase or prefix is
then a set or substring look-up instead of a regular-expression scan of the whole text."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from functools import cached_property

_WORD = re.compile(r"\w+")


class TextIndex:
    """The words of one text, ready for many keyword look-ups."""

    def __init__(self, text: str, words: list[str] | None = None) -> None:
        self.text = text
        self._parts: tuple[TextIndex, ...] = ()  # an index combined from these: reuse theirs
        self._words_given = words is not None
        if words is not None:
            self.__dict__["words"] = words

    @classmethod
    def combined(cls, *parts: TextIndex) -> TextIndex:
        """One index over several texts, reusing their words (no second tokenisation): the
        words of texts joined by a newline are the words of each, one after the other."""
        index = cls("\n".join(p.text for p in parts))
        index._parts = parts
        return index

    # Each list is made on first use: most of a ticket's indexes (one per header) are never
    # read, and most readers want the lower-cased words only.
    @cached_property
    def words(self) -> list[str]:
        if self._parts:
            return [word for part in self._parts for word in part.words]
        return _WORD.findall(self.text)

    @cached_property
    def lower(self) -> list[str]:
        if self._parts:  # each part's lower-cased words, computed once for all who share it
            return [word for part in self._parts for word in part.lower]
        if self.text.isascii() and not self._words_given:
            # ASCII lower-casing keeps every word's bounds: one split of the lower-cased text
            return _WORD.findall(self.text.lower())
        return list(map(str.lower, self.words))

    @cached_property
    def lower_set(self) -> frozenset[str]:
        return frozenset(self.lower)

    @cached_property
    def cased_set(self) -> frozenset[str]:
        return frozenset(self.words)

    @cached_property
    def joined(self) -> str:
        return " " + " ".join(self.lower) + " "

    @cached_property
    def cased_joined(self) -> str:
        return " " + " ".join(self.words) + " "

    @cached_property
    def sorted_lower(self) -> list[str]:
        return sorted(self.lower_set)


class Terms:
    """Keywords and phrases matched as whole words; a trailing * matches any word ending."""

    def __init__(self, entries: Iterable[str], case_sensitive: bool = False) -> None:
        self.case_sensitive = case_sensitive
        # (entry as given, its first word, the kind of look-up, the needle for phrases)
        self._terms: list[tuple[str, str, str, str]] = []
        for entry in entries:
            prefix = entry.endswith("*")
            words = _WORD.findall(entry.rstrip("*"))
            if not case_sensitive:
                words = [word.lower() for word in words]
            if not words:
                continue
            kind = "phrase" if len(words) > 1 else "prefix" if prefix else "word"
            needle = " " + " ".join(words) + ("" if prefix else " ")
            self._terms.append((entry, words[0], kind, needle))
        # any() looks whole words up in one set operation; the rest one by one
        self._words = frozenset(first for _, first, kind, _ in self._terms if kind == "word")
        self._others = [term for term in self._terms if term[2] != "word"]

    def __bool__(self) -> bool:
        return bool(self._terms)

    @property
    def entries(self) -> list[str]:
        return [entry for entry, _, _, _ in self._terms]

    def find(self, index: TextIndex, first_only: bool = False) -> list[str]:
        """The entries found in the text, in the order they were given."""
        words = index.cased_set if self.case_sensitive else index.lower_set
        found: list[str] = []
        for entry, first, kind, needle in self._terms:
            if kind == "word":
                hit = first in words
            elif kind == "prefix":
                hit = _has_prefix(index.sorted_lower, first)
            else:
                haystack = index.cased_joined if self.case_sensitive else index.joined
                hit = first in words and needle in haystack
            if hit:
                found.append(entry)
                if first_only:
                    break
        return found

    def any(self, index: TextIndex) -> bool:
        words = index.cased_set if self.case_sensitive else index.lower_set
        if not self._words.isdisjoint(words):
            return True
        for _, first, kind, needle in self._others:
            if kind == "prefix":
                if _has_prefix(index.sorted_lower, first):
                    return True
            elif first in words:
                haystack = index.cased_joined if self.case_sensitive else index.joined
                if needle in haystack:
                    return True
        return False


def _has_prefix(words: list[str], prefix: str) -> bool:
    position = bisect.bisect_left(words, prefix)
    return position < len(words) and words[position].startswith(prefix)
