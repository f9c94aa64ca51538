from __future__ import annotations

import pytest

from connectors.stability import StabilityTracker, is_ignored_name


@pytest.mark.parametrize(
    ("name", "ignored"),
    [
        (".hidden.eml", True),
        ("ticket.eml.tmp", True),
        ("ticket.part", True),
        ("a.TMP", True),
        ("backup~", True),
        ("ticket.eml", False),
        ("notes.txt", False),
        ("tmp.json", False),
    ],
)
def test_files_being_written_are_ignored_by_name(name, ignored):
    assert is_ignored_name(name) is ignored


def test_a_file_is_ready_only_after_size_and_mtime_hold_still_for_the_delay():
    tracker = StabilityTracker(settle_seconds=1.0)
    assert not tracker.observe("a", 10, 100, now=0.0)
    assert not tracker.observe("a", 10, 100, now=0.5)
    assert tracker.observe("a", 10, 100, now=1.0)


def test_growth_or_a_new_mtime_restarts_the_wait():
    tracker = StabilityTracker(settle_seconds=1.0)
    tracker.observe("a", 10, 100, now=0.0)
    assert not tracker.observe("a", 20, 100, now=1.5)
    assert not tracker.observe("a", 20, 200, now=2.6)
    assert tracker.observe("a", 20, 200, now=3.6)


def test_forgetting_a_file_starts_over_and_zero_delay_is_immediate():
    tracker = StabilityTracker(settle_seconds=1.0)
    tracker.observe("a", 1, 1, now=0.0)
    tracker.forget("a")
    assert not tracker.observe("a", 1, 1, now=5.0)
    assert StabilityTracker(settle_seconds=0).observe("b", 1, 1, now=0.0)
