"""Slice a log down to what a technician reads: errors and warnings with a little context,
repeats collapsed, size capped."""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Sequence

from triage.rules.sensitivity import keep_whole
from triage.rules.starts import Starts

_MAX_LINE_CHARS = 300
_TAIL_WHEN_QUIET = 8
_SEVERE = re.compile(
    r"(?i)\b(fatal|panic|critical|crit|emerg|alert|segfault|traceback|exception|oom|killed"
    r"|break-?in|corrupt\w*|error|err|fail\w*|denied|refused|unreachable|timed? ?out|abort\w*)\b"
)
_NOTABLE = re.compile(
    r"(?i)\b(warn\w*|invalid|illegal|unable|cannot|can't|could not|retry\w*|disconnect\w*"
    r"|accepted password|authentication|rejected|expired|lost)\b"
)
# Where each can begin: they are tried there only.
_SEVERE_STARTS = Starts(
    _SEVERE,
    "fatal panic crit emerg alert segfault traceback exception oom killed break corrupt err"
    " fail denied refused unreachable time abort".split(),
)
_NOTABLE_STARTS = Starts(
    _NOTABLE,
    "warn invalid illegal unable can could retry disconnect accepted authentication rejected"
    " expired lost".split(),
)
# Masked when a line's shape is computed: numbers, hex, and the name after words like "user".
_VARIABLE = re.compile(
    r"\b((?:user|for|from|by|uid|host|account|session) )\S+|0x[0-9a-f]+|[0-9a-f]{8,}|\d+", re.I
)


def slice_logs(logs: Sequence[str], max_lines: int, context: int = 1) -> str | None:
    """One slice over all logs, at most `max_lines` lines plus one header per log."""
    if not logs:
        return None
    budget = max(max_lines // len(logs), 5)
    parts = [_slice_one(log, index, budget, context) for index, log in enumerate(logs[:10])]
    return "\n".join(part for part in parts if part) or None


def _ranked_lines(lines: list[str]) -> dict[int, int]:
    """line number -> rank (0 severe, 1 notable) of each line a pattern finds something in,
    from one search of the whole text per pattern, not one per line (a match never spans a
    line: the patterns read no line break)."""
    text = "\n".join(lines)
    lower = text.lower()
    line_starts = list(itertools.accumulate((len(line) + 1 for line in lines[:-1]), initial=0))
    ranks: dict[int, int] = {}
    for rank, starts in ((1, _NOTABLE_STARTS), (0, _SEVERE_STARTS)):
        for match in starts.finditer(text, lower):
            ranks[bisect.bisect_right(line_starts, match.start()) - 1] = rank
    return ranks


def _slice_one(log: str, index: int, budget: int, context: int) -> str:
    lines = log.splitlines()
    # Each distinct line shape counts once; its repeats are reported, not repeated.
    first_of: dict[str, int] = {}
    repeats: dict[int, int] = {}
    repeated_lines: set[int] = set()
    ranked: list[tuple[int, int]] = []  # (rank, line index); rank 0 = most severe
    ranks = _ranked_lines(lines)
    for number in sorted(ranks):
        rank, line = ranks[number], lines[number]
        shape = _VARIABLE.sub(lambda m: (m.group(1) or "") + "#", line.strip())
        if shape in first_of:
            repeats[first_of[shape]] = repeats.get(first_of[shape], 0) + 1
            repeated_lines.add(number)
            continue
        first_of[shape] = number
        ranked.append((rank, number))
    chosen = sorted(number for _, number in sorted(ranked)[:budget])
    if not chosen:
        chosen = list(range(max(0, len(lines) - _TAIL_WHEN_QUIET), len(lines)))
        context = 0
    keep: set[int] = set(chosen)
    for number in chosen:  # context only while the budget lasts
        for near in range(number - context, number + context + 1):
            if len(keep) >= budget:
                break
            if 0 <= near < len(lines) and lines[near].strip() and near not in repeated_lines:
                keep.add(near)
    out = [f"--- log {index + 1}: {len(lines)} lines, {len(keep)} kept ---"]
    previous = -1
    for number in sorted(keep):
        if previous >= 0 and number > previous + 1:
            out.append("[...]")
        line = lines[number].rstrip()
        if len(line) > _MAX_LINE_CHARS:
            line = keep_whole(line, _MAX_LINE_CHARS) + " [...]"
        if repeats.get(number):
            line += f"  [repeated {repeats[number]} more times]"
        out.append(line)
        previous = number
    return "\n".join(out)
