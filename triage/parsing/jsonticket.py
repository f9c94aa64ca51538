"""JSON tickets (web forms, other tools) validated against a typed schema."""

from __future__ import annotations

import json
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from triage.errors import ParseError
from triage.parsing.cleanup import clean_body
from triage.ticket import Attachment, Category, Priority, Ticket


class JsonAttachment(BaseModel):
    model_config = ConfigDict(extra="ignore")
    filename: str = Field(min_length=1, max_length=255)
    content_type: str = "text/plain"
    content: str = ""


class JsonTicket(BaseModel):
    """The fields a JSON ticket may carry. Unknown fields are ignored; known ones are typed."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, populate_by_name=True)
    subject: str = Field(min_length=1, max_length=2000)
    body: str
    sender: str | None = Field(default=None, alias="from", pattern=r"^[^@\s]+@[^@\s]+$")
    requester: str | None = Field(default=None, max_length=500)
    message_id: str | None = Field(default=None, max_length=1000)
    received_at: datetime | None = None
    category: Category | None = None
    priority: Priority | None = None
    log: str | None = None
    attachments: list[JsonAttachment] = Field(default_factory=list, max_length=100)


def parse_json_ticket(data: bytes, max_text_attachment_bytes: int, max_body_chars: int) -> Ticket:
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ParseError(f"JSON ticket is not UTF-8: {exc.reason} at byte {exc.start}") from None
    except json.JSONDecodeError as exc:
        raise ParseError(
            f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    if not isinstance(document, dict):
        raise ParseError("a JSON ticket must be one object with subject and body")
    try:
        fields = JsonTicket.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'ticket'}: {error['msg']}"
            for error in exc.errors()[:10]
        )
        raise ParseError(f"JSON ticket does not match the schema: {problems}") from None

    logs = [fields.log] if fields.log else []
    attachments = []
    for item in fields.attachments:
        size = len(item.content.encode("utf-8"))
        kept = item.content_type.startswith("text/") and size <= max_text_attachment_bytes
        if kept:
            logs.append(item.content)
        attachments.append(Attachment(item.filename, item.content_type, size, kept))
    body, pasted = clean_body(fields.body, max_body_chars)
    hints: dict[str, str] = {
        key: value
        for key, value in (("category", fields.category), ("priority", fields.priority))
        if value
    }
    if fields.received_at is not None:
        hints["received_at"] = fields.received_at.isoformat()
    sender = fields.sender.lower() if fields.sender else None
    return Ticket(
        format="json",
        subject=" ".join(fields.subject.split()),
        body=body,
        sender=sender,
        message_id=fields.message_id,
        content_type="application/json",
        attachments=tuple(attachments),
        logs=(*logs, *pasted),
        requester=fields.requester or sender,
        hints=hints,
    )
