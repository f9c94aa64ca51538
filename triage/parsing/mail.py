"""RFC 822 / MIME mail to a Ticket: headers decoded, the best body chosen and cleaned,
attachments recorded, small text attachments (logs) kept."""

from __future__ import annotations

import codecs
import email.header
import email.utils
import html as htmllib
import re
from dataclasses import dataclass, field
from email import policy
from email.message import Message
from email.parser import BytesParser

import charset_normalizer
from selectolax.lexbor import LexborHTMLParser

from triage.errors import ParseError
from triage.parsing.cleanup import clean_body_parts
from triage.parsing.forwards import forwarded_text
from triage.rules.sensitivity import keep_whole
from triage.ticket import Attachment, Link, Ticket

_LOG_NAMES = re.compile(r"\.(log|txt|out|err|csv|trace)(\.\d+)?$", re.IGNORECASE)
_MESSAGE_ID = re.compile(r"<[^<>\s]{1,900}>")
_MAX_HEADER_CHARS = 8192  # a decoded header value longer than this is cut
_MAX_HTML_CHARS = 2_000_000
_MAX_HTML_DEPTH = 256
_BLOCK_TAG = re.compile(
    r"<(/?)(?:div|blockquote|ul|ol|dl|section|article|aside|nav|header|footer|main|form"
    r"|fieldset|figure|center|address|details|menu|h[1-6]|pre)\b",
    re.IGNORECASE,
)
# A tag ends before the next "<" (a stray "<" starts over): each character is read once.
_TAG = re.compile(r"<[^<>]*+>")
# Up to its own closing tag; an element that is never closed ends at the next one opened.
_INVISIBLE = re.compile(
    r"<(script|style|head|title)\b(?:[^<]++|<(?!/?\1\b))*+</\1\s*+>", re.IGNORECASE
)
# An anchor with an href, its text bounded (a missing </a> costs a bounded look-ahead).
_ANCHOR = re.compile(
    r"""<a\b[^>]{0,2000}?\bhref\s*=\s*["']?([^"'\s>]{1,2000})[^>]{0,2000}>(.{0,600}?)</a\s*>""",
    re.IGNORECASE | re.DOTALL,
)
_MAX_LINKS = 200
_BLOCK_END = re.compile(r"<(?:br|/p|/div|/li|/tr|/h[1-6]|/table|/blockquote)\b[^<>]*+>", re.I)


@dataclass(frozen=True)
class MailLimits:
    max_text_attachment_bytes: int
    max_parts: int
    max_depth: int
    max_body_chars: int = 65536


@dataclass
class _Walk:
    limits: MailLimits
    # (inside an attached message?, text): the requester's own body wins over a forwarded one
    plain: list[tuple[bool, str]] = field(default_factory=list)
    html: list[tuple[bool, str]] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    # "From: ...\nSubject: ..." of each attached message (message/rfc822), in order
    attached_heads: list[str] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    parts: int = 0


def parse_mail(data: bytes, limits: MailLimits) -> Ticket:
    try:
        # compat32 keeps header access lazy and tolerant; values are decoded below.
        message = BytesParser(policy=policy.compat32).parsebytes(data)
    except RecursionError as exc:  # a nesting bomb: thousands of multiparts inside each other
        raise ParseError("mail could not be parsed: MIME parts nested too deep") from exc
    except Exception as exc:  # the stdlib parser is lenient; anything here is truly broken
        raise ParseError(f"mail could not be parsed: {type(exc).__name__}: {exc}") from exc
    # raw_items: the values as parsed (8-bit bytes as surrogate escapes), not compat32's
    # Header objects, which replace each such byte with U+FFFD.
    headers = tuple((name.lower(), decode_header(value)) for name, value in message.raw_items())
    walk = _Walk(limits)
    if message.defects:
        walk.defects.append(f"{len(message.defects)} MIME defect(s) in the top level")
    _walk(message, 0, walk, inside_attached_message=False)

    raw_body = _choose_body(walk)
    body, pasted, quoted = clean_body_parts(raw_body, limits.max_body_chars)
    subject = _first(headers, "subject") or ""
    forwarded = forwarded_text(raw_body, subject) or _attached_message(walk)
    sender_name, sender = _address(_first(headers, "from"))
    message_id_match = _MESSAGE_ID.search(_first(headers, "message-id") or "")
    return Ticket(
        format="mail",
        subject=subject,
        body=body,
        sender=sender,
        sender_name=sender_name,
        message_id=message_id_match.group(0) if message_id_match else None,
        headers=headers,
        content_type=message.get_content_type(),
        attachments=tuple(walk.attachments),
        logs=(*walk.logs, *pasted),
        requester=sender,
        defects=tuple(walk.defects),
        forwarded=keep_whole(forwarded, limits.max_body_chars),
        quoted=quoted,
        links=tuple(walk.links),
    )


def decode_header(value: object) -> str:
    """An RFC 2047 header value as text; undecodable words are kept as written.

    compat32 hands raw 8-bit header bytes over as surrogate escapes: they are read as UTF-8
    (what mailers send today), else as the charset they look like."""
    # Decoded first, then cut (a secret across the cap is kept whole, for the scan to mask).
    raw = str(value)[: _MAX_HEADER_CHARS * 4]
    return keep_whole(_decode_header(raw), _MAX_HEADER_CHARS)


def _decode_header(raw: str) -> str:
    if not raw.isascii():
        raw = _undo_surrogates(raw)
    if "=?" not in raw:  # no encoded word: the stdlib would hand the value back as it is
        return " ".join(raw.split())
    try:
        chunks = email.header.decode_header(raw)
        text = "".join(_chunk_text(chunk, charset) for chunk, charset in chunks)
    except Exception:  # malformed encoded words: keep the raw value
        text = raw
    return " ".join(text.split())


def _chunk_text(chunk: bytes | str, charset: str | None) -> str:
    if isinstance(chunk, str):
        return chunk
    if charset is None:  # the text between encoded words, which the stdlib hands back encoded
        return chunk.decode("raw-unicode-escape", "replace")
    return decode_bytes(chunk, charset)[0]


def _undo_surrogates(raw: str) -> str:
    try:
        data = raw.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # already text (a str header from elsewhere)
        return raw
    if data == raw.encode("utf-8", "surrogatepass"):
        return raw  # no escaped bytes: nothing to undo
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return decode_bytes(data, "windows-1252")[0]


def html_to_text(html: str) -> str:
    """Visible text of an HTML body, one block element a line (lexbor, via selectolax).

    Block elements nested thousands deep make lexbor quadratic (40,000 nested divs: 3 s), so
    such a body is read by stripping its tags instead."""
    html = _BLOCK_END.sub("\\g<0>\n", html[:_MAX_HTML_CHARS])
    if _nested_too_deep(html):
        text = htmllib.unescape(_TAG.sub("", _INVISIBLE.sub("", html)))
    else:
        tree = LexborHTMLParser(html)
        for node in tree.css("script, style, head, title"):
            node.decompose()
        root = tree.body or tree.root
        text = root.text(separator="") if root is not None else ""
    lines = (" ".join(line.split()) for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _nested_too_deep(html: str) -> bool:
    slashes = _BLOCK_TAG.findall(html)  # "/" for a closing tag, "" for an opening one
    if len(slashes) - slashes.count("/") <= _MAX_HTML_DEPTH:
        return False  # fewer opening tags than the bound: never that deep
    depth = 0
    for slash in slashes:
        depth += -1 if slash else 1
        if depth > _MAX_HTML_DEPTH:
            return True
    return False


def _walk(part: Message, depth: int, walk: _Walk, inside_attached_message: bool) -> None:
    walk.parts += 1
    if walk.parts > walk.limits.max_parts:
        if walk.parts == walk.limits.max_parts + 1:
            walk.defects.append(f"more than {walk.limits.max_parts} MIME parts: the rest skipped")
        return
    if depth > walk.limits.max_depth:
        walk.defects.append(f"MIME nesting deeper than {walk.limits.max_depth}: skipped")
        return
    content_type = part.get_content_type()
    if part.is_multipart():
        payload = part.get_payload()
        nested = inside_attached_message or content_type == "message/rfc822"
        if content_type == "message/rfc822" and isinstance(payload, list) and payload:
            walk.attached_heads.append(_head_of(payload[0]))
        for sub in payload if isinstance(payload, list) else []:
            if isinstance(sub, Message):
                _walk(sub, depth + 1, walk, nested)
        return
    filename = _filename(part)
    disposition = (part.get_content_disposition() or "").lower()
    is_attachment = disposition == "attachment" or (
        filename is not None and disposition != "inline"
    )
    if not is_attachment and content_type in ("text/plain", "text/html"):
        entry = (inside_attached_message, _part_text(part, walk))
        if content_type == "text/plain":
            walk.plain.append(entry)
        else:
            walk.html.append(entry)
            _collect_links(entry[1], walk.links)
        return
    encoded = part.get_payload()
    size = _decoded_size(part, encoded if isinstance(encoded, str) else "")
    is_text = content_type.startswith("text/") or bool(filename and _LOG_NAMES.search(filename))
    kept = is_text and size <= walk.limits.max_text_attachment_bytes
    if kept:
        walk.logs.append(_part_text(part, walk))
    walk.attachments.append(
        Attachment(filename=filename, content_type=content_type, size=size, kept=kept)
    )


def _collect_links(html: str, links: list[Link]) -> None:
    """The anchors of an HTML part (up to _MAX_LINKS in all): visible text and target."""
    if "<a" not in html and "<A" not in html:
        return
    for match in _ANCHOR.finditer(html[:_MAX_HTML_CHARS]):
        if len(links) >= _MAX_LINKS:
            return
        text = htmllib.unescape(_TAG.sub("", match.group(2)))
        links.append(Link(" ".join(text.split())[:200], htmllib.unescape(match.group(1))))


def _choose_body(walk: _Walk) -> str:
    for nested in (False, True):
        for is_nested, text in walk.plain:
            if is_nested == nested:
                return text
        for is_nested, text in walk.html:
            if is_nested == nested:
                return html_to_text(text)
    return ""


def _head_of(message: object) -> str:
    if not isinstance(message, Message):
        return ""
    raw = {name.lower(): value for name, value in reversed(list(message.raw_items()))}
    lines = (
        f"{name}: {decode_header(raw[name.lower()])}"
        for name in ("From", "Subject")
        if name.lower() in raw
    )
    return "\n".join(lines)


def _attached_message(walk: _Walk) -> str:
    """The first attached message: its sender and subject, then its text."""
    if not walk.attached_heads:
        return ""
    text = next((text for nested, text in walk.plain if nested), None)
    if text is None:
        html = next((html for nested, html in walk.html if nested), "")
        text = html_to_text(html)
    return f"{walk.attached_heads[0]}\n\n{text.strip()}".strip()


def _part_text(part: Message, walk: _Walk) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = (
        part.get_content_charset() if _may_have_param(part, "content-type", "charset") else None
    )
    text, note = decode_bytes(payload, charset)
    if note:
        walk.defects.append(note)
    return text


def decode_bytes(data: bytes, charset: str | None) -> tuple[str, str | None]:
    """Decode with the declared charset, then UTF-8, then a detected one, then Latin-1.

    Returns the text and a note when a fallback was needed."""
    declared = (charset or "").strip().strip('"').lower() or None
    if declared:
        try:
            codecs.lookup(declared)
            return data.decode(declared), None
        except (LookupError, UnicodeDecodeError, ValueError):
            pass
    try:
        text = data.decode("utf-8")
        return text, (f"charset {declared} failed; read as UTF-8" if declared else None)
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data[:65536]).best()
    if best is not None:
        try:
            return data.decode(
                best.encoding
            ), f"charset {declared or 'unknown'}: detected {best.encoding}"
        except (LookupError, UnicodeDecodeError):
            pass
    return data.decode("latin-1"), f"charset {declared or 'unknown'}: read as Latin-1"


def _decoded_size(part: Message, encoded: str) -> int:
    encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    if encoding == "base64":
        return len(encoded) * 3 // 4 * 76 // 77  # without copying: lines of 76 plus a newline
    return len(encoded)


def _filename(part: Message) -> str | None:
    if not (
        _may_have_param(part, "content-disposition", "name")
        or _may_have_param(part, "content-type", "name")
    ):
        return None  # neither header names a file: the stdlib's parameter parsing is spared
    try:
        name = part.get_filename()
    except Exception:  # broken RFC 2231 parameters
        return None
    return decode_header(name) if name else None


def _may_have_param(part: Message, header: str, word: str) -> bool:
    """Whether the part's `header` can hold a parameter whose name holds `word` (lower case):
    a parameter's name is written in the header's value."""
    value = part.get(header)
    return value is not None and (not isinstance(value, str) or word in value.lower())


def _first(headers: tuple[tuple[str, str], ...], name: str) -> str | None:
    return next((value for key, value in headers if key == name), None)


def _address(value: str | None) -> tuple[str | None, str | None]:
    if not value:
        return None, None
    name, address = email.utils.parseaddr(value)
    address = address.strip().lower()
    return (name.strip() or None), (address if "@" in address else None)
