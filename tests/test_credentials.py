"""The credential table: every shape finds its own example (and the ticket becomes
restricted), its near miss stays clean, and redaction leaves nothing of the secret."""

from __future__ import annotations

import pytest

from triage.redaction import scrub_text
from triage.rules.credentials import NEAR_MISSES, SHAPES, SPOKEN_EXAMPLES
from triage.rules.sensitivity import CREDENTIAL, redact, scan, scan_text

EXAMPLES = [(shape.name, shape.example) for shape in SHAPES] + list(SPOKEN_EXAMPLES)
SHAPE_NEAR_MISSES = [shape.near_miss for shape in SHAPES if shape.near_miss]


def test_the_table_holds_at_least_forty_distinct_shapes():
    assert len({shape.name for shape in SHAPES}) >= 40
    assert len({shape.pattern.pattern for shape in SHAPES}) == len(SHAPES)


@pytest.mark.parametrize(
    ("kind", "text"), EXAMPLES, ids=[f"{k}-{i}" for i, (k, _) in enumerate(EXAMPLES)]
)
def test_each_example_is_found_by_its_shape_and_makes_the_ticket_restricted(kind, text):
    findings = [f for f in scan_text(text, "body") if f.tag == CREDENTIAL]
    assert kind in {f.kind for f in findings}
    sensitivity = scan({"body": text})
    assert CREDENTIAL in sensitivity.tags and sensitivity.level == "restricted"


@pytest.mark.parametrize(
    ("kind", "text"), EXAMPLES, ids=[f"{k}-{i}" for i, (k, _) in enumerate(EXAMPLES)]
)
def test_redaction_leaves_nothing_of_the_secret_and_is_stable(kind, text):
    findings = [f for f in scan_text(text, "body") if f.tag == CREDENTIAL]
    secrets = [text[f.start : f.end] for f in findings]
    redacted = redact(text, findings)
    assert not [secret for secret in secrets if secret in redacted]
    assert f"[CREDENTIAL:{kind}]" in redacted
    assert scrub_text(redacted) == redacted  # a placeholder is never found again
    assert scrub_text(text) == redacted


@pytest.mark.parametrize("text", SHAPE_NEAR_MISSES + list(NEAR_MISSES))
def test_near_misses_are_not_credentials(text):
    assert [f.kind for f in scan_text(text, "body") if f.tag == CREDENTIAL] == []


@pytest.mark.parametrize(
    "text",
    [
        # the dev set's near misses, and ordinary talk about passwords and keys
        "Ich habe mein Kennwort vergessen und komme nicht mehr rein",
        "Can you do a password reset for me? I locked myself out.",
        "Name oder Kennwort nicht korrekt (bitte Anmeldung wiederholen)",
        "the password policy says 12 characters",
        "pwd /home/ann shows the wrong folder",
        "the PW 7000X printer jams on tray 2",
        "my monkey: the keyboard key F5 is stuck",
        "Token expired, please log in again",
        "Mot de passe expiré, je ne peux plus me connecter",
        "La contraseña no funciona desde ayer",
        "Passwort zurücksetzen bitte, Ticket 4711",
        "The secret to a good ticket is detail",
        "Employee ID 448812, cost centre 4410",
    ],
)
def test_ordinary_talk_about_passwords_and_keys_is_not_a_credential(text):
    assert [f.kind for f in scan_text(text, "body") if f.tag == CREDENTIAL] == []


def test_a_credential_after_an_underscore_or_in_a_query_string_is_found():
    for text in (
        "GET /api/orders?user=ann&access_token=Zm9vYmFyYmF6cXV4MTIz&page=2",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "export MY_SERVICE_TOKEN=3f9a8b7c6d5e4f3a2b1c",
    ):
        assert scan({"body": text}).level == "restricted", text


# A password on the line after its announcement, in the four languages: (text, the secret).
NEXT_LINE = [
    ("my password for the VPN is below\nXk9#mQ2!vpn\nthanks, Ann", "Xk9#mQ2!vpn"),
    ("Hi,\nhere is my password:\nSommerwind7\nregards Ann", "Sommerwind7"),
    ("here is my password:\n\n  Tr0mbone#77  \n", "Tr0mbone#77"),
    ("the new password is as follows:\r\nWinter2026!\r\n", "Winter2026!"),
    ("mein Passwort für das VPN steht unten:\nKestrel-2025\nGruß", "Kestrel-2025"),
    ("Mein Kennwort lautet wie folgt\nblaubeere42\n", "blaubeere42"),
    ("mon mot de passe est ci-dessous\nSoleil#Levant\n", "Soleil#Levant"),
    ("voici mon mot de passe :\nAzerty123!\nmerci", "Azerty123!"),
    ("mi contraseña está abajo:\nMadrid2025$\n", "Madrid2025$"),
    ("la contraseña es la siguiente\nToledo#2025\n", "Toledo#2025"),
]


@pytest.mark.parametrize(("text", "secret"), NEXT_LINE)
def test_a_password_on_the_line_after_its_announcement_is_found_and_masked(text, secret):
    findings = [f for f in scan_text(text, "body") if f.tag == CREDENTIAL]
    assert [text[f.start : f.end] for f in findings] == [secret]
    assert secret not in scrub_text(text)


@pytest.mark.parametrize(
    "text",
    [
        "my password is below\nThanks for your help, Ann",
        "my password is below\nThanks",
        "the password policy is below\nminimum 12 characters",
        "Password reset link is below:\nhttps://sso.example.com/reset",
        "Kennwort steht unten im Brief, ich finde ihn nicht",
    ],
)
def test_a_pointer_to_the_next_line_without_a_password_there_finds_nothing(text):
    assert [f.kind for f in scan_text(text, "body") if f.tag == CREDENTIAL] == []
