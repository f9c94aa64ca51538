"""Settings: the built-in defaults, a config file, credential files and the environment.

`load_settings` is the one place that reads configuration. The built-in defaults are
`triage/config/defaults.toml` (the repo's `config.toml` is that same file), so a config that
leaves a key out gets exactly the documented value.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from pydantic import (
    BaseModel,
    Field,
    ValidationError,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)
from pydantic_settings.sources import (
    EnvSettingsSource,
    NestedSecretsSettingsSource,
    SecretsSettingsSource,
)
from pydantic_settings.sources.utils import parse_env_vars

from triage.config.delivery import (
    AckConfig,
    MetricsConfig,
    RelayConfig,
    WebhookConfig,
)
from triage.config.paths import resolve_paths, state_dir
from triage.config.rules import (
    _NAME,
    _NAME_HINT,
    RuleConfig,
    RulesOptions,
)
from triage.config.sections import (
    _CLOCK_PATTERN,
    _KEYWORD_PATTERN,
    ENV_PREFIX,
    SYSTEM_CONFIG,
    BreakerConfig,
    CacheConfig,
    DedupConfig,
    DigestConfig,
    DropFolderConfig,
    ImapConfig,
    KnowledgeConfig,
    LearnedConfig,
    LocalConfig,
    LogConfig,
    OutboxConfig,
    PaidConfig,
    ParsingConfig,
    PathsConfig,
    PriceConfig,
    ReportConfig,
    RoutingConfig,
    RunpodConfig,
    SendersConfig,
    StoreConfig,
)
from triage.errors import ConfigError


class Settings(BaseSettings):
    """Everything the daemon can be told. Sections mirror the TOML tables."""

    model_config = SettingsConfigDict(
        extra="forbid", frozen=True, env_prefix=ENV_PREFIX, env_nested_delimiter="__"
    )

    paths: PathsConfig
    store: StoreConfig
    outbox: OutboxConfig
    dropfolder: DropFolderConfig
    parsing: ParsingConfig
    senders: SendersConfig
    dedup: DedupConfig
    imap: ImapConfig
    local: LocalConfig
    learned: LearnedConfig
    knowledge: KnowledgeConfig
    routing: RoutingConfig
    paid: PaidConfig
    runpod: RunpodConfig
    pricing: dict[str, PriceConfig]
    cache: CacheConfig
    breaker: BreakerConfig
    digest: DigestConfig
    report: ReportConfig
    log: LogConfig
    relay: RelayConfig
    ack: AckConfig
    metrics: MetricsConfig
    rules_options: RulesOptions
    rules: list[RuleConfig]
    # Off by default: no webhooks unless the config file has [[webhooks]] tables.
    webhooks: list[WebhookConfig] = Field(default_factory=list)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # load_settings merges every layer itself, from the mappings it is handed.
        return (init_settings,)


def secret_values(settings: Settings) -> list[str]:
    """Every configured secret, for the log masker."""
    found: list[str] = []
    if settings.store.url is not None:
        found.extend(store_url_secrets(settings.store.url.get_secret_value()))
    for _, account in settings.imap.account_list() if settings.imap.enabled else []:
        if account.password is not None:
            found.append(account.password.get_secret_value())
    for key in (
        settings.paid.api_key,
        *(entry.api_key for entry in settings.paid.fallback),
        settings.local.api_key,
        settings.runpod.api_key,
        settings.digest.smtp_password,
        settings.relay.password,
        *(hook.secret for hook in settings.webhooks),
    ):
        if key is not None:
            found.append(key.get_secret_value())
    return found


def store_url_secrets(url: str) -> list[str]:
    """The store URL and the password in it, for the log masker."""
    password = urlsplit(url).password
    return [url, *([password, quote(password)] if password else [])]


@dataclass(frozen=True)
class LoadedSettings:
    settings: Settings
    source: Path | None  # the config file read, None when only the defaults apply
    custom_rules: int = 0  # how many of settings.rules the config file gave; the rest are defaults

    @property
    def default_rules(self) -> int:
        return len(self.settings.rules) - self.custom_rules

    state_dir: Path | None = None  # what relative writable paths are under


class _MappingEnvSource(EnvSettingsSource):
    """pydantic-settings' environment source over a mapping we are handed, not os.environ."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(
            self._environ, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str
        )


def default_config_text() -> str:
    return resources.files("triage.config").joinpath("defaults.toml").read_text(encoding="utf-8")


def find_config(explicit: Path | None, environ: Mapping[str, str], cwd: Path) -> Path | None:
    """--config, else $TRIAGE_CONFIG, else ./config.toml, else /etc/triage/config.toml."""
    if explicit is not None:
        return explicit
    if environ.get("TRIAGE_CONFIG"):
        return Path(environ["TRIAGE_CONFIG"])
    for candidate in (cwd / "config.toml", SYSTEM_CONFIG):
        if candidate.is_file():
            return candidate
    return None


def load_settings(
    path: Path | None, environ: Mapping[str, str], cwd: Path | None = None
) -> LoadedSettings:
    """Defaults < config file < credential files < environment, validated as one."""
    cwd = cwd or Path.cwd()
    values = _parse_toml(default_config_text(), "built-in defaults")
    default_rules = values.pop("rules", [])
    own_rules: list[Any] | None = None
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from exc
        own = _parse_toml(text, str(path))
        own_rules = own.pop("rules", None)
        values = _merge(values, own)
    secrets_dir = environ.get("CREDENTIALS_DIRECTORY")
    if secrets_dir:
        values = _merge(values, _secret_files(Path(secrets_dir)))
    provider = values.get("paid", {}).get("provider")
    paid_variable = "OPENAI_API_KEY" if provider == "openai" else "ANTHROPIC_API_KEY"
    for section, variable in (("paid", paid_variable), ("runpod", "RUNPOD_API_KEY")):
        # The SDKs' usual variables count, below our own TRIAGE_* and credential files.
        if environ.get(variable) and not values.get(section, {}).get("api_key"):
            values = _merge(values, {section: {"api_key": environ[variable]}})
    try:
        from_env = _MappingEnvSource(Settings, environ)()
    except SettingsError as exc:
        raise ConfigError(_unreadable_override(exc, environ)) from None
    values = _merge(values, from_env)
    values["rules"], custom = _combined_rules(values, own_rules, default_rules)
    _fallback_keys(values, environ, secrets_dir)
    try:
        settings = Settings(**values)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path, _env_names(from_env, environ))) from None
    base = path.absolute().parent if path is not None else cwd.absolute()
    state = state_dir(settings.paths.state_dir, environ, base)
    return LoadedSettings(
        resolve_paths(settings, base, state), source=path, state_dir=state, custom_rules=custom
    )


def _fallback_keys(
    values: dict[str, Any], environ: Mapping[str, str], secrets_dir: str | None
) -> None:
    """Each [[paid.fallback]] entry without an api_key gets the one its api_key_env names:
    that environment variable, else the credential file of that name."""
    entries = values.get("paid", {}).get("fallback")
    if not isinstance(entries, list):
        return
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("api_key") or not entry.get("api_key_env"):
            continue
        name = str(entry["api_key_env"])
        key = environ.get(name)
        if not key and secrets_dir and (Path(secrets_dir) / name).is_file():
            key = (Path(secrets_dir) / name).read_text(encoding="utf-8").strip()
        if key:
            entry["api_key"] = key


def _combined_rules(values: dict[str, Any], own: Any, defaults: list[Any]) -> tuple[Any, int]:
    """The config's own [[rules]] first, then the defaults unless `[rules_options]
    replace_defaults` is set; an own rule named like a default takes that default's place."""
    if "rules" in values:  # set from the environment (TRIAGE_RULES, JSON): taken as given
        own = values["rules"]
    if own is None:
        own = []
    if not isinstance(own, list):
        return own, 0  # validation names the problem
    replace = values.get("rules_options", {}).get("replace_defaults") is True
    names = {rule.get("name") for rule in own if isinstance(rule, dict)}
    kept = [] if replace else [rule for rule in defaults if rule.get("name") not in names]
    # A rule written exactly as the default (the shipped config.toml repeats them) is a
    # default rule, not an admin's own, for `check`'s count.
    custom = sum(1 for rule in own if rule not in defaults)
    return [*own, *kept], custom


def _env_names(
    from_env: Mapping[str, Any], environ: Mapping[str, str]
) -> dict[tuple[str, ...], str]:
    """(section, key) -> the TRIAGE_* variable that set it, as the user spelt it."""
    spelt = {name.upper(): name for name in environ}
    found: dict[tuple[str, ...], str] = {}
    for section, value in from_env.items():
        keys = value.keys() if isinstance(value, Mapping) else [None]
        for key in keys:
            name = f"{ENV_PREFIX}{section}".upper() + (f"__{key}".upper() if key else "")
            if name in spelt:
                found[(section, key) if key else (section,)] = spelt[name]
    return found


def _parse_toml(text: str, origin: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{origin} is not valid TOML: {exc}") from None


def _unreadable_override(exc: SettingsError, environ: Mapping[str, str]) -> str:
    """The variables of the section pydantic-settings could not parse, named (never their
    values): a list or a table in the environment must be JSON, which a plain value is not."""
    field = re.search(r'field "([^"]+)"', str(exc))
    prefix = f"triage_{field.group(1)}__" if field else None
    named = sorted(k for k in environ if prefix and k.lower().startswith(prefix))
    if not named:
        return f"an environment override could not be read: {exc}"
    which = (
        f"the environment variable {named[0]}"
        if len(named) == 1
        else f"one of the environment variables {', '.join(named)}"
    )
    return (
        f"{which} could not be read: a list or a table is written in JSON there,"
        """ e.g. TRIAGE_KNOWLEDGE__DIRS='["/srv/kb"]'"""
    )


def _secret_files(directory: Path) -> dict[str, Any]:
    if not directory.is_dir():
        raise ConfigError(f"CREDENTIALS_DIRECTORY={directory} is not a folder")
    source = NestedSecretsSettingsSource(
        SecretsSettingsSource(Settings, secrets_dir=directory),
        secrets_dir_missing="ok",
        secrets_prefix="",
        secrets_nested_delimiter="__",
    )
    return source()


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; everything else (arrays such as [[rules]]) is replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


# What a pattern means, for messages that would otherwise quote the regular expression.
_PATTERN_HINTS = {
    _CLOCK_PATTERN: "expected a time as HH:MM, 24-hour (e.g. '07:30')",
    _KEYWORD_PATTERN: "expected an IMAP keyword: no spaces, quotes, brackets, '%', '*' or '\\'",
    _NAME: f"expected {_NAME_HINT}",
}


def _describe(
    exc: ValidationError, path: Path | None, env: Mapping[tuple[str, ...], str] | None = None
) -> str:
    where = f" in {path}" if path else ""
    lines = [f"bad configuration{where}:"]
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        if loc and loc[0] in ("rules", "webhooks") and len(loc) > 1 and loc[1].isdigit():
            key = f"[[{loc[0]}]] #{int(loc[1]) + 1} {'.'.join(loc[2:])}".rstrip()
        elif loc[:2] == ["paid", "fallback"] and len(loc) > 2 and loc[2].isdigit():
            key = f"[[paid.fallback]] #{int(loc[2]) + 1} {'.'.join(loc[3:])}".rstrip()
        elif len(loc) > 1:
            key = f"[{loc[0]}] {'.'.join(loc[1:])}"
        else:
            key = f"[{loc[0]}]" if loc else "(top level)"
        message = error["msg"]
        pattern = (error.get("ctx") or {}).get("pattern")
        given = error.get("input")
        if loc and _SECRET_KEY.search(loc[-1]) and isinstance(given, str):
            # A secret's value is never echoed, not even a wrong one: only its length.
            message = message.replace(" items", " characters")
            given = _Shown(f"{len(given)} characters")
        if error["type"] == "extra_forbidden":
            message = _unknown(loc)
        elif pattern in _PATTERN_HINTS:
            message = f"{_PATTERN_HINTS[pattern]} (got {given!r})"
        elif "input" in error and not isinstance(given, dict | list):
            message = f"{message} (got {given!r})"
        variable = (env or {}).get(tuple(loc[:2])) or (env or {}).get(tuple(loc[:1]))
        if variable:
            message = f"{message}; set by the environment variable {variable}"
        lines.append(f"  {key}: {message}")
    return "\n".join(lines)


_SECRET_KEY = re.compile(r"secret|password|api_key|token", re.I)


class _Shown(str):
    """Text printed as it is (no quotes) where a value would be repr()'d."""

    def __repr__(self) -> str:
        return str(self)


def _unknown(loc: list[str]) -> str:
    """An unknown section or key, with the closest known name when there is one."""
    if len(loc) == 1:
        known = list(Settings.model_fields)
        close = difflib.get_close_matches(loc[0], known, n=1, cutoff=0.6)
        hint = f"did you mean [{close[0]}]?" if close else f"the sections are {', '.join(known)}"
        return f"unknown key: there is no section [{loc[0]}]; {hint}"
    section = Settings.model_fields.get(loc[0])
    model = section.annotation if section is not None else None
    if len(loc) == 2 and isinstance(model, type) and issubclass(model, BaseModel):
        close = difflib.get_close_matches(loc[1], list(model.model_fields), n=1, cutoff=0.6)
        if close:
            return f"unknown key; did you mean {close[0]}?"
    return "unknown key (misspelt, or not supported by this version)"
