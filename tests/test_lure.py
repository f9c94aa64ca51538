"""Lures and spam judged by their own content and structure (triage.rules.lure), forwarded
mail reported whatever the user's line says, and stranger's mail straight to the helpdesk
(triage.rules.unsolicited). Every example here is written for this file."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from triage.compose.app import rules_from
from triage.config.settings import load_settings
from triage.parsing import MailLimits, parse_ticket
from triage.rules import evaluate
from triage.rules.automated import bulk_headers, detect_automated
from triage.rules.lure import (
    LURE,
    SPAM,
    Suspect,
    brand_claim,
    judge,
    link_mismatch,
    org_name,
)
from triage.rules.senders import failed_authentication, is_colleague, spam_verdicts
from triage.ticket import Attachment, Link

LIMITS = MailLimits(1 << 20, 100, 10)
RULES = rules_from(load_settings(None, {}).settings)

PLAIN = Suspect(text="Hi, the meeting moved to 3pm. Regards, Tom", sender_name="Tom Berg",
                sender="tom.berg@partner-firm.example")  # fmt: skip


@pytest.mark.parametrize(
    ("name", "address", "claims"),
    [
        ("PayPal Service", "billing@pp-secure-center.top", True),
        ("Microsoft 365 Team", "alerts@mx4.qwzt.example", True),
        ("Amazon", "store-news@amazon.com", False),  # the brand's own domain
        ("DHL Express", "noreply@dhl.de", False),
        ("Jane Doe", "jane.doe@example.org", False),  # no brand at all
        ("support@bank.example", "x@other.example", True),  # shows another address
    ],
)
def test_a_display_name_claiming_a_brand_its_address_does_not_belong_to(name, address, claims):
    assert (brand_claim(name, address) is not None) is claims


@pytest.mark.parametrize(
    ("links", "text", "mismatch"),
    [
        ((Link("https://www.mybank.example/login", "http://203.0.113.9/x"),), "", True),
        ((Link("www.shop.example", "https://track.shop.example/c?id=1"),), "", False),
        ((Link("Click here", "https://evil.example/"),), "", False),  # text names no address
        ((), "Sign in: https://portal.corp.example/ <https://portal-corp.example.top/a>", True),
    ],
)
def test_link_text_naming_another_target_than_the_link(links, text, mismatch):
    assert (link_mismatch(links, text) is not None) is mismatch


@pytest.mark.parametrize(
    ("suspect", "kind"),
    [
        # credential request + account pretext + a lookalike link: a lure
        (Suspect("Your mailbox will be suspended. Verify your password here.",
                 "Mail Admin", "admin@mailbox-update.example",
                 (Link("Verify", "https://micros0ft-login.example/v"),)), LURE),
        # a parcel pretext with an attachment that renders code
        (Suspect("Your parcel could not be delivered, see the attached label.",
                 "Parcel Service", "info@parcels.example", (),
                 (Attachment("label_4471.html", "text/html", 900, False),)), LURE),
        # a prize from a sender line no mail program writes
        (Suspect("Herzlichen Glückwunsch! Ihr Gutschein wartet.", None, None,
                 from_header="Gewinnspiel <>"), LURE),
        # an advance-fee windfall answered at another free-mail address
        (Suspect("I am donating 2 million to you. Reply to claim.bank.agent@gmail.com",
                 "Mr. K. Osei", "k.osei@college.example"), LURE),
        # homoglyphs: Cyrillic letters inside Latin words, plus a renewal pretext
        (Suspect("Yоur subsсription expired, renew now", "Billing", "b@renew.example"), LURE),
        # casino adverts: spam, not a lure
        (Suspect("Grab 200 free spins and a casino bonus!", "Lucky", "win@lucky.example"), SPAM),
        # a newsletter advert
        (Suspect("New catalogue: 20% off all chairs. Unsubscribe here.", "Chairs Inc",
                 "news@chairs.example"), SPAM),
        # an ordinary mail: neither
        (PLAIN, None),
        # an invoice from a partner, from its own domain, no structure, no pressure: neither
        (Suspect("Please find our invoice 2291 attached.", "Acme Billing",
                 "billing@acme.example", (),
                 (Attachment("invoice-2291.pdf", "application/pdf", 9000, False),)), None),
    ],
)  # fmt: skip
def test_a_mail_is_judged_lure_spam_or_neither_by_its_content_and_structure(suspect, kind):
    assert judge(suspect).kind == kind


def test_org_name_is_the_registered_name_whatever_the_country_domain():
    assert org_name("mail.kestrel.co.uk") == org_name("kestrel.de") == "kestrel"
    assert org_name("a.b.example.de") == "example"


def forward(own: str, style: str, suspect_from: str, suspect_text: str) -> bytes:
    message = EmailMessage()
    message["From"] = "Ana Ruiz <ana.ruiz@ourco.example>"
    message["To"] = "helpdesk@ourco.example"
    if style == "attached":
        message["Subject"] = "FW: Notice"
        message.set_content(own)
        attached = EmailMessage()
        attached["From"] = suspect_from
        attached["Subject"] = "Notice"
        attached.set_content(suspect_text)
        message.add_attachment(attached)
        return message.as_bytes()
    if style == "gmail":
        block = f"---------- Forwarded message ---------\nFrom: {suspect_from}\nSubject: Notice"
    else:
        block = (f"________________________________\nFrom: {suspect_from}\n"
                 "Sent: Monday, 2 June 2025 10:00\nTo: Ana\nSubject: Notice")  # fmt: skip
    message["Subject"] = "Fwd: Notice" if style == "gmail" else "FW: Notice"
    message.set_content(f"{own}\n\nAna\n\n{block}\n\n{suspect_text}\n")
    return message.as_bytes()


LURE_TEXT = (
    "Dear customer, unusual activity was detected. Your account is locked. Confirm your "
    "card details within 24 hours at https://secure-verify.example.top/a"
)
SPAM_TEXT = "Hot deals! 50% off garden furniture this week only. Unsubscribe at any time."


@pytest.mark.parametrize("style", ["gmail", "outlook", "attached"])
@pytest.mark.parametrize("own", ["FYI", "??", "Can you check this one please?", "Bitte prüfen."])
def test_a_forwarded_lure_is_reported_phishing_high_without_any_word_of_doubt(style, own):
    data = forward(own, style, "Card Services <alerts@cards-alert.example.top>", LURE_TEXT)
    verdict = evaluate(parse_ticket(data, LIMITS), RULES, 60)
    assert verdict.category == "security" and verdict.risk == "high"
    assert any("forwarded lure" in reason for reason in verdict.risk_reasons)


@pytest.mark.parametrize("style", ["gmail", "outlook", "attached"])
def test_forwarded_plain_spam_is_a_security_report_but_not_high(style):
    data = forward("Please look at this.", style, "Garden Shop <news@garden.example>", SPAM_TEXT)
    verdict = evaluate(parse_ticket(data, LIMITS), RULES, 60)
    assert verdict.category == "security" and verdict.risk != "high"
    assert any(reason.startswith("spam reported") for reason in verdict.risk_reasons)


@pytest.mark.parametrize(
    "own", ["Sorry, I clicked it before I noticed.", "Ich habe auf den Link geklickt.",
            "J'ai cliqué sur le lien.", "Hice clic en el enlace."],
)  # fmt: skip
def test_a_user_who_clicked_a_forwarded_mail_reports_an_incident(own):
    data = forward(own, "outlook", "Notice <n@notice.example>", "See the document.")
    verdict = evaluate(parse_ticket(data, LIMITS), RULES, 60)
    assert verdict.category == "security" and verdict.risk == "high"
    assert any("interacted" in reason for reason in verdict.risk_reasons)


def test_a_user_who_says_they_did_not_click_has_not_interacted():
    data = forward("I did not click anything.", "outlook", "Notice <n@notice.example>",
                   "Lunch menu for next week.")  # fmt: skip
    verdict = evaluate(parse_ticket(data, LIMITS), RULES, 60)
    assert not any("interacted" in reason for reason in verdict.risk_reasons)


def test_a_colleagues_mail_forwarded_with_a_request_is_an_ordinary_ticket():
    data = forward("Can you install this for Paul?", "outlook",
                   "Paul Kim <paul.kim@ourco.example>",
                   "Hi Ana, I need the new invoice software on my laptop. Paul")  # fmt: skip
    verdict = evaluate(parse_ticket(data, LIMITS), RULES, 60)
    assert verdict.category != "security" and verdict.risk != "high"


def direct(sender: str, subject: str, text: str, headers: dict[str, str] | None = None) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "helpdesk@ourco.example"
    message["Subject"] = subject
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    return message.as_bytes()


DIRECT_LURE = (
    "Support Team <support@helpdesk-reset.example.top>",
    "Password expires today",
    "Your password expires today. Confirm your password immediately: "
    "https://helpdesk-reset.example.top/login",
)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Precedence": "bulk"},  # an attacker's own bulk label
        {"X-Spam-Flag": "NO", "X-Spam-Status": "No, score=-5.0"},  # an all-clear it wrote
        {"Authentication-Results": "mx.ourco.example; spf=pass; dkim=pass; dmarc=pass"},
        {"List-Unsubscribe": "<mailto:u@helpdesk-reset.example.top>"},
    ],
)
def test_no_header_a_sender_can_write_clears_a_lure_sent_to_the_helpdesk(headers):
    verdict = evaluate(parse_ticket(direct(*DIRECT_LURE, headers), LIMITS), RULES, 60)
    assert verdict.unsolicited is not None and verdict.unsolicited.startswith("phishing")


def test_a_colleagues_mail_is_never_unsolicited_whatever_it_says():
    data = direct(
        "Eva Maier <eva.maier@ourco.example>",
        "Password expires today",
        "My password expires today and the reset page says confirm your password.",
    )
    ticket = parse_ticket(data, LIMITS)
    assert is_colleague(ticket, ("ourco.example",))
    assert evaluate(ticket, RULES, 60, own_domains=("ourco.example",)).unsolicited is None


def test_a_forged_colleague_address_that_failed_dmarc_is_a_stranger():
    data = direct(
        "CEO <ceo@ourco.example>",
        "Quick task",
        "Buy 5 gift cards now and send the codes.",
        {"Authentication-Results": "mx.ourco.example; spf=fail; dmarc=fail"},
    )
    ticket = parse_ticket(data, LIMITS)
    assert failed_authentication(ticket) == ("spf=fail", "dmarc=fail")
    assert not is_colleague(ticket, ("ourco.example",))
    assert evaluate(ticket, RULES, 60, own_domains=("ourco.example",)).unsolicited is not None


@pytest.mark.parametrize(
    ("headers", "kind"),
    [
        ({"X-Spam-Flag": "YES"}, "spam"),
        ({"X-Spam-Score": "7.3"}, "spam"),
        ({"X-Spam-Score": "1.2"}, None),
        ({"X-Rspamd-Action": "add header"}, "spam"),
        ({"X-MS-Exchange-Organization-SCL": "6"}, "spam"),
        ({"X-MS-Exchange-Organization-SCL": "1"}, None),
        ({"X-Forefront-Antispam-Report": "CIP:192.0.2.1;CTRY:;SFV:SPM;CAT:PHSH;SCL:9"},
         "phishing"),
        ({"X-Spam-Flag": "NO"}, None),
    ],
)  # fmt: skip
def test_the_mail_systems_verdicts_are_read(headers, kind):
    ticket = parse_ticket(direct("A <a@b.example>", "Hello", "Hello there.", headers), LIMITS)
    assert spam_verdicts(ticket)[0] == kind


def test_a_strangers_ordinary_mail_to_the_helpdesk_is_not_unsolicited():
    data = direct(
        "Tom Berg <tom.berg@partner-firm.example>",
        "Printer on floor 2",
        "Hi, the printer on floor 2 shows error E-04 since this morning. Tom",
    )
    assert evaluate(parse_ticket(data, LIMITS), RULES, 60).unsolicited is None


@pytest.mark.parametrize(
    ("headers", "bulk"),
    [
        ({"List-Id": "<news.lists.example>"}, True),
        ({"List-Unsubscribe": "<https://x.example/u>", "List-Unsubscribe-Post":
          "List-Unsubscribe=One-Click"}, True),
        ({"Feedback-ID": "1:campaign:sender"}, True),
        ({"X-CSA-Complaints": "csa-complaints@eco.example"}, True),
        ({"Precedence": "list"}, True),
        ({"X-Mailer": "Thunderbird"}, False),
    ],
)  # fmt: skip
def test_list_and_campaign_mail_is_told_by_its_headers(headers, bulk):
    ticket = parse_ticket(
        direct("Nina <nina@paper-shop.example>", "Weekly", "Hello.", headers), LIMITS
    )
    assert (bulk_headers(ticket) is not None) is bulk
    assert (detect_automated(ticket) is not None) is bulk


def test_a_colleagues_mail_through_a_group_address_is_not_bulk_by_list_headers():
    ticket = parse_ticket(
        direct("Eva <eva@ourco.example>", "VPN down", "The VPN is down.",
               {"List-Id": "<helpdesk.ourco.example>"}),
        LIMITS,
    )  # fmt: skip
    assert detect_automated(ticket, colleague=True) is None


def test_incident_words_far_down_a_list_mail_make_no_incident():
    filler = "An article about gardening and the weather this week. " * 40
    text = f"{filler}\nElsewhere a company was hit by ransomware and a laptop was stolen.\n"
    ticket = parse_ticket(
        direct("Weekly <w@news.example>", "This week's reading", text, {"List-Id": "<w.news>"}),
        LIMITS,
    )
    assert evaluate(ticket, RULES, 60).risk != "high"


def test_a_person_reporting_in_the_subject_is_still_heard_in_list_mail():
    ticket = parse_ticket(
        direct("Ops <ops@news.example>", "Ransomware: our file server files are encrypted",
               "See subject.", {"List-Id": "<ops.news>"}),
        LIMITS,
    )  # fmt: skip
    assert evaluate(ticket, RULES, 60).risk == "high"


@pytest.mark.parametrize(
    ("sender", "bulk"),
    [
        ("newsletter@shop.example", True),
        ("offers@news.shop.example", True),
        ("digest@lists.club.example", True),
        ("anna.news@shop.example", False),  # a person whose name has the word
        ("helpdesk@shop.example", False),
    ],
)
def test_a_newsletter_sender_address_is_bulk(sender, bulk):
    ticket = parse_ticket(direct(f"X <{sender}>", "Hello", "Hello."), LIMITS)
    assert (bulk_headers(ticket) is not None) is bulk


def test_a_newsletters_click_redirect_through_its_own_domain_is_no_link_mismatch():
    links = (Link("https://www.shop.example/sale", "https://click.shopmail.example/r?u=1"),)
    assert link_mismatch(links, "", sender_org="shopmail") is None
    assert link_mismatch(links, "", sender_org="other") is not None


def test_a_vendor_mail_forwarded_with_a_request_of_the_users_own_is_no_spam_report():
    data = forward("Can you renew this licence for our team?", "outlook",
                   "Design Suite <offers@designsuite.example>",
                   "Your plan renews soon: 20% off the annual plan. Unsubscribe here.")  # fmt: skip
    verdict = evaluate(parse_ticket(data, LIMITS), RULES, 60)
    assert not any(reason.startswith("spam reported") for reason in verdict.risk_reasons)
