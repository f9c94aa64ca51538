from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import REPO
from triage.config.settings import default_config_text, find_config, load_settings
from triage.errors import ConfigError


def test_the_documented_config_toml_is_the_built_in_default():
    assert (REPO / "config.toml").read_text(encoding="utf-8") == default_config_text()
    from_file = load_settings(REPO / "config.toml", {}).settings
    built_in = load_settings(None, {}, cwd=REPO).settings
    assert from_file == built_in


def test_every_key_of_the_default_config_is_commented():
    lines = default_config_text().splitlines()
    for number, line in enumerate(lines):
        if (
            "=" in line
            and not line.startswith(("#", " ", '"', "]"))
            and not lines[number - 1].startswith("#")
        ):
            key = line.split("=")[0].strip()
            if key not in ("name", "category", "priority", "risk", "stop", "match"):
                pytest.fail(f"key {key!r} on line {number + 1} has no comment above it")


def test_a_config_that_leaves_keys_out_gets_the_defaults(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[dropfolder]\nsettle_seconds = 5\n")
    settings = load_settings(config, {}).settings
    defaults = load_settings(None, {}, cwd=tmp_path).settings
    assert settings.dropfolder.settle_seconds == 5
    assert settings.dropfolder.rescan_seconds == defaults.dropfolder.rescan_seconds
    assert settings.rules == defaults.rules


def test_own_rules_come_before_the_defaults_which_stay(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[[rules]]\nname = "x"\nmatch = ["kaffee"]\ncategory = "hardware"\n')
    loaded = load_settings(config, {})
    defaults = [rule.name for rule in load_settings(None, {}).settings.rules]
    assert [rule.name for rule in loaded.settings.rules] == ["x", *defaults]
    assert (loaded.custom_rules, loaded.default_rules) == (1, len(defaults))


def test_replace_defaults_keeps_only_the_configs_own_rules(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(
        "[rules_options]\nreplace_defaults = true\n"
        '[[rules]]\nname = "x"\nmatch = ["kaffee"]\ncategory = "hardware"\n'
    )
    loaded = load_settings(config, {})
    assert [rule.name for rule in loaded.settings.rules] == ["x"]
    assert (loaded.custom_rules, loaded.default_rules) == (1, 0)


def test_an_own_rule_named_like_a_default_takes_its_place(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[[rules]]\nname = "vpn"\nmatch = ["tunnel"]\ncategory = "vpn"\n')
    names = [rule.name for rule in load_settings(config, {}).settings.rules]
    assert names[0] == "vpn" and names.count("vpn") == 1
    assert load_settings(config, {}).settings.rules[0].match == ["tunnel"]


def test_a_rule_with_envelope_conditions_and_actions_loads(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(
        '[[rules]]\nname = "spam"\non = ["subject", "header:X-Spam-Flag"]\nmatch = ["yes"]\n'
        'when = { source = ["/^imap:/"], attachments = ["pdf"] }\n'
        'team = "sec-ops"\nworkflow = "spam-review"\ntags = ["spam"]\nrisk = "medium"\n'
    )
    rule = load_settings(config, {}).settings.rules[0].to_rule()
    assert rule.when == (("source", ("/^imap:/",)), ("attachments", ("pdf",)))
    assert (rule.team, rule.workflow, rule.tags) == ("sec-ops", "spam-review", ("spam",))


def test_check_says_how_many_own_and_default_rules_are_active(tmp_path):
    from triage.cli.check import run_checks

    config = tmp_path / "config.toml"
    config.write_text('[[rules]]\nname = "x"\nmatch = ["kaffee"]\ncategory = "hardware"\n')
    loaded = load_settings(config, {})
    [first] = [check for check in run_checks(loaded) if check.name == "config"]
    assert f"1 own rules + {loaded.default_rules} default rules active" in first.detail


@pytest.mark.parametrize(
    ("text", "environ", "message"),
    [
        ("[digest]\nat = '7am'\n", {}, "[digest] at: expected a time as HH:MM, 24-hour"),
        ("[report]\nat = '6'\n", {}, "[report] at: expected a time as HH:MM"),
        (
            "[stor]\npath = 'x'\n",
            {},
            "[stor]: unknown key: there is no section [stor]; did you mean [store]?",
        ),
        ("[store]\npaht = 'x'\n", {}, "[store] paht: unknown key; did you mean path?"),
        (
            "",
            {"TRIAGE_DROPFOLDER__SETTLE_SECONDS": "soon"},
            "set by the environment variable TRIAGE_DROPFOLDER__SETTLE_SECONDS",
        ),
        (
            "",
            {"triage_digest__at": "8"},
            "(got '8'); set by the environment variable triage_digest__at",
        ),
        (
            "",
            {"TRIAGE_KNOWLEDGE__DIRS": "/srv/kb"},
            "the environment variable TRIAGE_KNOWLEDGE__DIRS could not be read: a list or a"
            """ table is written in JSON there, e.g. TRIAGE_KNOWLEDGE__DIRS='["/srv/kb"]'""",
        ),
        (
            "[imap]\nenabled = true\nusername = 'helpdesk'\n",
            {},
            "[imap]: Value error, enabled = true but no password",
        ),
        (
            "[imap]\nenabled = true\npassword = 'x'\n"
            "[imap.accounts.support]\nusername = 's'\npassword = ''\n",
            {},
            "no password (account 'support')",
        ),
        ('[[rules]]\nname = "x"\non = ["subjekt"]\nmatch = ["a"]\n', {}, "unknown field 'subjekt'"),
        ('[[rules]]\nname = "x"\ncategory = "vpn"\n', {}, "a rule needs `match` or `when`"),
        ('[[rules]]\nname = "x"\nmatch = ["a"]\nteam = "net ops"\n', {}, "[[rules]] #1 team"),
        ("[rules_options]\nreplace_default = true\n", {}, "did you mean replace_defaults?"),
    ],
)
def test_config_messages_say_what_is_expected(tmp_path, text, environ, message):
    config = tmp_path / "config.toml"
    config.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_settings(config, environ)
    assert message in str(error.value)
    assert "^(" not in str(error.value)  # no regular expression for a person to decode


def test_imap_with_a_password_from_the_environment_loads(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[imap]\nenabled = true\nusername = 'helpdesk'\n")
    settings = load_settings(config, {"TRIAGE_IMAP__PASSWORD": "pw"}).settings
    assert settings.imap.enabled


def test_relative_paths_are_relative_to_the_config_files_folder(tmp_path):
    (tmp_path / "etc").mkdir()
    config = tmp_path / "etc" / "config.toml"
    config.write_text("[store]\npath = 'db/t.sqlite3'\n")
    settings = load_settings(config, {}, cwd=Path("/")).settings
    assert settings.store.path == tmp_path / "etc" / "db" / "t.sqlite3"
    assert settings.outbox.dir == tmp_path / "etc" / "var" / "outbox"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[store]\npaht = 'x'\n", "[store] paht: unknown key"),
        ("[storage]\npath = 'x'\n", "[storage]: unknown key"),
        ("[dropfolder]\nsettle_seconds = 'soon'\n", "[dropfolder] settle_seconds"),
        (
            "[dropfolder]\nrescan_seconds = 0\n",
            "[dropfolder] rescan_seconds: Input should be greater",
        ),
        ("[log]\nlevel = 'loud'\n", "[log] level"),
        ('[[rules]]\nname = "x"\nmatch = ["/(unclosed/"]\n', "[[rules]] #1 match"),
        ('[[rules]]\nname = "x"\nmatch = ["vpn"]\ncategory = "coffee"\n', "[[rules]] #1 category"),
        ("[store\n", "not valid TOML"),
        ("[local]\nenabled = true\n", "[local]: Value error, enabled = true needs model_path"),
        ("[imap]\ntls = 'plain'\n", "[imap] tls"),
        ("[digest]\ntimezone = 'Mars/Base'\n", "[digest] timezone: Value error, unknown time zone"),
        ("[digest]\nat = '25:00'\n", "[digest] at"),
        ("[report]\nday = 31\n", "[report] day"),
    ],
)
def test_a_bad_config_is_refused_with_a_message_naming_the_key(tmp_path, text, message):
    config = tmp_path / "config.toml"
    config.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_settings(config, {})
    assert message in str(error.value)


def test_environment_overrides_the_file_and_credentials_fill_in(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[dropfolder]\nsettle_seconds = 5\n")
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "dropfolder__rescan_seconds").write_text("7")
    env = {"TRIAGE_DROPFOLDER__SETTLE_SECONDS": "9", "CREDENTIALS_DIRECTORY": str(credentials)}
    settings = load_settings(config, env).settings
    assert settings.dropfolder.settle_seconds == 9
    assert settings.dropfolder.rescan_seconds == 7


def test_an_unknown_environment_key_is_refused():
    with pytest.raises(ConfigError, match=r"\[store\] pth: unknown key"):
        load_settings(None, {"TRIAGE_STORE__PTH": "x"})


def test_a_missing_explicit_config_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_settings(tmp_path / "nope.toml", {})


def test_config_is_found_in_the_documented_order(tmp_path):
    explicit = tmp_path / "explicit.toml"
    (tmp_path / "config.toml").write_text("")
    assert find_config(explicit, {"TRIAGE_CONFIG": "/env.toml"}, tmp_path) == explicit
    assert find_config(None, {"TRIAGE_CONFIG": "/env.toml"}, tmp_path) == Path("/env.toml")
    assert find_config(None, {}, tmp_path) == tmp_path / "config.toml"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert find_config(None, {}, empty) in (None, Path("/etc/triage/config.toml"))


def test_a_bad_secret_is_named_but_its_value_never_printed(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[[webhooks]]\nurl = "https://x.example/h"\nsecret = "hunter2-secret"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(config, {})
    message = str(caught.value)
    assert "[[webhooks]] #1 secret" in message and "14 characters" in message
    assert "hunter2" not in message


def test_the_shipped_config_counts_its_rules_as_the_defaults():
    loaded = load_settings(REPO / "config.toml", {})
    assert loaded.custom_rules == 0 and loaded.default_rules == len(loaded.settings.rules) > 0
