"""Reading a helpdesk's history export: CSV with a header, or JSON Lines, into (text, label)
examples. The text columns are joined; which columns to use is told, or found among the names
helpdesks export (Subject, Short description, Description...; Assignment group, Team, Queue...).

Awkward exports are the rule: a byte-order mark, Windows-1252 instead of UTF-8, semicolons or
tabs, fields with newlines, rows with a missing label or no text at all. Rows that cannot be
used are counted with the reason, never silently dropped.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from charset_normalizer import from_bytes

from triage.errors import InputError

# Looked for (case, spaces and underscores ignored) when --text / --label are not given.
TEXT_NAMES = (
    "subject",
    "shortdescription",
    "title",
    "summary",
    "description",
    "body",
    "text",
    "document",
    "details",
)
LABEL_NAMES = (
    "assignmentgroup",
    "team",
    "group",
    "queue",
    "assignedgroup",
    "topicgroup",
    "label",
    "category",
)
MAX_FIELD = 16 * 1024 * 1024


@dataclass(frozen=True)
class Example:
    text: str
    label: str


@dataclass
class History:
    examples: list[Example] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> rows
    text_columns: tuple[str, ...] = ()
    label_column: str = ""
    sources: list[str] = field(default_factory=list)


def read_history(
    paths: Sequence[Path], text: Sequence[str] | None = None, label: str | None = None
) -> History:
    """Every file's usable rows. Raises InputError naming the file and what is wrong."""
    history = History()
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
        content = decode(data)
        rows = _json_rows(content, path) if _looks_like_json(content) else _csv_rows(content, path)
        columns = _columns(rows, path)
        text_columns = tuple(text) if text else _guess(columns, TEXT_NAMES, many=True)
        label_column = label or (_guess(columns, LABEL_NAMES, many=False) or ("",))[0]
        _require(path, columns, text_columns, label_column)
        history.text_columns, history.label_column = text_columns, label_column
        history.sources.append(str(path))
        for row in rows:
            _add(history, row, text_columns, label_column)
    return history


def decode(data: bytes) -> str:
    """UTF-8 (with or without a byte-order mark), else the encoding the bytes look like; among
    the Latin code pages, which short samples cannot tell apart, Windows-1252 (what Excel
    writes in Western Europe and the Americas)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    best = from_bytes(data[:1_000_000]).best()
    encoding = best.encoding if best is not None else "cp1252"
    if encoding in _LATIN:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            pass
    return data.decode(encoding, errors="replace")


_LATIN = {"cp1250", "cp1252", "latin_1", "iso8859_2", "iso8859_15", "mac_roman", "cp850"}


def join_text(values: Sequence[object]) -> str:
    """The text columns of one row as one text (blank ones left out)."""
    parts = [_cell(value) for value in values]
    return "\n".join(part for part in parts if part)


# A team's name as a person writes it ("Identity & Access"); longer is not a name.
TEAM_MAX_CHARS = 200


def clean_label(value: object) -> str:
    """Labels keep their spaces and case; only the edges and runs of blanks are tidied."""
    return " ".join(_cell(value).split())


def _add(
    history: History, row: dict[str, object], text_columns: Sequence[str], label_column: str
) -> None:
    label = clean_label(row.get(label_column))
    text = join_text([row.get(column) for column in text_columns])
    if not label:
        history.skipped["no label"] += 1
    elif not re.search(r"\w", text):
        history.skipped["no text"] += 1
    else:
        history.examples.append(Example(text, label))


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value).strip()


def _looks_like_json(content: str) -> bool:
    return content.lstrip()[:1] in ("{", "[")


def _json_rows(content: str, path: Path) -> list[dict[str, object]]:
    stripped = content.lstrip()
    if stripped.startswith("["):
        try:
            items = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}: not valid JSON ({exc})") from None
        return [item for item in items if isinstance(item, dict)]
    rows: list[dict[str, object]] = []
    for line in content.splitlines():
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            rows.append({})  # counted below as a row without a label
            continue
        rows.append(item if isinstance(item, dict) else {})
    return rows


def _csv_rows(content: str, path: Path) -> list[dict[str, object]]:
    csv.field_size_limit(MAX_FIELD)
    sample = content[:65536]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(content, newline=""), dialect)
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(f"{path}: empty file") from None
    except csv.Error as exc:
        raise InputError(f"{path}: not CSV ({exc})") from None
    header = [name.strip() for name in header]
    rows: list[dict[str, object]] = []
    for record in _records(reader, path):
        rows.append(dict(zip(header, record, strict=False)))
    return rows


def _records(reader: Iterator[list[str]], path: Path) -> Iterator[list[str]]:
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputError(
                f"{path}: CSV broken near line {getattr(reader, 'line_num', '?')} ({exc})"
            ) from None
        if record:
            yield record


def _columns(rows: list[dict[str, object]], path: Path) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows[:1000]:
        seen.update(dict.fromkeys(row))
    if not seen:
        raise InputError(f"{path}: no rows")
    return list(seen)


def _squash(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name).casefold()


def _guess(columns: Sequence[str], wanted: Sequence[str], many: bool) -> tuple[str, ...]:
    by_name = {_squash(column): column for column in columns}
    found = tuple(by_name[name] for name in wanted if name in by_name)
    return found if many else found[:1]


def _require(path: Path, columns: list[str], text: Sequence[str], label: str) -> None:
    known = ", ".join(repr(c) for c in columns)
    if not text:
        raise InputError(f"{path}: which columns hold the text? name them with --text ({known})")
    if not label:
        raise InputError(f"{path}: which column holds the team? name it with --label ({known})")
    missing = [name for name in [*text, label] if name not in columns]
    if missing:
        raise InputError(f"{path}: no column {', '.join(map(repr, missing))} (columns: {known})")
