"""Property-based fuzzing of the mail and JSON ticket parsers, and of the whole rules pipeline:
any input gives a ticket or a quarantine reason, never a crash."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triage.compose.app import build_pipeline
from triage.config.settings import load_settings
from triage.errors import ParseError
from triage.parsing import MailLimits, parse_ticket
from triage.pipeline import Pipeline
from triage.store.sqlite import SqliteStore
from triage.ticket import CATEGORIES, RawInput

LIMITS = MailLimits(max_text_attachment_bytes=4096, max_parts=50, max_depth=8, max_body_chars=4096)
FUZZ = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)

_pipeline: Pipeline | None = None


def pipeline() -> Pipeline:
    """One pipeline over an in-memory store for every example (no fixtures: hypothesis)."""
    global _pipeline
    if _pipeline is None:
        _pipeline = build_pipeline(
            load_settings(None, {}).settings,
            SqliteStore(":memory:"),
            None,
            lambda: datetime(2026, 11, 2, 9, tzinfo=UTC),
        )
    return _pipeline


def parses_or_refuses(data: bytes) -> None:
    try:
        ticket = parse_ticket(data, LIMITS)
    except ParseError as exc:
        assert str(exc)  # a quarantine reason, not an empty one
        return
    assert isinstance(ticket.subject, str) and isinstance(ticket.body, str)
    assert len(ticket.body) <= LIMITS.max_body_chars + 200  # cut, with its marker


def triaged_without_crash(data: bytes) -> None:
    raw = RawInput.of(
        data,
        name="fuzz.eml",
        source="cli",
        source_ref="fuzz",
        received_at=datetime(2026, 11, 2, 9, tzinfo=UTC),
    )
    result = pipeline().handle(raw).result
    assert result.status in ("triaged", "duplicate", "ignored", "quarantined")
    assert result.category in CATEGORIES
    assert "internal error" not in (result.status_reason or "")  # our code never crashed


HEADER_NAMES = st.sampled_from(
    [
        "From",
        "To",
        "Subject",
        "Message-ID",
        "Date",
        "Content-Type",
        "Content-Transfer-Encoding",
        "Auto-Submitted",
        "Precedence",
        "In-Reply-To",
        "References",
        "X-Failed-Recipients",
        "Return-Path",
        "Reply-To",
        "Content-Disposition",
        "MIME-Version",
    ]
)
HEADER_VALUES = st.one_of(
    st.text(max_size=80),
    st.sampled_from(
        [
            "=?utf-8?B?w6TDtsO8?=",
            "=?iso-8859-1?Q?caf=E9?=",
            "=?unknown-8bit?Q?=FF=FE?=",
            "=?utf-8?B?broken",
            "multipart/mixed; boundary=",
            'multipart/alternative; boundary="b"',
            "text/plain; charset=x-unknown",
            "text/html; charset=utf-16",
            "message/rfc822",
            "base64",
            "quoted-printable",
            "x-uuencode",
            "auto-replied",
            "<a@b>",
            "<<<>>>",
            "Mon, 32 Foo 99999 25:61:61 +9999",
        ]
    ),
)
TRANSFER = st.sampled_from(["7bit", "8bit", "base64", "quoted-printable", "binary", "x-bogus"])
CONTENT = st.sampled_from(
    [
        "text/plain",
        "text/html",
        "text/plain; charset=utf-8",
        "text/plain; charset=koi8-r",
        "text/plain; charset=bogus",
        "application/octet-stream",
        "application/ms-tnef",
        "message/rfc822",
        "message/delivery-status",
        "text/x-log",
    ]
)


@st.composite
def mime_parts(draw: st.DrawFn, depth: int = 0) -> str:
    if depth < 3 and draw(st.booleans()):
        boundary = draw(st.text(alphabet="abcXYZ019-_=", min_size=1, max_size=12))
        children = draw(st.lists(mime_parts(depth + 1), max_size=4))
        closing = f"--{boundary}--" if draw(st.booleans()) else ""  # sometimes never closed
        body = "".join(f"--{boundary}\n{child}\n" for child in children) + closing
        kind = draw(st.sampled_from(["mixed", "alternative", "related", "report", "digest"]))
        return f'Content-Type: multipart/{kind}; boundary="{boundary}"\n\n{body}'
    headers = f"Content-Type: {draw(CONTENT)}\nContent-Transfer-Encoding: {draw(TRANSFER)}\n"
    if draw(st.booleans()):
        name = draw(st.text(max_size=30))
        headers += f'Content-Disposition: attachment; filename="{name}"\n'
    payload = draw(st.one_of(st.text(max_size=300), st.binary(max_size=300).map(repr)))
    return headers + "\n" + payload


@st.composite
def mails(draw: st.DrawFn) -> bytes:
    headers = draw(st.lists(st.tuples(HEADER_NAMES, HEADER_VALUES), max_size=12))
    lines = [f"{name}: {value}".replace("\r", " ") for name, value in headers]
    text = "\n".join(["From: someone@example.com", *lines, draw(mime_parts())])
    encoding = draw(st.sampled_from(["utf-8", "latin-1", "utf-16"]))
    return text.encode(encoding, "replace")


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
TICKET_KEYS = st.sampled_from(
    [
        "subject",
        "body",
        "from",
        "requester",
        "message_id",
        "received_at",
        "category",
        "priority",
        "log",
        "attachments",
    ]
)


@st.composite
def json_tickets(draw: st.DrawFn) -> bytes:
    ticket = draw(st.dictionaries(TICKET_KEYS, JSON_VALUES, max_size=10))
    if draw(st.booleans()):
        ticket.setdefault("subject", draw(st.text(max_size=40)))
        ticket.setdefault("body", draw(st.text(max_size=200)))
    if draw(st.booleans()):
        ticket["attachments"] = draw(
            st.lists(
                st.dictionaries(
                    st.sampled_from(["filename", "content_type", "content"]),
                    JSON_VALUES,
                    max_size=3,
                ),
                max_size=3,
            )
        )
    return json.dumps(ticket).encode()


@FUZZ
@given(st.binary(max_size=3000))
def test_any_bytes_give_a_ticket_or_a_quarantine_reason(data):
    parses_or_refuses(data)
    triaged_without_crash(data)


@FUZZ
@given(mails())
def test_malformed_mail_gives_a_ticket_or_a_quarantine_reason(data):
    parses_or_refuses(data)
    triaged_without_crash(data)


@FUZZ
@given(json_tickets())
def test_any_json_ticket_is_read_or_refused_with_the_validation_error(data):
    parses_or_refuses(data)
    triaged_without_crash(data)


@FUZZ
@given(JSON_VALUES)
def test_json_that_is_not_a_ticket_object_is_refused_not_crashed(value):
    data = json.dumps(value).encode()
    parses_or_refuses(data)
    triaged_without_crash(data)
