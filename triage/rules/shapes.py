"""A credential shape: one row of the table the sensitivity scan reads (see credentials.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Shape:
    name: str  # the finding's kind, e.g. aws_key; several rows may share one
    pattern: re.Pattern[str]
    anchors: tuple[str, ...]  # lower case; the text must hold one of them
    example: str  # a text the shape finds
    near_miss: str = ""  # a text that looks alike and must not be found
    plausible: Callable[[re.Match[str]], bool] | None = None  # a second look at a match


def secret_span(match: re.Match[str]) -> tuple[int, int]:
    """Where the secret itself is: the `value` group where a shape has one, else the match."""
    return match.span("value") if "value" in match.re.groupindex else match.span()


def compiled(pattern: str, flags: int = 0) -> re.Pattern[str]:
    return re.compile(pattern, flags)
