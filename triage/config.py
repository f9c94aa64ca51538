"""Settings: the built-in defaults, a config file, credential files and the environment.

`load_settings` is the one place that reads configuration. The built-in defaults are
`triage/defaults.toml` (the repo's `config.toml` is that same file), so a config that
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
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
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

from triage.config_paths import WritablePath, resolve_paths, state_dir
from triage.errors import ConfigError
from triage.rules.keywords import TEXT_FIELDS, Rule, is_regex, valid_field
from triage.ticket import Category, Priority, Risk

ENV_PREFIX = "TRIAGE_"
SYSTEM_CONFIG = Path("/etc/triage/config.toml")


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _empty_is_none(value: object) -> object:
    return None if value == "" else value


class PathsConfig(Section):
    state_dir: Path | None

    _none_when_empty = field_validator("state_dir", mode="before")(_empty_is_none)


class StoreConfig(Section):
    path: WritablePath


class OutboxConfig(Section):
    dir: WritablePath


class DropFolderConfig(Section):
    enabled: bool
    inbox: WritablePath
    processed: WritablePath
    failed: WritablePath
    settle_seconds: float = Field(ge=0)
    rescan_seconds: float = Field(gt=0)
    max_file_mb: float = Field(gt=0)
    abandoned_minutes: float = Field(gt=0)


class ParsingConfig(Section):
    max_body_kb: int = Field(gt=0)
    max_text_attachment_kb: int = Field(gt=0)
    max_parts: int = Field(gt=0)
    max_depth: int = Field(gt=0)
    log_slice_lines: int = Field(ge=5)


class DedupConfig(Section):
    window_hours: float = Field(ge=0)
    sender_limit_per_hour: int = Field(ge=0)
    sender_limit_sources: list[str]


TlsMode = Literal["ssl", "starttls", "none"]
_KEYWORD_PATTERN = r"^[^\s()\]{%*\"\\]+$"


class ServerConfig(Section):
    """A mail server and the login to it (IMAP, the relay's SMTP)."""

    host: str
    port: int = Field(gt=0, lt=65536)
    tls: TlsMode
    ca_file: Path | None
    username: str
    password: SecretStr | None


class ImapAccountConfig(ServerConfig):
    """One mailbox. [imap] holds the first; [imap.accounts.<name>] tables override its keys."""

    oauth2_token_command: str | None
    folder: str | list[str]
    processed_folder: str | None
    folder_per_category: bool
    keyword: str = Field(pattern=_KEYWORD_PATTERN)
    idle: bool
    idle_seconds: float = Field(gt=0, le=1740)
    poll_seconds: float = Field(gt=0)
    batch_size: int = Field(gt=0, le=1000)
    max_message_mb: float = Field(gt=0)
    timeout_seconds: float = Field(gt=0)

    _none_when_empty = field_validator(
        "ca_file", "password", "oauth2_token_command", "processed_folder", mode="before"
    )(_empty_is_none)

    @property
    def folders(self) -> list[str]:
        return [self.folder] if isinstance(self.folder, str) else list(self.folder)


if TYPE_CHECKING:
    AccountOverrides = Section
else:  # every key of an account, optional: what a named account leaves out is inherited
    AccountOverrides = create_model(
        "AccountOverrides",
        __base__=Section,
        **{
            name: (info.annotation | None, None)
            for name, info in ImapAccountConfig.model_fields.items()
        },
    )


class ImapConfig(ImapAccountConfig):
    enabled: bool
    accounts: dict[str, AccountOverrides] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _login_when_enabled(self) -> ImapConfig:
        if self.enabled:
            for name, account in self.account_list():
                password = account.password.get_secret_value() if account.password else ""
                if not password and not account.oauth2_token_command:
                    where = "" if not self.accounts else f" (account {name!r})"
                    raise ValueError(
                        f"enabled = true but no password{where}: set password (better as"
                        " TRIAGE_IMAP__PASSWORD or the credential imap__password) or"
                        " oauth2_token_command"
                    )
        return self

    def account_list(self) -> list[tuple[str, ImapAccountConfig]]:
        """(name, settings) of every account; a named account inherits what it leaves out."""
        base = self.model_dump(exclude={"enabled", "accounts"})
        if not self.accounts:
            return [(self.username or "default", ImapAccountConfig(**base))]
        return [
            (name, ImapAccountConfig(**{**base, **overrides.model_dump(exclude_none=True)}))
            for name, overrides in self.accounts.items()
        ]


class LocalConfig(Section):
    enabled: bool
    model_path: Path | None
    n_threads: int = Field(ge=0)
    n_ctx: int = Field(ge=512)
    max_tokens: int = Field(ge=16)
    timeout_seconds: float = Field(gt=0)
    usd_per_mtok: float = Field(ge=0)
    min_confidence: int = Field(ge=0, le=100)
    trust_profile: Path | None
    trust_min_precision: float = Field(ge=0, le=1)
    trust_min_proposals: int = Field(ge=1)
    wolf_share: float = Field(gt=0, le=1)
    wolf_window: int = Field(ge=1)

    _none_when_empty = field_validator("model_path", "trust_profile", mode="before")(_empty_is_none)

    @model_validator(mode="after")
    def _model_named_when_enabled(self) -> LocalConfig:
        if self.enabled and self.model_path is None:
            raise ValueError("enabled = true needs model_path: the GGUF file to load")
        return self


class LearnedConfig(Section):
    enabled: bool
    model_path: Path | None
    min_probability: float = Field(ge=0, le=1)
    categories: dict[str, Category] = Field(default_factory=dict)

    _none_when_empty = field_validator("model_path", mode="before")(_empty_is_none)

    @model_validator(mode="after")
    def _model_named_when_enabled(self) -> LearnedConfig:
        if self.enabled and self.model_path is None:
            raise ValueError("enabled = true needs model_path: the file `triage learn` wrote")
        return self


class RoutingConfig(Section):
    paid_risks: list[Risk]
    escalate_to_paid: bool
    ambiguous_below: int = Field(ge=0, le=100)
    local_tasks: list[str]
    runpod_min_tokens: int = Field(ge=0)
    runpod_levels: list[Literal["public", "internal"]]
    runpod_backlog_seconds: float = Field(gt=0)


class PaidConfig(Section):
    enabled: bool
    model: str = Field(min_length=1)
    api_key: SecretStr | None
    base_url: str | None
    monthly_budget_usd: float = Field(ge=0)
    max_tokens: int = Field(ge=64, le=16000)
    timeout_seconds: float = Field(gt=0)
    max_attempts: int = Field(ge=1, le=10)
    retry_cap_seconds: float = Field(gt=0)
    redact: list[str]

    _none_when_empty = field_validator("api_key", "base_url", mode="before")(_empty_is_none)


class RunpodConfig(Section):
    enabled: bool
    endpoint_id: str
    api_key: SecretStr | None
    base_url: str
    monthly_budget_usd: float = Field(ge=0)
    usd_per_second: float = Field(ge=0)
    batch_size: int = Field(ge=1, le=1000)
    timeout_seconds: float = Field(gt=0)
    poll_seconds: float = Field(gt=0)

    _none_when_empty = field_validator("api_key", mode="before")(_empty_is_none)


class PriceConfig(Section):
    input_per_mtok: float = Field(ge=0)
    output_per_mtok: float = Field(ge=0)
    cache_read_per_mtok: float | None = Field(default=None, ge=0)
    cache_write_per_mtok: float | None = Field(default=None, ge=0)


class CacheConfig(Section):
    enabled: bool
    ttl_days: float = Field(gt=0)


class BreakerConfig(Section):
    failures: int = Field(ge=1)
    cooldown_seconds: float = Field(gt=0)


_CLOCK_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d$"
Clock24 = Field(pattern=_CLOCK_PATTERN)


class DigestConfig(Section):
    enabled: bool
    dir: WritablePath
    at: str = Clock24
    timezone: str
    smtp_host: str
    smtp_port: int = Field(gt=0, lt=65536)
    smtp_starttls: bool
    smtp_ca_file: Path | None
    smtp_username: str
    smtp_password: SecretStr | None
    smtp_from: str
    recipients: list[str]

    _none_when_empty = field_validator("smtp_password", "smtp_ca_file", mode="before")(
        _empty_is_none
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {zone!r} (e.g. 'Europe/Berlin', 'UTC')") from None
        return zone


class ReportConfig(Section):
    enabled: bool
    dir: WritablePath
    day: int = Field(ge=1, le=28)
    at: str = Clock24


class LogConfig(Section):
    level: Literal["debug", "info", "warning", "error"]
    format: Literal["auto", "json", "console"]


_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
_NAME_HINT = "a name of letters, digits, '.', '_' or '-' (e.g. 'network-ops')"


def _check_entries(entries: list[str]) -> list[str]:
    for entry in entries:
        if is_regex(entry):
            try:
                re.compile(entry[1:-1])
            except re.error as exc:
                raise ValueError(f"regular expression {entry} does not compile: {exc}") from exc
        elif not entry.strip(" *"):
            raise ValueError("an empty keyword matches everything; remove it")
    return entries


def _check_field(name: str) -> str:
    if not valid_field(name):
        raise ValueError(
            f"unknown field {name!r}: one of {', '.join(TEXT_FIELDS)}, or 'header:<Name>'"
            " (e.g. 'header:X-Priority')"
        )
    return name


class RuleConfig(Section):
    """One [[rules]] table: conditions (`match` on the fields in `on`, and every `when`) and
    what a match sets."""

    name: str = Field(min_length=1)
    match: list[str] = Field(default_factory=list)
    on: list[str] = Field(default=["subject", "body"], min_length=1)
    when: dict[str, list[str]] = Field(default_factory=dict)
    category: Category | None = None
    priority: Priority | None = None
    risk: Risk | None = None
    workflow: str | None = None
    team: str | None = None
    tags: list[str] = Field(default_factory=list)
    stop: bool = False

    @field_validator("match")
    @classmethod
    def _regexes_compile(cls, entries: list[str]) -> list[str]:
        return _check_entries(entries)

    @field_validator("on")
    @classmethod
    def _known_fields(cls, names: list[str]) -> list[str]:
        return [_check_field(name) for name in names]

    @field_validator("when")
    @classmethod
    def _known_conditions(cls, conditions: dict[str, list[str]]) -> dict[str, list[str]]:
        for name, entries in conditions.items():
            _check_field(name)
            if not entries:
                raise ValueError(f"when.{name} is empty: give at least one keyword or /regex/")
            _check_entries(entries)
        return conditions

    @field_validator("workflow", "team")
    @classmethod
    def _a_name(cls, value: str | None) -> str | None:
        if value is not None and not re.match(_NAME, value):
            raise ValueError(f"expected {_NAME_HINT}")
        return value

    @field_validator("tags")
    @classmethod
    def _names(cls, tags: list[str]) -> list[str]:
        for tag in tags:
            if not re.match(_NAME, tag):
                raise ValueError(f"tag {tag!r}: expected {_NAME_HINT}")
        return tags

    @model_validator(mode="after")
    def _has_a_condition(self) -> RuleConfig:
        if not self.match and not self.when:
            raise ValueError("a rule needs `match` or `when` (otherwise it matches everything)")
        return self

    def to_rule(self) -> Rule:
        return Rule(
            name=self.name,
            match=tuple(self.match),
            on=tuple(self.on),
            category=self.category,
            priority=self.priority,
            risk=self.risk,
            stop=self.stop,
            when=tuple((name, tuple(entries)) for name, entries in self.when.items()),
            workflow=self.workflow,
            team=self.team,
            tags=tuple(self.tags),
        )


class RulesOptions(Section):
    replace_defaults: bool


HeaderStyle = Literal["zammad", "otrs", "plain"]


def _one_or_many(value: object) -> object:
    """An address may be written alone or as a list; "" means none."""
    if value == "":
        return []
    return [value] if isinstance(value, str) else value


class RelayRouteConfig(Section):
    """One [[relay.routes]] entry: an empty list matches anything; every list given must match."""

    name: str = ""
    category: list[Category] = Field(default_factory=list)
    risk: list[Risk] = Field(default_factory=list)
    priority: list[Priority] = Field(default_factory=list)
    workflow: list[str] = Field(default_factory=list)
    team: list[str] = Field(default_factory=list)
    source: list[str] = Field(default_factory=list)
    storm: bool | None = None
    to: list[str] = Field(min_length=1)
    headers: HeaderStyle = "plain"
    group: str = ""
    attach: bool = False
    internal: bool = False

    _listed = field_validator("to", mode="before")(_one_or_many)


class RelayConfig(ServerConfig):
    enabled: bool
    sender: str = Field(alias="from", min_length=3)
    default_to: list[str]
    default_headers: HeaderStyle
    default_internal: bool
    statuses: list[Literal["triaged", "duplicate", "ignored", "quarantined"]]
    timeout_seconds: float = Field(gt=0)
    retry_cap_seconds: float = Field(gt=0)
    give_up_hours: float = Field(gt=0)
    routes: list[RelayRouteConfig] = Field(default_factory=list)

    _none_when_empty = field_validator("ca_file", "password", mode="before")(_empty_is_none)
    _listed = field_validator("default_to", mode="before")(_one_or_many)


class WebhookConfig(Section):
    url: str = Field(pattern=r"^https?://\S+$")
    secret: SecretStr = Field(min_length=16)
    status: list[Literal["triaged", "duplicate", "ignored", "quarantined"]] = Field(
        default_factory=list
    )
    category: list[Category] = Field(default_factory=list)
    risk: list[Risk] = Field(default_factory=list)
    timeout_seconds: float = Field(default=10.0, gt=0)
    retry_cap_seconds: float = Field(default=300.0, gt=0)
    give_up_hours: float = Field(default=24.0, gt=0)


class MetricsConfig(Section):
    listen: str = Field(pattern=r"^$|^\[?[\w.:-]*\]?:\d{1,5}$")
    textfile: Path | None
    textfile_seconds: float = Field(gt=0)

    _none_when_empty = field_validator("textfile", mode="before")(_empty_is_none)


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
    dedup: DedupConfig
    imap: ImapConfig
    local: LocalConfig
    learned: LearnedConfig
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
    for _, account in settings.imap.account_list() if settings.imap.enabled else []:
        if account.password is not None:
            found.append(account.password.get_secret_value())
    for key in (
        settings.paid.api_key,
        settings.runpod.api_key,
        settings.digest.smtp_password,
        settings.relay.password,
        *(hook.secret for hook in settings.webhooks),
    ):
        if key is not None:
            found.append(key.get_secret_value())
    return found


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
    return resources.files("triage").joinpath("defaults.toml").read_text(encoding="utf-8")


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
    for section, variable in (("paid", "ANTHROPIC_API_KEY"), ("runpod", "RUNPOD_API_KEY")):
        # The SDKs' usual variables count, below our own TRIAGE_* and credential files.
        if environ.get(variable) and not values.get(section, {}).get("api_key"):
            values = _merge(values, {section: {"api_key": environ[variable]}})
    try:
        from_env = _MappingEnvSource(Settings, environ)()
    except SettingsError as exc:
        raise ConfigError(f"an environment override could not be read: {exc}") from None
    values = _merge(values, from_env)
    values["rules"], custom = _combined_rules(values, own_rules, default_rules)
    try:
        settings = Settings(**values)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path, _env_names(from_env, environ))) from None
    base = path.absolute().parent if path is not None else cwd.absolute()
    state = state_dir(settings.paths.state_dir, environ, base)
    return LoadedSettings(
        resolve_paths(settings, base, state), source=path, state_dir=state, custom_rules=custom
    )


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
    return [*own, *kept], len(own)


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
        if loc and loc[0] == "rules" and len(loc) > 1:
            key = f"[[rules]] #{int(loc[1]) + 1} {'.'.join(loc[2:])}".rstrip()
        elif len(loc) > 1:
            key = f"[{loc[0]}] {'.'.join(loc[1:])}"
        else:
            key = f"[{loc[0]}]" if loc else "(top level)"
        message = error["msg"]
        pattern = (error.get("ctx") or {}).get("pattern")
        if error["type"] == "extra_forbidden":
            message = _unknown(loc)
        elif pattern in _PATTERN_HINTS:
            message = f"{_PATTERN_HINTS[pattern]} (got {error['input']!r})"
        elif "input" in error and not isinstance(error["input"], dict | list):
            message = f"{message} (got {error['input']!r})"
        variable = (env or {}).get(tuple(loc[:2])) or (env or {}).get(tuple(loc[:1]))
        if variable:
            message = f"{message}; set by the environment variable {variable}"
        lines.append(f"  {key}: {message}")
    return "\n".join(lines)


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
