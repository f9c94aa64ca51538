"""Reading a helpdesk's history export: CSV with a header, or JSON Lines, into (text, label)
examples. The text columns are joined; which columns to use is told, or found among the names
helpdesks export (Subject, Short description, Description...; Assignment group, Team, Queue...).

When the history has a time column (named with --time, or one of the names helpdesks export:
Opened, Created, Created at, sys_created_on, Date...), the rows are put in time order, oldest
first, and `learn` holds out the newest share and weighs recent rows more (teams change).

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
from datetime import UTC, datetime
from pathlib import Path

from charset_normalizer import from_bytes

from triage.errors import InputError
from triage.redaction import scrub_text

COLUMN_CHARS = 60  # of a column's name, in an error

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
TIME_NAMES = (
    "opened",
    "openedat",
    "openedon",
    "created",
    "createdat",
    "createdon",
    "creationdate",
    "syscreatedon",
    "opendate",
    "submitdate",
    "reported",
    "reportedat",
    "date",
    "time",
    "timestamp",
)
# Day-first before month-first: a column where both read every value has no day past the 12th,
# and the order of its rows is then the same within a month either way.
TIME_FORMATS = (
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
)
MAX_FIELD = 16 * 1024 * 1024


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    at: float | None = None  # seconds since the epoch (UTC), when the history has a time column


@dataclass
class History:
    examples: list[Example] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> rows
    text_columns: tuple[str, ...] = ()
    label_column: str = ""
    time_column: str = ""
    sources: list[str] = field(default_factory=list)

    @property
    def time_ordered(self) -> bool:
        """Every row has its time, and the rows are sorted by it, oldest first."""
        return bool(self.examples) and all(e.at is not None for e in self.examples)


def read_history(
    paths: Sequence[Path],
    text: Sequence[str] | None = None,
    label: str | None = None,
    time: str | None = None,
) -> History:
    """Every file's usable rows, in time order when every file has a time column (`time`, or
    one found among TIME_NAMES). Raises InputError naming the file and what is wrong."""
    history = History()
    for path in paths:
        rows = read_rows(path)
        columns = _columns(rows, path)
        text_columns = tuple(text) if text else _guess(columns, TEXT_NAMES, many=True)
        label_column = label or (_guess(columns, LABEL_NAMES, many=False) or ("",))[0]
        _require(path, columns, text_columns, label_column)
        if time is not None and time not in columns:
            known = ", ".join(repr(c) for c in columns)
            raise InputError(f"{path}: no column {time!r} (columns: {known})")
        time_column = time or _time_column(columns, rows, text_columns, label_column)
        times = _times(rows, time_column, path, explicit=time is not None)
        history.text_columns, history.label_column = text_columns, label_column
        history.time_column = time_column if times is not None else ""
        history.sources.append(str(path))
        for number, row in enumerate(rows):
            _add(history, row, text_columns, label_column, times[number] if times else None)
    if history.time_ordered:
        history.examples.sort(key=lambda example: example.at or 0.0)  # stable: ties keep order
    else:
        history.examples = [Example(e.text, e.label) for e in history.examples]
        history.time_column = ""
    return history


def read_rows(path: Path) -> list[dict[str, object]]:
    """The rows of a CSV (with a header) or JSON Lines export, whatever its encoding. Raises
    InputError naming the file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    content = decode(data)
    return _json_rows(content, path) if _looks_like_json(content) else _csv_rows(content, path)


def find_columns(columns: Sequence[str], wanted: Sequence[str]) -> tuple[str, ...]:
    """The columns among `columns` named as in `wanted` (case, spaces, underscores and
    dashes ignored), in the order of `wanted`."""
    return _guess(columns, wanted, many=True)


def parse_time(value: str, fmt: str) -> float | None:
    """Seconds since the epoch of one cell in `fmt` ("iso" for ISO 8601), naive times taken
    as UTC (only their order matters); None when it does not read."""
    value = value.strip()
    try:
        if fmt == "iso":
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        else:
            moment = datetime.strptime(value, fmt)  # naive on purpose, see above
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _time_column(
    columns: Sequence[str], rows: list[dict[str, object]], text: Sequence[str], label: str
) -> str:
    for name in _guess(columns, TIME_NAMES, many=True):
        if name not in text and name != label and _time_format(rows, name) is not None:
            return name
    return ""


def _time_format(rows: list[dict[str, object]], column: str) -> str | None:
    """The format that reads the most of the column's first 500 filled cells (at least 90%)."""
    sample = [_cell(row.get(column)) for row in rows[:2000]]
    sample = [value for value in sample if value][:500]
    if not sample:
        return None
    best, read = None, 0
    for fmt in ("iso", *TIME_FORMATS):
        count = sum(parse_time(value, fmt) is not None for value in sample)
        if count > read:
            best, read = fmt, count
    return best if read >= 0.9 * len(sample) else None


def _times(
    rows: list[dict[str, object]], column: str, path: Path, explicit: bool
) -> list[float | None] | None:
    """Each row's time, or None for the whole file when the column cannot order it."""
    if not column:
        return None
    fmt = _time_format(rows, column)
    if fmt is None:
        if explicit:
            raise InputError(
                f"{path}: column {column!r} holds no times that can be read "
                "(ISO 8601, 31.12.2025 17:30, 12/31/2025 5:30 PM)"
            )
        return None
    return [parse_time(_cell(row.get(column)), fmt) for row in rows]


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
    history: History,
    row: dict[str, object],
    text_columns: Sequence[str],
    label_column: str,
    at: float | None,
) -> None:
    label = clean_label(row.get(label_column))
    text = join_text([row.get(column) for column in text_columns])
    if not label:
        history.skipped["no label"] += 1
    elif not re.search(r"\w", text):
        history.skipped["no text"] += 1
    elif history.time_column and at is None:
        history.skipped["no time"] += 1
    else:
        history.examples.append(Example(text, label, at))


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
    # A file without a header row has a ticket's cells as its "columns": shown scrubbed
    # (a password in the text) and cut.
    known = ", ".join(repr(scrub_text(c)[:COLUMN_CHARS]) for c in columns)
    if not text:
        raise InputError(f"{path}: which columns hold the text? name them with --text ({known})")
    if not label:
        raise InputError(f"{path}: which column holds the team? name it with --label ({known})")
    missing = [name for name in [*text, label] if name not in columns]
    if missing:
        raise InputError(f"{path}: no column {', '.join(map(repr, missing))} (columns: {known})")
