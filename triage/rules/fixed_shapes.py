"""Credentials with a fixed shape: key blocks and the tokens of the big providers, whose
prefixes say what they are (AKIA..., ghp_..., xoxb-..., sk_live_...). The shapes follow the
public gitleaks rule set as a guide, written here in our own words."""

from __future__ import annotations

import re

from triage.rules.shapes import Shape
from triage.rules.shapes import compiled as _compile

FIXED_SHAPES: tuple[Shape, ...] = (
    Shape(
        "private_key",
        _compile(
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----.*?"
            r"(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|\Z)",
            re.S,
        ),
        ("private key",),
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n"
        "-----END OPENSSH PRIVATE KEY-----",
        "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkq\n-----END PUBLIC KEY-----",
    ),
    Shape(
        "aws_key",
        _compile(r"\b(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}\b"),
        ("akia", "asia", "abia", "acca", "a3t"),
        "aws_access_key_id=AKIAEXAMPLE7KEY0ID12",
        "ASIA is a continent, AKIA1234 is short",
        leads=True,
    ),
    Shape(
        "aws_secret",
        _compile(
            r"(?i)\baws[\w.-]{0,30}?(?:secret|session)[\w.-]{0,20}[\"']?\s*+(?::=|=>|[:=])\s*+"
            r"[\"']?(?P<value>[A-Za-z0-9/+=]{40,})"
        ),
        ("aws",),
        "AWS_SECRET_ACCESS_KEY=UTPsS1av5UExampleSecretKeyPIz7RjXrj+DkVo",
        "aws_secret_access_key = ${AWS_SECRET}",
        leads=True,
    ),
    Shape(
        "github_token",
        _compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{20,})"),
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
        "token ghp_0123456789abcdefABCDEF0123456789abcd",
        "the ghp_ prefix marks a token",
        leads=True,
    ),
    Shape(
        "gitlab_token",
        _compile(r"\b(?:glpat|gldt|glrt|glptt|glft|glsoat|glcbt|gloas)-[\w-]{20,}"),
        ("glpat-", "gldt-", "glrt-", "glptt-", "glft-", "glsoat-", "glcbt-", "gloas-"),
        "CI_TOKEN glpat-xYz12AbC34dEf56GhI78j",
        "glpat- tokens expire after a year",
        leads=True,
    ),
    Shape(
        "gitlab_runner_token",
        _compile(r"\bGR1348941[\w-]{20,}"),
        ("gr1348941",),
        "runner registration GR1348941aBcDeFgHiJkLmNoPqRsT",
        leads=True,
    ),
    Shape(
        "slack_token",
        _compile(r"\bxox[abeoprs]-(?:\d+-)?[A-Za-z0-9-]{10,}"),
        ("xox",),
        "SLACK_BOT_TOKEN=xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp",
        "the xoxb- prefix",
        leads=True,
    ),
    Shape(
        "slack_app_token",
        _compile(r"\bxapp-\d-[A-Z0-9]+-\d+-[a-z0-9]{20,}"),
        ("xapp-",),
        "xapp-1-A01BCDEFGHI-1234567890123-abcdef0123456789abcdef0123",
        leads=True,
    ),
    Shape(
        "slack_webhook",
        _compile(
            r"https?://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/+-]{20,}"
        ),
        ("hooks.slack.com",),
        "posting to https://hooks.slack.com/services/T01ABCDEF/B02GHIJKL/aBcDeFgHiJkLmNoPqRsTuVwX",
        "see https://hooks.slack.com/ for help",
    ),
    Shape(
        "discord_webhook",
        _compile(r"https?://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d+/[\w-]{20,}"),
        ("discord",),
        "https://discord.com/api/webhooks/123456789012345678/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
    ),
    Shape(
        "teams_webhook",
        _compile(r"https://[\w.-]+\.webhook\.office\.com/webhookb2/[\w@/-]{40,}"),
        ("webhook.office.com",),
        "https://kestrel.webhook.office.com/webhookb2/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d@"
        "1a2b3c4d-5e6f/IncomingWebhook/abcdef0123456789/0a1b2c3d",
    ),
    Shape(
        "stripe_key",
        _compile(r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}"),
        ("sk_live_", "sk_test_", "rk_live_", "rk_test_"),
        "STRIPE_KEY=sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        "we use sk_live_ keys in production",
        leads=True,
    ),
    Shape(
        "stripe_webhook_secret",
        _compile(r"\bwhsec_[A-Za-z0-9]{24,}"),
        ("whsec_",),
        "signing secret whsec_AbCdEfGhIjKlMnOpQrStUvWx0123",
        leads=True,
    ),
    Shape(
        "google_api_key",
        _compile(r"\bAIza[0-9A-Za-z_-]{35}"),
        ("aiza",),
        "maps key AIzaSyA-EXAMPLE0123456789abcdefghijklmn",
        "AIza is how Google keys start",
        leads=True,
    ),
    Shape(
        "google_oauth_token",
        _compile(r"\bya29\.[0-9A-Za-z_-]{20,}"),
        ("ya29.",),
        "access token ya29.a0AfH6SMBexampleexampleEXAMPLE123",
        leads=True,
    ),
    Shape(
        "google_client_secret",
        _compile(r"\bGOCSPX-[A-Za-z0-9_-]{20,}"),
        ("gocspx-",),
        "client secret GOCSPX-AbCdEfGhIjKlMnOpQrStUvWx",
        leads=True,
    ),
    Shape(
        "gcp_service_account_key",
        _compile(r"\"private_key\"\s*+:\s*+\"(?P<value>[^\"]{20,})\""),
        ('"private_key"',),
        '{"type": "service_account", "private_key": "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"}',
    ),
    Shape(
        "jwt",
        _compile(r"\beyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}"),
        ("eyj",),
        "Authorization: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0bXMifQ.q3L0v7PEmJ1ijEZSfsqw",
        "the payload starts with eyJ",
        leads=True,
    ),
    Shape(
        "openai_key",
        _compile(r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}"),
        ("sk-",),
        "OPENAI_API_KEY sk-proj-AbCdEfGhIjKlMnOpQrStT3BlbkFJAbCdEfGhIjKlMnOpQrSt",
        leads=True,
    ),
    Shape(
        "api_key",
        _compile(r"\bsk-(?:ant-)?[A-Za-z0-9_-]{20,}"),
        ("sk-",),
        "key sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWx",
        "a desk-top sk-8 model",
        leads=True,
    ),
    Shape(
        "npm_token",
        _compile(r"\bnpm_[A-Za-z0-9]{36}\b"),
        ("npm_",),
        "//registry.npmjs.org/:_authToken=npm_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
        leads=True,
    ),
    Shape(
        "pypi_token",
        _compile(r"\bpypi-AgE[A-Za-z0-9_-]{50,}"),
        ("pypi-age",),
        "password = pypi-AgEIcHlwaS5vcmcCJGFiY2RlZmdoLWlqa2wtbW5vcC1xcnN0LXV2d3h5ejAxMjM0",
        leads=True,
    ),
    Shape(
        "sendgrid_key",
        _compile(r"\bSG\.[\w-]{16,32}\.[\w-]{16,64}"),
        ("sg.",),
        "SENDGRID SG.AbCdEfGhIjKlMnOpQrStUv.WxYz0123456789AbCdEfGhIjKlMnOpQrStUvWxYz0",
        leads=True,
    ),
    Shape(
        "twilio_key",
        _compile(r"\bSK[0-9a-f]{32}\b"),
        ("sk",),
        "twilio SK0123456789abcdef0123456789abcdef",
        leads=True,
    ),
    Shape(
        "mailgun_key",
        _compile(r"\bkey-[0-9a-f]{32}\b"),
        ("key-",),
        "mailgun key-0123456789abcdef0123456789abcdef",
        leads=True,
    ),
    Shape(
        "mailchimp_key",
        _compile(r"[0-9a-f]{32}-us\d{1,2}\b"),  # no \b in front: a fast search
        ("-us",),
        "mailchimp 0123456789abcdef0123456789abcdef-us21",
    ),
    Shape(
        "shopify_token",
        _compile(r"\bshp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}\b"),
        ("shpat_", "shpss_", "shpca_", "shppa_"),
        "shopify shpat_0123456789abcdef0123456789abcdef",
        leads=True,
    ),
    Shape(
        "digitalocean_token",
        _compile(r"\bdo[opr]_v1_[a-f0-9]{64}\b"),
        ("dop_v1_", "doo_v1_", "dor_v1_"),
        "DO token dop_v1_" + "0123456789abcdef" * 4,
        leads=True,
    ),
    Shape(
        "vault_token",
        _compile(r"\bhv[sb]\.[A-Za-z0-9_-]{24,}"),
        ("hvs.", "hvb."),
        "VAULT_TOKEN=hvs.CAESIAbCdEfGhIjKlMnOpQrStUvWxYz0123",
        leads=True,
    ),
    Shape(
        "doppler_token",
        _compile(r"\bdp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,}"),
        ("dp.",),
        "doppler dp.pt.AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfG",
        leads=True,
    ),
    Shape(
        "atlassian_token",
        _compile(r"\bATATT3[A-Za-z0-9_=-]{60,}"),
        ("atatt3",),
        "jira token ATATT3xFfGF0" + "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789" * 2,
        leads=True,
    ),
    Shape(
        "databricks_token",
        _compile(r"\bdapi[a-f0-9]{32}(?:-\d)?\b"),
        ("dapi",),
        "databricks dapi0123456789abcdef0123456789abcdef",
        leads=True,
    ),
    Shape(
        "grafana_token",
        _compile(r"\b(?:glc_[A-Za-z0-9+/]{32,}={0,2}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})"),
        ("glc_", "glsa_"),
        "grafana glsa_AbCdEfGhIjKlMnOpQrStUvWxYz012345_0a1b2c3d",
        leads=True,
    ),
    Shape(
        "postman_key",
        _compile(r"\bPMAK-[a-f0-9]{24}-[a-f0-9]{34}\b"),
        ("pmak-",),
        "postman PMAK-0123456789abcdef01234567-0123456789abcdef0123456789abcdef01",
        leads=True,
    ),
    Shape(
        "docker_token",
        _compile(r"\bdckr_(?:pat|oat)_[\w-]{20,}"),
        ("dckr_",),
        "docker login -p dckr_pat_AbCdEfGhIjKlMnOpQrStUvWxYz0",
        leads=True,
    ),
    Shape(
        "huggingface_token",
        _compile(r"\bhf_[A-Za-z]{34}\b"),
        ("hf_",),
        "HF_TOKEN hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh",
        leads=True,
    ),
    Shape(
        "telegram_bot_token",
        _compile(r"\d{8,10}:AA[\w-]{33}\b"),
        (":aa",),
        "bot 123456789:AAEhBOweik6ad9r_QXMENQjcrGbqCr4K-9A",
    ),
    Shape(
        "square_token",
        _compile(r"\b(?:sq0atp|sq0csp|EAAA)[\w-]{22,}"),
        ("sq0atp", "sq0csp", "eaaa"),
        "square sq0atp-AbCdEfGhIjKlMnOpQrStUv",
        leads=True,
    ),
    Shape(
        "braintree_token",
        _compile(r"access_token\$production\$[0-9a-z]{16}\$[0-9a-f]{32}"),
        ("$production$",),
        "access_token$production$abcd1234efgh5678$0123456789abcdef0123456789abcdef",
    ),
    Shape(
        "linear_key",
        _compile(r"\blin_api_[A-Za-z0-9]{40}\b"),
        ("lin_api_",),
        "linear lin_api_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCd",
        leads=True,
    ),
    Shape(
        "sentry_token",
        _compile(r"\b(?:sntrys_eyJ[A-Za-z0-9+/=_-]{40,}|sntryu_[a-f0-9]{64})"),
        ("sntrys_", "sntryu_"),
        "sentry sntryu_" + "0123456789abcdef" * 4,
        leads=True,
    ),
    Shape(
        "onepassword_key",
        _compile(r"\bA3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})(?:-[A-Z0-9]{5}){3}\b"),
        ("a3-",),
        "secret key A3-ABCDEF-GHIJKLMNOPQ-RSTUV-WXYZ0-12345",
        leads=True,
    ),
    Shape(
        "age_key",
        _compile(r"\bAGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}\b"),
        ("age-secret-key-",),
        "AGE-SECRET-KEY-1" + ("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L" * 2)[:58],
        leads=True,
    ),
    Shape(
        "azure_client_secret",
        _compile(r"(?<![\w~.-])[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34}(?![\w~.-])"),
        ("q~",),
        "client secret abc8Q~AbCdEfGhIjKlMnOpQrStUvWxYz0123456",
    ),
    Shape(
        "bitlocker_recovery_key",
        _compile(r"\d{6}(?:-\d{6}){7}(?!\d)"),
        tuple(f"{digit}-" for digit in "0123456789"),
        "BitLocker recovery key: 123456-234567-345678-456789-567890-678901-789012-890123",
        "recovery key ID: 1A2B3C4D (ask the helpdesk for the 48 digits)",
    ),
    Shape(
        "putty_key",
        _compile(
            r"PuTTY-User-Key-File-\d:[^\n]{0,200}\n(?:[^\n]{0,400}\n){0,8}?Private-Lines:\s*\d+\s*\n"
            r"(?:[A-Za-z0-9+/=]{8,}\s*(?:\n|$))+"
        ),
        ("putty-user-key-file",),
        "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: ann\n"
        "Public-Lines: 2\nAAAAC3NzaC1lZDI1NTE5\nAAAAIOexample\nPrivate-Lines: 1\n"
        "AAAAIBexampleprivatekeydata0123\nPrivate-MAC: 0123abcd\n",
    ),
)
