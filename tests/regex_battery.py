"""Every regular expression of the rules, credential and symptom tables, found without naming
them, and the hostile strings each must get through in linear time.

Patterns are found two ways, so a pattern added later is covered wherever it is written:
compiled objects reachable from a module's globals (through tuples, lists, dicts and
dataclass rows such as the credential table's `Shape`), and literal patterns passed to
`re.search`/`re.sub`/... inside functions (read from the module's source).
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import importlib
import inspect
import pkgutil
import re
from collections.abc import Iterator
from types import ModuleType
from typing import Any

# The modules whose patterns read ticket text: the rules tier, parsing, redaction and logs.
PACKAGES = ("triage.rules", "triage.parsing")
MODULES = ("triage.redaction", "triage.logs")

SIZE = 60_000  # characters of hostile text after the trigger: the size of the reported ticket


def modules() -> list[ModuleType]:
    found = [importlib.import_module(name) for name in MODULES]
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        found.append(package)
        for info in pkgutil.iter_modules(package.__path__, package_name + "."):
            found.append(importlib.import_module(info.name))
    return found


def _walk(value: Any, depth: int, seen: set[int]) -> Iterator[re.Pattern[Any]]:
    if depth > 6 or id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, re.Pattern):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _walk(item, depth + 1, seen)
    elif isinstance(value, tuple | list | set | frozenset):
        for item in value:
            yield from _walk(item, depth + 1, seen)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from _walk(getattr(value, field.name), depth + 1, seen)
    elif (
        hasattr(value, "__dict__")
        and type(value).__module__.startswith("triage")
        and not isinstance(value, type | ModuleType)
        and not callable(value)
    ):
        for item in vars(value).values():  # a row of ours that is no dataclass (a Concept)
            yield from _walk(item, depth + 1, seen)


_RE_CALLS = {
    "compile",
    "search",
    "match",
    "fullmatch",
    "sub",
    "subn",
    "split",
    "findall",
    "finditer",
}


def _literal_patterns(module: ModuleType) -> Iterator[re.Pattern[Any]]:
    """Literal patterns handed to the `re` functions in the module's code."""
    try:
        source = inspect.getsource(module)
    except (OSError, TypeError):
        return
    for node in ast.walk(ast.parse(source)):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "re"
            and node.func.attr in _RE_CALLS
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str | bytes)
        ):
            continue
        flags = 0
        for keyword in node.keywords:
            if keyword.arg == "flags":
                flags = _flags(keyword.value)
        # re.compile(p, flags), re.search(p, s, flags), re.sub(p, r, s, count, flags)
        position = {"compile": 1, "sub": 4, "subn": 4, "split": 3}.get(node.func.attr, 2)
        if len(node.args) > position:
            flags = _flags(node.args[position])
        yield re.compile(node.args[0].value, flags)


def _flags(node: ast.expr) -> int:
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return int(getattr(re, node.attr, 0))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _flags(node.left) | _flags(node.right)
    return 0


def patterns() -> dict[str, re.Pattern[Any]]:
    """Every pattern, keyed by where it was found and its start (for test ids)."""
    found: dict[tuple[str, int], tuple[str, re.Pattern[Any]]] = {}
    for module in modules():
        seen: set[int] = set()
        for name, value in vars(module).items():
            if isinstance(value, ModuleType) or (
                callable(value) and not isinstance(value, re.Pattern)
            ):
                continue
            for pattern in _walk(value, 0, seen):
                found.setdefault(
                    (pattern.pattern, pattern.flags), (f"{module.__name__}.{name}", pattern)
                )
        for pattern in _literal_patterns(module):
            found.setdefault((pattern.pattern, pattern.flags), (f"{module.__name__}:re", pattern))
    named: dict[str, re.Pattern[Any]] = {}
    for where, pattern in found.values():
        key = f"{where}[{str(pattern.pattern)[:30]!r}]"
        while key in named:
            key += "'"
        named[key] = pattern
    return named


# --- the hostile strings ----------------------------------------------------------------------

_B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _base64_like(size: int) -> str:
    state, out = 12345, []
    for _ in range(size):
        state = (state * 1103515245 + 12345) % 2**31
        out.append(_B64_ALPHABET[state % 64])
    return "".join(out)


@functools.cache
def fillers(size: int) -> dict[str, str]:
    """Long runs that make a careless pattern retry itself, each `size` characters."""

    def run(unit: str) -> str:
        return (unit * (size // len(unit) + 1))[:size]

    return {
        "blanks": run(" "),
        "nbsp": run("\u00a0"),
        "mixed unicode spaces": run(" \u00a0\u2007\u202f\u3000\t\u2009"),
        "tabs and blanks": run("\t "),
        "newlines": run("\n"),
        "crlf and blanks": run(" \r\n"),
        "one letter": run("a"),
        "capitals": run("A"),
        "digits": run("1"),
        "equals": run("="),
        "colons": run(":"),
        "nested quotes": run("\"'`“„«"),
        "angle brackets": run("<"),
        "dashes and dots": run("-."),
        "word and blank": run("a "),
        "key and equals": run("a="),
        "base64-like": _base64_like(size),
        "slashes": run("/\\"),
    }


_FILLER_NAMES = tuple(fillers(1))

# What a pattern starts on: the phrases of the reported tickets and common openings.
GENERIC_TRIGGERS = ("", "my password is", "Kennwort lautet", "password:", "From: a@")


def sample_prefixes(pattern: re.Pattern[Any], most: int = 6) -> list[str]:
    """Texts the pattern reads its way into: a made-up match of its first 1, 2, ... parts, so
    a long run placed after each lands where the pattern repeats."""
    parsed = re._parser.parse(  # type: ignore[attr-defined]
        pattern.pattern if isinstance(pattern.pattern, str) else pattern.pattern.decode("latin-1"),
        pattern.flags & ~re.LOCALE,
    )
    items = list(parsed)
    ends = [  # after each part, but not inside a run of literal characters
        end
        for end in range(1, len(items) + 1)
        if end == len(items) or not (str(items[end - 1][0]) == str(items[end][0]) == "LITERAL")
    ]
    prefixes = ["".join(_render(item) for item in items[:end]) for end in ends]
    prefixes = list(dict.fromkeys(p for p in prefixes if p))
    if len(prefixes) > most:  # evenly spread, keeping the longest
        step = len(prefixes) / most
        prefixes = [prefixes[int(len(prefixes) - 1 - i * step)] for i in range(most)][::-1]
    return prefixes


def _render(item: tuple[Any, Any]) -> str:
    op, value = item
    name = str(op)
    if name == "LITERAL":
        return chr(value)
    if name == "NOT_LITERAL":
        return "a" if value != ord("a") else "b"
    if name == "ANY":
        return "a"
    if name == "IN":
        return _render_class(value)
    if name == "BRANCH":
        return "".join(_render(sub) for sub in value[1][0])
    if name in ("SUBPATTERN",):
        return "".join(_render(sub) for sub in value[-1])
    if name == "ATOMIC_GROUP":
        return "".join(_render(sub) for sub in value)
    if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        low, _, sub = value
        once = "".join(_render(inner) for inner in sub)
        return once * min(max(low, 1), 70)
    return ""  # anchors, look-arounds, back references: nothing to write


def _render_class(items: list[tuple[Any, Any]]) -> str:
    first_op, first_value = items[0]
    if str(first_op) == "NEGATE":
        return "a"
    if str(first_op) == "LITERAL":
        return chr(first_value)
    if str(first_op) == "RANGE":
        return chr(first_value[0])
    if str(first_op) == "CATEGORY":
        return {"CATEGORY_DIGIT": "1", "CATEGORY_SPACE": " ", "CATEGORY_WORD": "a"}.get(
            str(first_value), "a"
        )
    return "a"


def triggers(pattern: re.Pattern[Any]) -> list[str]:
    """The generic triggers, the words the pattern holds, and made-up starts of a match."""
    source = pattern.pattern if isinstance(pattern.pattern, str) else pattern.pattern.decode()
    words = re.findall(r"[^\W\d_]{2,}", re.sub(r"\\.", " ", source))
    found = [*GENERIC_TRIGGERS, *list(dict.fromkeys(words))[:6], *sample_prefixes(pattern)]
    return list(dict.fromkeys(found))


def hostile_cases(pattern: re.Pattern[Any]) -> list[tuple[str, str]]:
    """(trigger, run) pairs: the trigger followed by a long run of that kind; the run
    "repeated" repeats the trigger itself with short runs between."""
    return [(trigger, run) for trigger in triggers(pattern) for run in [*_FILLER_NAMES, "repeated"]]


def hostile_text(pattern: re.Pattern[Any], case: tuple[str, str], size: int) -> Any:
    """The case's text, `size` characters after the trigger; bytes for a bytes pattern."""
    trigger, run = case
    if run == "repeated":
        unit = trigger + " \u00a0 = " + "a" * 12 + ' "'
        text = unit * (size // len(unit) + 1)
    else:
        text = trigger + fillers(size)[run]
    return text.encode("utf-8") if isinstance(pattern.pattern, bytes) else text


def exhaust(pattern: re.Pattern[Any], text: Any) -> int:
    """Every match of the pattern in the text, as search/sub/findall go through them."""
    return sum(1 for _ in pattern.finditer(text))
