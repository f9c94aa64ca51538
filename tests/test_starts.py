"""Starts: a case-insensitive pattern tried only where one of its anchor words begins finds
exactly what the pattern's own finditer finds (the stdlib is the oracle), for the patterns of
the rules tier that use it and for hostile cases: anchors inside each other, characters that
IGNORECASE reads differently from lower-casing, case-sensitive anchors."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.rules import extract, logslice
from triage.rules.starts import Starts, lower_reads_as_ignorecase

_IN_USE = [
    *extract._STARTS.values(),
    extract._NAMED_HOST_STARTS,
    logslice._SEVERE_STARTS,
    logslice._NOTABLE_STARTS,
]
_WORDS = [
    "host", "hostname", "Server", "serveur", "servidor", "computer", "MACHINE", "rechner",
    "error", "Fehler", "erreur", "code", "coderror", "HTTP/1.1", "status", "asset", "INV",
    "pc", "lt", "nb", "ws", "dt", "tag", "ThinkPad", "ThinkCentre", "MacBook Pro", "iPhone",
    "xiPhone", "imageRUNNER", "fatal", "timed out", "timeout", "break-in", "can't", "could not",
    "accepted password", "WARNING", "failed", "oom", "lost", "ſerver", "İNV", "ıNV", "\u212a",
]  # fmt: skip
_GLUE = [" ", "", ":", "#", "-", "=", "\n", "404", "1234", "12345678", "a1-b2", "é", " 15", "T14"]


def _spans(matches):
    return [(match.span(), match.groups()) for match in matches]


@pytest.mark.parametrize("starts", _IN_USE, ids=lambda starts: starts.pattern.pattern[:30])
@settings(max_examples=300, deadline=None)
@given(parts=st.lists(st.tuples(st.sampled_from(_WORDS), st.sampled_from(_GLUE)), max_size=10))
def test_the_rules_tiers_patterns_find_what_finditer_finds(starts, parts):
    text = "".join(word + glue for word, glue in parts)
    assert _spans(starts.finditer(text)) == _spans(starts.pattern.finditer(text))


def test_an_anchor_that_begins_inside_another_is_still_tried():
    starts = Starts(re.compile(r"(?i)(?:code|error)\s*+(\d+)"), ("code", "error"))
    assert [m.group(0) for m in starts.finditer("CODERROR 404")] == ["ERROR 404"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ſerver: web-01", ["ſerver: web-01"]),  # long s: IGNORECASE reads it as s
        ("ıp host: db-02", ["host: db-02"]),  # dotless i elsewhere in the text
        ("İ server: app-03", ["server: app-03"]),  # lower-casing İ makes two characters
    ],
)
def test_odd_cases_fall_back_to_the_pattern(text, expected):
    starts = Starts(re.compile(r"(?i)(?:server|host):\s*+([a-z0-9-]+)"), ("server", "host"))
    assert [m.group(0) for m in starts.finditer(text)] == expected


def test_case_sensitive_anchors_are_found_as_written():
    starts = Starts(re.compile(r"\b(?:iPad|iMac)\b"), ("iPad", "iMac"), case_sensitive=True)
    assert [m.group(0) for m in starts.finditer("ipad, iPad, IMAC, iMac")] == ["iPad", "iMac"]


@pytest.mark.parametrize("anchors", [("Host",), ("pw=",), ()])
def test_anchors_must_be_lower_case_ascii_words(anchors):
    with pytest.raises(ValueError, match="lower-case ASCII words"):
        Starts(re.compile("(?i)x"), anchors)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Server", True), ("Grüße", True), ("ſ", False), ("ı", False), ("İ", False)],
)
def test_lower_reads_as_ignorecase_only_without_odd_cases(text, expected):
    assert lower_reads_as_ignorecase(text, text.lower()) is expected
