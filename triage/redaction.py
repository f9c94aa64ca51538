"""Secrets out of what the daemon writes and sends: the result a ticket gets, and the text a
remote tier sees. Pure functions.

Two kinds: values found in the ticket (credentials, cards, IBANs: typed placeholders such as
[CREDENTIAL:password]) and the secrets of the configuration (an API key pasted into a ticket:
[SECRET]), which no pattern would know."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from triage.result import Result
from triage.rules.sensitivity import IBAN, RESTRICTING, scrub

RESULT_TAGS = RESTRICTING | {IBAN}
SECRET_PLACEHOLDER = "[SECRET]"  # noqa: S105 - a placeholder, not a password


def mask_secrets(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, SECRET_PLACEHOLDER)
    return text


def clean_result(result: Result, secrets: tuple[str, ...] = ()) -> Result:
    """The result with every free text scanned afresh: the subject is the requester's, and a
    summary or reason may come from a model that saw the whole ticket."""

    # The ticket was scanned whole by the rules: with nothing of RESULT_TAGS found there,
    # nothing derived from it can hold one, and the rescan is skipped (most tickets).
    # (A quarantined input was never scanned: its reason may quote it.)
    rescan = result.status == "quarantined" or bool(
        RESULT_TAGS.intersection(result.sensitivity.tags)
    )

    def clean(text: str) -> str:
        return mask_secrets(scrub(text, RESULT_TAGS) if rescan else text, secrets)

    update: dict[str, Any] = {
        "subject": clean(result.subject),
        "summary": clean(result.summary),
        "risk_reasons": [clean(reason) for reason in result.risk_reasons],
    }
    if result.status_reason is not None:
        update["status_reason"] = clean(result.status_reason)
    if result.escalation is not None:
        update["escalation"] = _clean_value(result.escalation, clean)
    return result.model_copy(update=update)


def _clean_value(value: Any, clean: Any) -> Any:
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, list):
        return [_clean_value(item, clean) for item in value]
    if isinstance(value, dict):
        return {key: _clean_value(item, clean) for key, item in value.items()}
    return value
