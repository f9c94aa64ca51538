"""Reading what the index holds: articles from the admin's folders (Markdown, HTML, text; the
title is the first heading) and solved tickets from a history export (CSV or JSON Lines with a
resolution column, read as `triage learn` reads its history), each into a KnowledgeDoc with its
index terms and a digest of what it was read from."""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser

from triage.errors import InputError
from triage.knowledge.terms import terms
from triage.learned.history import decode, find_columns, read_rows
from triage.parsing.language import language_of
from triage.parsing.mail import _nested_too_deep, html_to_text
from triage.records import KnowledgeDoc
from triage.redaction import scrub_text

SUFFIXES = frozenset({".md", ".markdown", ".html", ".htm", ".txt"})
MAX_BYTES = 2_000_000  # an article larger than this is skipped (it is not an article)
BODY_CHARS = 20_000  # of an article's text kept for a grounded draft
TITLE_CHARS = 200
# A solved ticket's id longer than this is not an id (the column is another): the row number
# is used, as for a row without one. PostgreSQL cannot index a key of more than 2,704 bytes.
ID_CHARS = 200
# Characters of an article (a solved ticket) its language is told from: lingua's time grows
# with the text, and a history export has tens of thousands of rows.
LANGUAGE_SAMPLE = 500
TICKET_SAMPLE = 200
# A history export's columns (case, spaces and underscores ignored), as helpdesks name them.
ID_NAMES = ("number", "id", "ticketid", "ticket", "key", "sysid", "incident", "reference")
TITLE_NAMES = ("subject", "shortdescription", "title", "summary")
TEXT_NAMES = ("description", "body", "text", "details")
RESOLUTION_NAMES = (
    "resolution",
    "resolutionnotes",
    "solution",
    "closenotes",
    "closurenotes",
    "fix",
    "answer",
    "resolvedby",
)
_TITLE_TAGS = ("h1", "h2", "h3", "title")  # an HTML article's title: the first that has text
HEADING_CHARS = 10_000
_TAG = re.compile(r"<[^<>]*+>")
# `# Title`, `## Title ##`: the closing #s and blanks are cut in _heading (a lazy title
# before `\s*#*\s*$` backtracked cubically: a heading line of 2,000 blanks took 24 s)
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+)$")
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")


@dataclass(frozen=True)
class Found:
    """An article file in one of the folders: its source name, where it is, and the folder
    it was found in."""

    source: str  # "kb/<path relative to its folder>"
    path: Path
    folder: Path


def scan(dirs: Sequence[Path]) -> tuple[list[Found], list[Path]]:
    """The article files under the folders (recursively, hidden ones and links left out), and
    the folders that are missing (or cannot be listed: a share gone stale). A name found in
    two folders is the first folder's. A subfolder that cannot be listed (moved while it is
    read, a path over the system's limit) is passed over: the rest is still read."""
    found: dict[str, Found] = {}
    missing: list[Path] = []
    for folder in dirs:
        try:
            files = sorted(_files(folder)) if folder.is_dir() else None
        except OSError:
            files = None
        if files is None:
            missing.append(folder)
            continue
        for path in files:
            relative = path.relative_to(folder)
            # A name that is not UTF-8 (a share's legacy code page) is kept with U+FFFD for
            # its odd bytes: neither store takes the surrogates Python reads them as.
            source = "kb/" + os.fsencode(relative.as_posix()).decode("utf-8", "replace")
            found.setdefault(source, Found(source, path, folder))
    return list(found.values()), missing


def _files(folder: Path) -> Iterator[Path]:
    """The article files under `folder`; os.walk follows no links. Raises OSError when
    `folder` itself cannot be listed."""

    def failed(error: OSError) -> None:
        if error.filename in (folder, str(folder)):
            raise error

    for root, subfolders, names in os.walk(folder, onerror=failed):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        for name in names:
            path = Path(root, name)
            if name.startswith(".") or path.suffix.lower() not in SUFFIXES:
                continue
            try:
                if path.is_symlink() or not path.is_file():
                    continue
            except OSError:
                continue
            yield path


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:32]


def article(source: str, path: Path, data: bytes) -> KnowledgeDoc:
    """The document of one article file's bytes."""
    content = _storable(decode(data))
    if path.suffix.lower() in {".html", ".htm"}:
        title, text = _html(content)
    else:
        title, text = _plain(content, markdown=path.suffix.lower() != ".txt")
    title = (title or path.stem.replace("-", " ").replace("_", " ")).strip()[:TITLE_CHARS]
    return document(source, title, text, digest(data))


def document(
    source: str, title: str, text: str, fingerprint: str, sample: int = LANGUAGE_SAMPLE
) -> KnowledgeDoc:
    """The index terms are the title's twice and the text's: a title names what the article
    is about, and weighs so. The language is told from the title and `sample` characters."""
    title, text = _storable(title), _storable(text)
    language = language_of(f"{title}\n{text[:sample]}") or "en"
    indexed = terms(f"{title}\n{title}\n{text}", language)
    return KnowledgeDoc(source, title, " ".join(indexed), text[:BODY_CHARS], fingerprint)


def _storable(text: str) -> str:
    """`text` as both stores take it: NUL characters dropped (PostgreSQL's text cannot hold
    them, and UTF-16 without a byte-order mark, read as UTF-8, is the text with a NUL after
    each letter), lone surrogates (a JSON export's \\ud800) as '?'."""
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def _plain(content: str, markdown: bool) -> tuple[str, str]:
    """The first heading (Markdown: `# Title`, or a line underlined with === or ---), else
    the first line that is not empty."""
    lines = content.splitlines()
    first = ""
    for number, line in enumerate(lines):
        if markdown:
            heading = _HEADING.match(line)
            if heading:
                text = heading.group(1)
                return text.rstrip().rstrip("#").rstrip() or text[:1], content
            following = lines[number + 1] if number + 1 < len(lines) else ""
            if line.strip() and _SETEXT.match(following):
                return line.strip(), content
        if not first and line.strip():
            first = line.strip().lstrip("#").strip()
    return first, content


def _html(content: str) -> tuple[str, str]:
    text = html_to_text(content)
    if _nested_too_deep(content):
        # The parser takes minutes on elements nested thousands deep (html_to_text reads
        # such a page by stripping its tags): its headings are found the same way.
        return _heading_by_tags(content), text
    tree = LexborHTMLParser(content)
    title = ""
    for selector in _TITLE_TAGS:
        node = tree.css_first(selector)
        if node is not None and node.text(strip=True):
            title = " ".join(node.text(separator=" ").split())
            break
    return title, text


def _heading_by_tags(content: str) -> str:
    """As _html finds the title, without a parser: the text of the first element of each
    of _TITLE_TAGS in turn, up to its closing tag, until one has text."""
    for tag in _TITLE_TAGS:
        start = re.search(rf"<{tag}\b[^<>]*+>", content, re.IGNORECASE)
        end = start and re.compile(rf"</{tag}\b", re.IGNORECASE).search(content, start.end())
        if start and end:
            inner = content[start.end() : min(end.start(), start.end() + HEADING_CHARS)]
            title = " ".join(html.unescape(_TAG.sub(" ", inner)).split())
            if title:
                return title
    return ""


def history(path: Path) -> Iterator[KnowledgeDoc]:
    """The solved tickets of a history export: those with a resolution. Raises InputError
    naming the file and what is wrong (no resolution column, say)."""
    rows = read_rows(path)
    if not rows:
        return  # only a header, or empty: no solved ticket yet, nothing wrong
    columns = list(dict.fromkeys(key for row in rows[:1000] for key in row))
    resolution = find_columns(columns, RESOLUTION_NAMES)[:1]
    if not resolution:
        if not find_columns(columns, ID_NAMES + TITLE_NAMES + TEXT_NAMES):
            # No column named as helpdesks name them: the first line is a ticket, not a
            # header, and its cells (a body, a password) are not for the log.
            raise InputError(
                f"{path}: no resolution column, and no column named Number, Subject,"
                " Description... either: does its first line name the columns?"
            )
        known = ", ".join(repr(scrub_text(c)) for c in columns)
        raise InputError(
            f"{path}: no resolution column (one of Resolution, Solution, Close notes...;"
            f" columns: {known})"
        )
    ids = find_columns(columns, ID_NAMES)[:1]
    titles = find_columns(columns, TITLE_NAMES)[:1]
    texts = find_columns(columns, TEXT_NAMES)
    for number, row in enumerate(rows, start=1):
        answer = _cell(row.get(resolution[0]))
        if not answer:
            continue  # not solved, or solved without saying how: nothing to suggest
        title = _cell(row.get(titles[0])) if titles else ""
        text = "\n".join(_cell(row.get(name)) for name in texts)
        ident = _storable(_cell(row.get(ids[0]))) if ids else ""
        if not ident or len(ident) > ID_CHARS:
            ident = f"{path.stem}-{number}"
        fingerprint = digest(json.dumps(row, sort_keys=True, default=str).encode())
        yield document(
            f"ticket:{ident}",
            (title or answer.splitlines()[0])[:TITLE_CHARS],
            f"{text}\nResolution: {answer}",
            fingerprint,
            TICKET_SAMPLE,
        )


def _cell(value: object) -> str:
    return "" if value is None else str(value).strip()
