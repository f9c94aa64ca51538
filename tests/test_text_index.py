"""TextIndex: the words of a text and their lower case, made on first use; a combined index
has the words of its parts, one after the other, as the joined text has."""

from __future__ import annotations

import pytest

from triage.rules.text import TextIndex


@pytest.mark.parametrize(
    ("text", "lower"),
    [
        (
            "VPN down since 09:00, ERROR_ACCESS",
            ["vpn", "down", "since", "09", "00", "error_access"],
        ),
        ("Grüße aus İstanbul, ÉCOLE", ["grüße", "aus", "i̇stanbul", "école"]),
    ],
)
def test_lower_case_words_are_each_word_lower_cased(text, lower):
    assert TextIndex(text).lower == lower


def test_a_combined_index_reads_as_the_joined_text():
    subject, body = TextIndex("Drucker DEFEKT"), TextIndex("İch bitte um Hilfe")
    combined = TextIndex.combined(subject, body)
    assert combined.text == "Drucker DEFEKT\nİch bitte um Hilfe"
    assert combined.words == ["Drucker", "DEFEKT", "İch", "bitte", "um", "Hilfe"]
    assert combined.lower == ["drucker", "defekt", "i̇ch", "bitte", "um", "hilfe"]
    assert combined.lower == TextIndex(combined.text).lower


def test_words_given_are_the_words_read():
    index = TextIndex("Alpha Beta", words=["Alpha"])
    assert (index.words, index.lower) == (["Alpha"], ["alpha"])
