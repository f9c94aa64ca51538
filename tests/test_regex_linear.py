"""No regular expression of the rules, credential and symptom tables, parsing or redaction
stalls on hostile input: each one, found without naming it (a pattern added later is covered
too), gets through 60 KB of every hostile run far inside a generous bound.

The bound is a correctness bound, not a speed target: a linear pattern reads 60 KB in
milliseconds, a pattern that retries itself (N^2) takes seconds to minutes. CPU time of this
thread is measured, so a loaded machine does not make the test flaky. The cases are ranked on
1 KB first (a quadratic case stands out there too) and the worst three run at 60 KB."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from tests import regex_battery
from triage.rules import evaluate
from triage.rules.credentials import SHAPES
from triage.ticket import Ticket

BOUND_SECONDS = 1.0  # per pattern and text of 60 KB; linear patterns stay under 0.15 s
RANK_SIZE = 1_000
PATTERNS = regex_battery.patterns()


def _cpu_seconds(pattern: re.Pattern[Any], text: Any) -> float:
    start = time.thread_time()
    regex_battery.exhaust(pattern, text)
    return time.thread_time() - start


def test_the_battery_finds_the_tables_patterns_without_naming_them():
    sources = {pattern.pattern for pattern in PATTERNS.values()}
    assert {shape.pattern.pattern for shape in SHAPES} <= sources  # every credential shape
    assert len(PATTERNS) >= 150
    assert any(source == "(?<![ \\t])[ \\t]++\\n" for source in sources)  # one inside re.sub()


def test_a_made_up_start_of_a_match_reads_into_the_pattern():
    pattern = re.compile(r"(?i)password\s*[:=]\s*(?P<value>\S+)")
    assert regex_battery.sample_prefixes(pattern) == [
        "password",
        "password ",
        "password :",
        "password : ",
        "password : a",
    ]


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_a_pattern_reads_60_kb_of_hostile_text_in_linear_time(name):
    pattern = PATTERNS[name]
    cases = regex_battery.hostile_cases(pattern)
    ranked = sorted(
        cases,
        key=lambda case: _cpu_seconds(
            pattern, regex_battery.hostile_text(pattern, case, RANK_SIZE)
        ),
        reverse=True,
    )
    slow = {}
    for case in ranked[:3]:
        text = regex_battery.hostile_text(pattern, case, regex_battery.SIZE)
        seconds = _cpu_seconds(pattern, text)
        if seconds > BOUND_SECONDS:
            slow[case] = round(seconds, 2)
    assert slow == {}


@pytest.mark.parametrize(
    "text",
    [
        "my password is" + " " * 60_000,
        "Mein Kennwort lautet" + "\u00a0" * 60_000,
        "password for the VPN is below" + " \u00a0\t" * 20_000,
    ],
    ids=["blanks", "nbsp", "mixed"],
)
def test_the_rules_tier_reads_the_reported_hostile_tickets_in_bounded_time(text):
    ticket = Ticket(format="text", subject="Hilfe", body=text)
    start = time.thread_time()
    verdict = evaluate(ticket, (), 40)
    assert time.thread_time() - start < 2 * BOUND_SECONDS
    assert verdict.sensitivity.level == "public"
