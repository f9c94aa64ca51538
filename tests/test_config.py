from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import REPO
from triage.config import default_config_text, find_config, load_settings
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


def test_own_rules_replace_the_default_list(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[[rules]]\nname = "x"\nmatch = ["kaffee"]\ncategory = "hardware"\n')
    assert [rule.name for rule in load_settings(config, {}).settings.rules] == ["x"]


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
