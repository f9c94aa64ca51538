"""clean_result scrubs every text of a result, whatever field it sits in, and keeps the
contract's identifiers as they are."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from triage.redaction import KEPT_AS_IS, clean_result
from triage.result import Attempt, FieldsOut, Result, Route, SensitivityOut

PASSWORD = "Hunter2!xyz-Planted"
AWS = "AKIA" + "EXAMPLE7KEY0ID12"
CONFIGURED = "sk-config-123456"
LEAK = f"password: {PASSWORD} key {AWS} and {CONFIGURED}"


def _result(**overrides: Any) -> Result:
    values: dict[str, Any] = {
        "id": "t-0123456789abcdef0123",
        "source": "dropfolder",
        "source_ref": f"/in/password={PASSWORD}.eml",
        "message_id": "<m1@example.com>",
        "received_at": datetime(2026, 11, 2, tzinfo=UTC),
        "sender": "ann@example.com",
        "subject": LEAK,
        "status": "triaged",
        "status_reason": LEAK,
        "summary": LEAK,
        "risk_reasons": [LEAK],
        "route": Route(
            tier="paid",
            reason=LEAK,
            attempts=[Attempt(tier="local", ok=False, error=LEAK)],
        ),
        "workflow": "security",
        "sensitivity": SensitivityOut(level="restricted", tags=["credential"]),
        "fields": FieldsOut(requester=LEAK, hosts=[LEAK], error_codes=[LEAK], devices=[LEAK]),
        "escalation": {"next_steps": [LEAK], "draft_reply": LEAK, LEAK: {"nested": [LEAK]}},
        "needs_review": [LEAK],
        "matched_rules": [LEAK],
        "log_slice": f"Nov 02 09:00 sshd[1]: Accepted password for root: {PASSWORD}\n{LEAK}",
    }
    values.update(overrides)
    return Result(**values)


def _texts(value: Any, path: str = "") -> list[tuple[str, str]]:
    """Every text leaf of a dumped result, with where it is."""
    if isinstance(value, str):
        return [(path, value)]
    if isinstance(value, list):
        return [leaf for i, item in enumerate(value) for leaf in _texts(item, f"{path}[{i}]")]
    if isinstance(value, dict):
        return [
            leaf
            for key, item in value.items()
            for leaf in [(f"{path}.{key}#key", str(key)), *_texts(item, f"{path}.{key}")]
        ]
    return []


def test_no_text_field_of_a_result_keeps_a_credential_or_a_configured_secret():
    clean = clean_result(_result(), (CONFIGURED,))
    leaks = [
        (where, text)
        for key, value in clean.model_dump().items()
        if key not in KEPT_AS_IS
        for where, text in _texts(value, key)
        if PASSWORD in text or AWS in text or CONFIGURED in text
    ]
    assert leaks == []
    assert clean.log_slice is not None and "[CREDENTIAL:password]" in clean.log_slice
    assert clean.fields.hosts == [clean.summary]
    assert "[SECRET]" in clean.summary and "[CREDENTIAL:aws_key]" in clean.summary


def test_a_field_added_to_the_result_later_is_scrubbed_without_naming_it():
    # Every text leaf the model can hold is walked: none is left as it was, but the kept ones.
    dirty = _result()
    clean = clean_result(dirty, (CONFIGURED,))
    before = dict(_texts(dirty.model_dump()))
    after = dict(_texts(clean.model_dump()))
    unchanged = {
        where for where, text in before.items() if LEAK in text and after.get(where) == text
    }
    assert unchanged == set()


def test_identifiers_and_the_source_ref_are_kept_as_the_contract_says():
    clean = clean_result(_result())
    assert clean.id == "t-0123456789abcdef0123"
    assert clean.source_ref == f"/in/password={PASSWORD}.eml"
    assert clean.message_id == "<m1@example.com>"
    assert clean.received_at == datetime(2026, 11, 2, tzinfo=UTC)
    assert clean.sender == "ann@example.com"


def test_cleaning_twice_changes_nothing_and_a_clean_ticket_is_left_alone():
    once = clean_result(_result(), (CONFIGURED,))
    assert clean_result(once, (CONFIGURED,)) == once
    plain = _result(
        subject="Printer on floor 3 jams",
        status_reason=None,
        summary="Printer jams. Call me on +49 170 1234567 or ann@example.com",
        risk_reasons=[],
        route=Route(tier="rules", reason="rules were sure"),
        fields=FieldsOut(requester="ann@example.com", hosts=["prn-3"]),
        escalation=None,
        needs_review=[],
        matched_rules=["printer"],
        log_slice=None,
    )
    assert clean_result(plain) == plain  # phones and addresses stay in the result (internal)


def test_a_credential_in_a_dropped_files_name_is_published_masked_and_stored_as_it_is(
    harness_for,
):
    from tests.servers import Inbox, Received, http_server, smtp_server
    from tests.test_relay import relay_toml
    from triage.redaction import published

    name = f"password={PASSWORD}.txt"
    assert PASSWORD not in published(_result(source_ref=f"/in/{name}")).source_ref
    inbox, received = Inbox(), Received()
    with smtp_server(inbox) as server, http_server(received) as url:
        hooks = harness_for(
            relay_toml(server.port) + f"[[webhooks]]\nurl = '{url}'\nsecret = 's3cret-hook-0123'\n"
        )
        result = hooks.triage("Printer jams\n\non floor 3", name=name, source="dropfolder")
        hooks.sender("smtp").run_once()
        hooks.sender("webhook").run_once()
        stored = hooks.store.get_result(result.id)
    [(_, _, mailed)] = inbox.messages
    [(_, posted)] = received.requests
    [outbox] = list(hooks.settings.outbox.dir.glob("*.json"))
    published_texts = {
        "webhook": posted.decode(),
        "relay": mailed.decode("utf-8", "replace"),
        "outbox": outbox.read_text(),
    }
    assert {where: PASSWORD in text for where, text in published_texts.items()} == {
        "webhook": False,
        "relay": False,
        "outbox": False,
    }
    assert stored is not None and stored.source_ref == f"/in/{name}"  # kept for replay
