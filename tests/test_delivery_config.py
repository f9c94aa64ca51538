"""The [relay], [[webhooks]] and [metrics] settings: off by default, secrets from the
environment or $CREDENTIALS_DIRECTORY, bad values named."""

from __future__ import annotations

import re

import pytest

from triage.compose.delivery import build_delivery
from triage.config.settings import load_settings, secret_values
from triage.errors import ConfigError


def test_delivery_is_off_by_default(tmp_path):
    settings = load_settings(None, {}, cwd=tmp_path).settings
    assert settings.relay.enabled is False
    assert settings.webhooks == []
    assert settings.metrics.listen == "" and settings.metrics.textfile is None


def test_the_relay_password_comes_from_the_environment_or_a_credential_file(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[relay]\nenabled = true\nusername = 'triage'\n")
    from_env = load_settings(config, {"TRIAGE_RELAY__PASSWORD": "env-pw-123"}).settings
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "relay__password").write_text("file-pw-456")
    from_file = load_settings(config, {"CREDENTIALS_DIRECTORY": str(credentials)}).settings
    assert from_env.relay.password is not None and from_file.relay.password is not None
    assert from_env.relay.password.get_secret_value() == "env-pw-123"
    assert from_file.relay.password.get_secret_value() == "file-pw-456"
    assert "file-pw-456" in secret_values(from_file)  # masked in logs like every secret


def test_a_webhook_secret_is_masked_like_every_secret(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(
        "[[webhooks]]\nurl = 'https://hooks.example.com/x'\nsecret = 'hook-secret-0123456'\n"
    )
    settings = load_settings(config, {}).settings
    assert "hook-secret-0123456" in secret_values(settings)


@pytest.mark.parametrize(
    ("toml", "named"),
    [
        ("[relay]\ntls = 'tls'\n", "[relay] tls"),
        ("[[relay.routes]]\nheaders = 'jira'\nto = 'a@example.org'\n", "[relay] routes"),
        ("[[relay.routes]]\ncategory = ['printers']\nto = 'a@example.org'\n", "[relay] routes"),
        ("[[webhooks]]\nurl = 'ftp://x'\nsecret = '0123456789abcdef'\n", "[[webhooks]] #1 url"),
        ("[[webhooks]]\nurl = 'https://x'\nsecret = 'short'\n", "[[webhooks]] #1 secret"),
        ("[metrics]\nlisten = 'localhost'\n", "[metrics] listen"),
    ],
)
def test_a_bad_delivery_setting_is_refused_naming_the_key(tmp_path, toml, named):
    config = tmp_path / "config.toml"
    config.write_text(toml)
    with pytest.raises(ConfigError, match=re.escape(named)):
        load_settings(config, {})


@pytest.mark.parametrize("code", ["German", "DE", "deu"])
def test_a_route_language_that_is_no_iso_639_1_code_is_refused(tmp_path, code):
    """The result's `language` is a lowercase ISO 639-1 code: a route naming "German" or "DE"
    would never match, silently."""
    config = tmp_path / "config.toml"
    config.write_text(f"[[relay.routes]]\nlanguage = ['{code}']\nto = 'a@example.org'\n")
    with pytest.raises(ConfigError) as refused:
        load_settings(config, {})
    assert "[relay] routes.0.language" in str(refused.value)
    assert f"{code!r} is not an ISO 639-1 code, e.g. 'de'" in str(refused.value)


def test_the_daemon_refuses_an_enabled_relay_without_host(make_settings, store):
    """Else every delivery failed with "please run connect() first" until give_up_hours."""
    settings = make_settings("[relay]\nenabled = true\nhost = ''\ndefault_to = 'h@example.org'\n")
    with pytest.raises(ConfigError) as refused:
        build_delivery(settings, store)
    assert str(refused.value) == "[relay] host is empty: set it to the SMTP server of the helpdesk"
