"""The ticket's language (ISO 639-1) on every result: lingua on the subject and body, None
when unsure. The phrases are written here, none taken from an evaluation set."""

from __future__ import annotations

import email
import email.policy

import pytest

from tests.conftest import mail
from tests.servers import Inbox, smtp_server
from tests.test_relay import relay_toml
from triage.parsing.language import language_of


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("My laptop does not start since this morning, the screen stays black.", "en"),
        ("Mein Laptop startet seit heute Morgen nicht mehr, der Bildschirm bleibt schwarz.", "de"),
        ("Mon ordinateur portable ne démarre plus depuis ce matin, l'écran reste noir.", "fr"),
        ("Mi portátil no arranca desde esta mañana, la pantalla se queda en negro.", "es"),
        ("Il mio portatile non si avvia da stamattina, lo schermo resta nero.", "it"),
        ("Mijn laptop start sinds vanochtend niet meer op, het scherm blijft zwart.", "nl"),
        ("Drucker im 3. Stock druckt nur leere Seiten", "de"),
        ("j'ai oublié mon mot de passe", "fr"),
        ("olvidé mi contraseña", "es"),
        ("no puedo entrar al correo", "es"),
    ],
)
def test_the_language_of_a_ticket_is_found_also_for_a_short_one(text, expected):
    assert language_of(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A few words are too few for trigrams alone: these came out Italian, Swedish,
        # Dutch, Italian and Portuguese. The words the text holds decide.
        ("Password reset please", "en"),
        ("mot de passe oublié", "fr"),
        ("my laptop wont start", "en"),
        ("imprimante en panne", "fr"),
        ("no funciona el correo", "es"),
        ("Il mio computer non funziona", "it"),
        ("Min dator fungerar inte", "sv"),
        # No word of any language: unsure, rather than Swedish or Dutch (an acknowledgement
        # in the wrong language, a route to the wrong desk)
        ("Printer broken", None),
        ("Outlook", None),
    ],
)
def test_a_text_of_a_few_words_gets_the_language_whose_words_it_holds(text, expected):
    assert language_of(text) == expected


@pytest.mark.parametrize("text", ["", "12345 678", "ok", "!!! ???", "=== ---- ==="])
def test_too_little_text_gives_no_language_rather_than_a_guess(text):
    assert language_of(text) is None


def test_every_triaged_result_carries_its_language(pipeline):
    german = pipeline.handle(
        raw_mail("Postfach voll", "Outlook sagt, mein Postfach ist voll, ich kann nichts senden.")
    ).result
    english = pipeline.handle(
        raw_mail("Mailbox full", "Outlook says my mailbox is full and I cannot send anything.")
    ).result
    assert (german.language, english.language) == ("de", "en")
    assert '"language":"de"' in german.to_json()


def raw_mail(subject: str, body: str):
    from tests.conftest import raw

    return raw(mail(subject, body))


def test_the_relay_routes_by_language_and_says_it_in_a_header(harness_for):
    inbox = Inbox()
    with smtp_server(inbox) as server:
        relay = harness_for(
            relay_toml(
                server.port,
                "[[relay.routes]]\nlanguage = ['de']\nto = 'de-desk@example.org'\n"
                "[[relay.routes]]\nto = 'desk@example.org'\n",
            )
        )
        relay.triage(mail("Drucker", "Der Drucker im Flur druckt seit gestern nur leere Seiten."))
        relay.triage(
            mail("Printer", "The printer in the hallway prints blank pages since yesterday.")
        )
        relay.sender("smtp").run_once()
    got = {}
    for _, recipients, content in inbox.messages:
        message = email.message_from_bytes(content, policy=email.policy.default)
        got[recipients[0]] = message["X-Triage-Language"]
    assert got == {"de-desk@example.org": "de", "desk@example.org": "en"}
