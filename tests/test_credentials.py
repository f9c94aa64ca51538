"""The credential table: every shape finds its own example (and the ticket becomes
restricted), its near miss stays clean, and redaction leaves nothing of the secret."""

from __future__ import annotations

import pytest

from triage.redaction import scrub_text
from triage.rules.credentials import NEAR_MISSES, SHAPES, SPOKEN_EXAMPLES
from triage.rules.sensitivity import CREDENTIAL, redact, scan, scan_text

EXAMPLES = [(shape.name, shape.example) for shape in SHAPES] + list(SPOKEN_EXAMPLES)
SHAPE_NEAR_MISSES = [shape.near_miss for shape in SHAPES if shape.near_miss]

# Each example's secret, in the order of EXAMPLES, written down (not taken from the scanner):
# a shape that finds only part of a key, or more than the secret, fails.
SECRETS: list[str] = [
    (  # private_key
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END "
        "OPENSSH PRIVATE KEY-----"
    ),
    "AKIAEXAMPLE7KEY0ID12",  # aws_key
    "UTPsS1av5UExampleSecretKeyPIz7RjXrj+DkVo",  # aws_secret
    "ghp_0123456789abcdefABCDEF0123456789abcd",  # github_token
    "glpat-xYz12AbC34dEf56GhI78j",  # gitlab_token
    "GR1348941aBcDeFgHiJkLmNoPqRsT",  # gitlab_runner_token
    "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp",  # slack_token
    "xapp-1-A01BCDEFGHI-1234567890123-abcdef0123456789abcdef0123",  # slack_app_token
    (  # slack_webhook
        "https://hooks.slack.com/services/T01ABCDEF/B02GHIJKL/aBcDeFgHiJkLmNoPqRsTuVwX"
    ),
    (  # discord_webhook
        "https://discord.com/api/webhooks/123456789012345678/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
    ),
    (  # teams_webhook
        "https://kestrel.webhook.office.com/webhookb2/0a1b2c3d-4e5f-6a7b-8c9d-0"
        "e1f2a3b4c5d@1a2b3c4d-5e6f/IncomingWebhook/abcdef0123456789/0a1b2c3d"
    ),
    "sk_live_4eC39HqLyjWDarjtT1zdp7dc",  # stripe_key
    "whsec_AbCdEfGhIjKlMnOpQrStUvWx0123",  # stripe_webhook_secret
    "AIzaSyA-EXAMPLE0123456789abcdefghijklmn",  # google_api_key
    "ya29.a0AfH6SMBexampleexampleEXAMPLE123",  # google_oauth_token
    "GOCSPX-AbCdEfGhIjKlMnOpQrStUvWx",  # google_client_secret
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",  # gcp_service_account_key
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0bXMifQ.q3L0v7PEmJ1ijEZSfsqw",  # jwt
    "sk-proj-AbCdEfGhIjKlMnOpQrStT3BlbkFJAbCdEfGhIjKlMnOpQrSt",  # openai_key
    "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWx",  # api_key
    "npm_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",  # npm_token
    "pypi-AgEIcHlwaS5vcmcCJGFiY2RlZmdoLWlqa2wtbW5vcC1xcnN0LXV2d3h5ejAxMjM0",  # pypi_token
    "SG.AbCdEfGhIjKlMnOpQrStUv.WxYz0123456789AbCdEfGhIjKlMnOpQrStUvWxYz0",  # sendgrid_key
    "SK0123456789abcdef0123456789abcdef",  # twilio_key
    "key-0123456789abcdef0123456789abcdef",  # mailgun_key
    "0123456789abcdef0123456789abcdef-us21",  # mailchimp_key
    "shpat_0123456789abcdef0123456789abcdef",  # shopify_token
    "dop_v1_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",  # digitalocean_token
    "hvs.CAESIAbCdEfGhIjKlMnOpQrStUvWxYz0123",  # vault_token
    "dp.pt.AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfG",  # doppler_token
    (  # atlassian_token
        "ATATT3xFfGF0AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
    ),
    "dapi0123456789abcdef0123456789abcdef",  # databricks_token
    "glsa_AbCdEfGhIjKlMnOpQrStUvWxYz012345_0a1b2c3d",  # grafana_token
    "PMAK-0123456789abcdef01234567-0123456789abcdef0123456789abcdef01",  # postman_key
    "dckr_pat_AbCdEfGhIjKlMnOpQrStUvWxYz0",  # docker_token
    "hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh",  # huggingface_token
    "123456789:AAEhBOweik6ad9r_QXMENQjcrGbqCr4K-9A",  # telegram_bot_token
    "sq0atp-AbCdEfGhIjKlMnOpQrStUv",  # square_token
    "access_token$production$abcd1234efgh5678$0123456789abcdef0123456789abcdef",  # braintree_token
    "lin_api_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCd",  # linear_key
    "sntryu_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",  # sentry_token
    "A3-ABCDEF-GHIJKLMNOPQ-RSTUV-WXYZ0-12345",  # onepassword_key
    "AGE-SECRET-KEY-1QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7LQPZRY9X8GF2TVDW0S3JN54KHCE",  # age_key
    "abc8Q~AbCdEfGhIjKlMnOpQrStUvWxYz0123456",  # azure_client_secret
    "123456-234567-345678-456789-567890-678901-789012-890123",  # bitlocker_recovery_key
    (  # putty_key
        "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: ann\nPubli"
        "c-Lines: 2\nAAAAC3NzaC1lZDI1NTE5\nAAAAIOexample\nPrivate-Lines: 1\nAAAAIBe"
        "xampleprivatekeydata0123\n"
    ),
    (  # azure_account_key
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
    ),
    "AbCdEfGhIjKlMnOp%2BQrStUvWxYz0123456789%3D",  # azure_sas_signature
    "s3cret",  # url_password
    "abcdefghijklmnopqrstuvwx",  # bearer_token
    "a2VzdHJlbDpTM2NyZXQh",  # basic_auth
    "Kx!9vQ2#mRt7Lp",  # connection_string_password
    "Sommer2025!",  # html_password_value
    "Sommer2025!",  # powershell_plaintext
    "Backup#2025",  # net_user_password
    "S3cr3tDump!",  # mysql_password
    "Zugang#2025",  # sshpass_password
    "Xk9#pLm2",  # curl_user_password
    "3F2A9C1B7D4E8F6A0B1C2D3E4F5A6B7C",  # session_cookie
    "Kx!9vQ2#m",  # xml_secret
    "Hamburg2025",  # assigned_password
    "7c4a8d09ca3762af61e59520943dc26494f8941b",  # named_key
    "9f8e7d6c5b4a3928",  # secret
    "Liverpool2025!",  # password
    "Tr0mbone#77",  # password
    "Sommer2025!",  # password
    "Hamburg#2025",  # password
    "Azerty123!",  # password
    "Madrid2025$",  # password
    "Sevilla#99",  # password
    "Winter2024!",  # password
    "Sup3rS3cret",  # password
    "Winter2026!",  # password
    "4711",  # password
    "Kestrel-Gast-2025",  # password
    "Sommer2025!",  # password
    "Autumn2025!",  # password
    "Toledo#2025",  # password
    "Lyon-2025",  # password
    "Tms-Sync-2025",  # password
    "KestrelGuest2025",  # password
    "Tr0mbone#77",  # password
    "Sommer2025!",  # password
    "Kx9vQ2mRt7",  # assigned_password
    "Ub00t#2025",  # assigned_password
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",  # aws_secret
    "kl_live_fbdd2b1437048a2b1d6058beb5ce94c1",  # secret
    "7c4a8d09ca3762af61e59520943dc26494f8941b",  # secret
    "Zq8~uT1vW2xY3zA4bC5dE6f",  # secret
]


def test_every_example_has_its_secret_written_down():
    assert len(SECRETS) == len(EXAMPLES)
    assert all(secret in text for secret, (_, text) in zip(SECRETS, EXAMPLES, strict=True))


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
    ("kind", "text", "secret"),
    [(kind, text, secret) for (kind, text), secret in zip(EXAMPLES, SECRETS, strict=True)],
    ids=[f"{k}-{i}" for i, (k, _) in enumerate(EXAMPLES)],
)
def test_redaction_masks_exactly_the_written_down_secret_and_is_stable(kind, text, secret):
    findings = [f for f in scan_text(text, "body") if f.tag == CREDENTIAL]
    assert [text[f.start : f.end] for f in findings] == [secret]
    redacted = redact(text, findings)
    assert secret not in redacted
    assert redacted == text.replace(secret, f"[CREDENTIAL:{kind}]", 1)
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
