from __future__ import annotations

import pytest

from triage.parsing.cleanup import clean_body, split_pasted_logs, split_quotes, strip_quotes


@pytest.mark.parametrize(
    ("text", "kept", "removed"),
    [
        (
            "Printer is broken.\n\nOn Mon, 1 Jan 2026 at 10:00, Bob <b@x.com> wrote:\n> old text",
            "Printer is broken.",
            "old text",
        ),
        (
            "New answer\n\nOn Wed, May 18, 2016 at 11:10 PM Steven <s@x.com>\nwrote:\n\nold text",
            "New answer",
            "old text",
        ),
        (
            "Hi,\nOn Tue, 2011-03-01 at 18:02, Abhi wrote:\n> question?\n\nThe answer is below.",
            "The answer is below.",
            "question?",
        ),
        ("Danke!\n\nAm 01.02.2026 um 10:00 schrieb Max Muster <m@x.de>:\n> alt", "Danke!", "alt"),
        (
            "Merci\n\nLe lun. 2 nov. 2026 à 10:00, Jean <j@x.fr> a écrit :\n> ancien",
            "Merci",
            "ancien",
        ),
        (
            "Gracias\n\nEl lun, 2 nov 2026 a las 10:00, Ana <a@x.es> escribió:\n> viejo",
            "Gracias",
            "viejo",
        ),
        (
            "Top post\n\nFrom: Dan [mailto:d@x.com]\nSent: Monday\nTo: Me\nSubject: Re: x\n\nold",
            "Top post",
            "old",
        ),
        ("Oben\n\nVon: Dan\nGesendet: Montag\nAn: Ich\n\nalt", "Oben", "alt"),
        ("Body\n-----Original Message-----\nFrom: x\n\nold", "Body", "old"),
        ("Body text\n\n-- \nJohn Doe\nIT Department", "Body text", "IT Department"),
        ("Here is another email\n\nSent from my iPhone", "Here is another email", "iPhone"),
        ("Text\n\nVon meinem iPhone gesendet", "Text", "iPhone"),
    ],
)
def test_quotes_and_signatures_are_stripped(text, kept, removed):
    stripped = strip_quotes(text)
    assert kept in stripped
    assert removed not in stripped


def test_a_message_that_is_only_a_quote_is_kept_whole():
    assert strip_quotes("> only quoted text") == "> only quoted text"


def test_sent_from_my_desk_is_text_not_a_signature():
    text = "Here\n\nSent from my desk, is much easier then my mobile phone."
    assert "Sent from my desk" in strip_quotes(text)


def test_pasted_log_is_lifted_out_of_the_body():
    log = "\n".join(f"2026-11-02 10:00:{i:02d} ERROR vpn tunnel failed code {i}" for i in range(8))
    body, logs = split_pasted_logs(f"My VPN fails, see log:\n{log}\nThanks")
    assert logs == [log]
    assert "tunnel failed" not in body and "My VPN fails" in body and "Thanks" in body
    assert "[pasted log: 8 lines" in body


def test_a_few_timestamps_in_prose_are_not_a_log():
    text = "2026-11-02 10:00 it broke\nand 2026-11-02 11:00 again"
    assert split_pasted_logs(text) == (text, [])


def test_long_bodies_are_cut_with_a_marker():
    body, _ = clean_body("word " * 10_000, max_chars=1000)
    assert len(body) < 1100 and "more characters cut]" in body


@pytest.mark.parametrize(
    ("name", "kept", "removed"),
    [
        ("email_1_2.txt", "You can list the keys", "What is the best way to clear"),
        ("email_iPhone.txt", "Here is another email", "Sent from my iPhone"),
        ("email_gmail.txt", "This is a test for inbox replying", "That way people can tell"),
        ("email_one_is_not_on.txt", "One outstanding question", "much better query"),
        ("email_headers_no_delimiter.txt", "And another reply!", "This is a message."),
        ("email_sent_from_my_not_signature.txt", "Sent from my desk", None),
    ],
)
def test_reply_parser_corpus(corpora, name, kept, removed):
    text = (corpora / "email" / "zapier_email-reply-parser" / name).read_text(encoding="utf-8")
    stripped = strip_quotes(text)
    assert kept in stripped
    if removed:
        assert removed not in stripped


def test_legal_disclaimers_are_dropped_but_ordinary_text_stays():
    text = (
        "The printer is broken.\n\nThis e-mail and any attachments are confidential and "
        "intended solely for the addressee. If you have received it in error, delete it.\n\n"
        "Diese E-Mail ist vertraulich und nur für den bestimmten Empfänger."
    )
    body, _ = clean_body(text, 10_000)
    assert body == "The printer is broken."
    assert clean_body("Please keep this confidential, it is intended for HR.", 10_000)[0]


def test_split_quotes_returns_what_it_took_away():
    from triage.parsing.cleanup import split_quotes

    own, quoted = split_quotes("Thanks!\n\nOn Mon, 5 May 2025, Bob wrote:\nold text\n-- \nBob")
    assert own == "Thanks!" and quoted.startswith("On Mon") and "old text" in quoted
    assert split_quotes("only words") == ("only words", "")


def test_a_signature_indented_with_non_breaking_spaces_is_found_in_a_long_text():
    own = "\n".join(f"line {number} of the report" for number in range(300))
    text = f"{own}\n\u00a0\u00a0-- \nAnn Muster\nIT"
    assert split_quotes(text) == (own, "\u00a0\u00a0-- \nAnn Muster\nIT")


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\u2028"])
def test_a_pasted_log_is_found_whatever_ends_its_lines(newline):
    log = [f"2026-11-02 10:00:0{second} ERROR tunnel down" for second in range(5)]
    body, logs = split_pasted_logs(newline.join(["VPN broken:", *log, "thanks"]))
    assert body == "VPN broken:\n[pasted log: 5 lines, see the log slice]\nthanks"
    assert logs == ["\n".join(log)]


def test_a_text_without_log_lines_comes_back_with_its_lines_joined_by_newlines():
    assert split_pasted_logs("one\r\ntwo\rthree") == ("one\ntwo\nthree", [])
