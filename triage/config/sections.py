"""The configuration's sections (one pydantic model per TOML table), its constants and the
patterns its values must match; triage.config.settings assembles them into Settings and
loads them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    create_model,
    field_validator,
    model_validator,
)

from triage.config.paths import WritablePath
from triage.ticket import Category, Risk

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
    """`path`: the SQLite file (the embedded default); `url`: a PostgreSQL database several
    daemons share (`path` is then unused). The url may carry a password: it is a secret."""

    path: WritablePath
    url: SecretStr | None
    node: str | None = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
    lease_seconds: float = Field(ge=2, le=600)
    pool_size: int = Field(ge=1, le=64)

    _none_when_empty = field_validator("url", "node", mode="before")(_empty_is_none)

    @field_validator("url")
    @classmethod
    def _postgres_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        scheme = value.get_secret_value().split("://", 1)[0].lower()
        if scheme not in {"postgresql", "postgres"}:
            # The value is never quoted back: it may hold a password.
            raise ValueError(
                "must be a PostgreSQL URL, postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE "
                "(or empty for the SQLite store at [store] path)"
            )
        return value

    @property
    def shared(self) -> bool:
        """A store several daemons share (PostgreSQL), not the one-daemon SQLite file."""
        return self.url is not None


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


class SendersConfig(Section):
    """Who is a colleague, and what phishing and spam from outside become."""

    own_domains: list[str]
    unsolicited: Literal["ignore", "security", "triage"]

    @field_validator("own_domains")
    @classmethod
    def _domains(cls, domains: list[str]) -> list[str]:
        cleaned = [domain.strip().lower().lstrip("@") for domain in domains]
        for domain in cleaned:
            if "." not in domain or " " in domain or "@" in domain:
                raise ValueError(
                    f"{domain!r} is not a mail domain: write domains like 'example.com'"
                )
        return cleaned


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
    # An OpenAI-compatible model server instead of a GGUF loaded in-process.
    base_url: str | None
    model: str
    api_key: SecretStr | None
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

    _none_when_empty = field_validator(
        "model_path", "trust_profile", "base_url", "api_key", mode="before"
    )(_empty_is_none)

    @model_validator(mode="after")
    def _model_named_when_enabled(self) -> LocalConfig:
        if self.model_path is not None and self.base_url is not None:
            raise ValueError(
                "model_path and base_url are both set: one local model, either a GGUF file "
                "loaded in-process (model_path) or a model server (base_url + model)"
            )
        if self.base_url is not None and not self.model:
            raise ValueError("base_url needs model: the name the server serves the model under")
        if self.enabled and self.model_path is None and self.base_url is None:
            raise ValueError(
                "enabled = true needs model_path (the GGUF file to load) or base_url and "
                "model (an OpenAI-compatible model server)"
            )
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


class KnowledgeConfig(Section):
    """Knowledge suggestions: folders of articles and an optional solved-ticket export,
    indexed in the store's own full-text engine. Off while both are empty."""

    dirs: list[Path] = Field(default_factory=list)
    history: Path | None = None
    max_suggestions: int = Field(ge=1, le=20)
    min_score: float = Field(ge=0, le=1)
    rescan_seconds: float = Field(ge=1, le=86400)

    _none_when_empty = field_validator("history", mode="before")(_empty_is_none)

    @property
    def enabled(self) -> bool:
        return bool(self.dirs) or self.history is not None


class RoutingConfig(Section):
    paid_risks: list[Risk]
    escalate_to_paid: bool
    ambiguous_below: int = Field(ge=0, le=100)
    local_tasks: list[str]
    runpod_min_tokens: int = Field(ge=0)
    runpod_levels: list[Literal["public", "internal"]]
    runpod_backlog_seconds: float = Field(gt=0)


PaidProvider = Literal["anthropic", "openai"]


class PaidFallbackConfig(Section):
    """One entry of [[paid.fallback]]: tried in turn when the one before fails."""

    provider: PaidProvider
    model: str = Field(min_length=1)
    api_key: SecretStr | None = None
    # The environment variable (or the credential file in $CREDENTIALS_DIRECTORY) holding the
    # key, so that it need not be written in the config file.
    api_key_env: str = ""
    base_url: str | None = None

    _none_when_empty = field_validator("api_key", "base_url", mode="before")(_empty_is_none)


class PaidConfig(Section):
    enabled: bool
    provider: PaidProvider
    model: str = Field(min_length=1)
    api_key: SecretStr | None
    base_url: str | None
    fallback: list[PaidFallbackConfig] = Field(default_factory=list)
    monthly_budget_usd: float = Field(ge=0)
    max_tokens: int = Field(ge=64, le=16000)
    timeout_seconds: float = Field(gt=0)
    max_attempts: int = Field(ge=1, le=10)
    retry_cap_seconds: float = Field(gt=0)
    redact: list[str]

    _none_when_empty = field_validator("api_key", "base_url", mode="before")(_empty_is_none)


class RunpodConfig(Section):
    enabled: bool
    mode: Literal["worker", "openai"]
    endpoint_id: str
    api_key: SecretStr | None
    base_url: str
    model: str
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
