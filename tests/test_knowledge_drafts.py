"""Grounded drafts: the paid tier (the real `anthropic` SDK against the loopback stand-in) is
given the suggested articles' text, redacted like everything sent, under their [source], and
asked to cite the one it used; a draft citing a source it was not given is flagged."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.conftest import mail, raw
from tests.standins.anthropic_api import DEFAULT_ANALYSIS, MessagesStandIn
from tests.test_knowledge import indexed_pipeline, write_kb
from tests.test_paid import escalator
from triage.store.sqlite import SqliteStore

WIFI_SECRET = "Gu3st-Wlan-2026!"
PHISHING_ARTICLE = (
    "# Clicked a phishing link and typed your password\n\n"
    "Change your password at once in the self-service portal, then report the phishing mail "
    "with the Report button in Outlook. The security team checks the sign-in logs. "
    f"Meanwhile use the guest network, password: {WIFI_SECRET}\n"
)
TICKET = mail(
    "Phishing: I clicked a link and typed my password",
    "I clicked the link in a phishing mail and typed my password on the page. What now?",
)


@pytest.fixture
def api() -> Iterator[MessagesStandIn]:
    stand_in = MessagesStandIn().start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def grounded(api, make_settings, tmp_path, clock):
    kb = write_kb(tmp_path / "kb")
    (kb / "phishing-clicked.md").write_text(PHISHING_ARTICLE, encoding="utf-8")
    settings = make_settings(f"[knowledge]\ndirs = ['{kb}']\n")
    store = SqliteStore(settings.store.path)
    yield indexed_pipeline(settings, store, clock, escalator=escalator(api, store, clock))
    store.close()


def test_the_paid_tier_is_given_the_suggested_article_redacted_under_its_source(api, grounded):
    result = grounded.handle(raw(TICKET)).result
    assert result.route.tier == "paid"
    assert result.suggestions[0].source == "kb/phishing-clicked.md"
    [request] = api.messages()
    user = request.body["messages"][0]["content"]
    sent = json.dumps(request.body)
    assert "[kb/phishing-clicked.md] Clicked a phishing link and typed your password" in user
    assert "report the phishing mail with the Report button in Outlook" in user
    assert WIFI_SECRET not in sent and "[CREDENTIAL:password]" in user
    system = request.body["system"][0]["text"]
    assert "cite it by its [source]" in system
    assert "Never tell the\nrequester a step" in system


def test_a_draft_citing_the_given_article_is_kept_and_carries_no_secret(api, grounded):
    api.analysis = {
        **DEFAULT_ANALYSIS,
        "draft_reply": "Please change your password now [kb/phishing-clicked.md]. "
        f"The guest Wi-Fi password is {WIFI_SECRET}",
    }
    result = grounded.handle(raw(TICKET)).result
    assert result.escalation is not None
    draft = result.escalation["draft_reply"]
    assert draft.startswith("Please change your password now [kb/phishing-clicked.md].")
    assert WIFI_SECRET not in result.to_json()
    assert not [note for note in result.needs_review if "cites" in note]


def test_a_draft_citing_an_article_it_was_not_given_is_flagged_for_review(api, grounded):
    api.analysis = {**DEFAULT_ANALYSIS, "draft_reply": "See [kb/made-up.md] for the steps."}
    result = grounded.handle(raw(TICKET)).result
    assert "the draft reply cites kb/made-up.md, which it was not given" in result.needs_review


def test_without_a_fitting_article_the_paid_tier_is_told_there_is_none(api, grounded):
    ransom = mail("Ransomware!", "A ransom demand appeared and everything is encrypted.")
    result = grounded.handle(raw(ransom)).result
    assert result.route.tier == "paid" and result.suggestions == []
    [request] = api.messages()
    user = request.body["messages"][0]["content"]
    assert user.endswith("Knowledge articles:\nnone: no article answers this ticket")


def test_a_ticket_the_rules_answer_alone_costs_no_paid_call_for_a_draft(api, grounded):
    # The rules settle a routine ticket (low risk, its category sure); that an article answers
    # it is shown as a suggestion, and no paid call is made just to write a reply.
    routine = mail(
        "Outlook mailbox full",
        "Outlook says my mailbox is full and I cannot send mail. How do I clean it up?",
    )
    result = grounded.handle(raw(routine)).result
    assert result.suggestions[0].source == "kb/mailbox-quota.md"
    assert result.route.tier == "rules"
    assert result.escalation is None and result.cost.usd == 0
    assert api.messages() == []
