"""Building the model tiers from the settings: prices, the learned tier, the paid and Runpod
clients with their policies, and the local model (part of the composition root)."""

from __future__ import annotations

from datetime import UTC, datetime

import structlog
from pydantic import SecretStr

from models.port import GpuBatches, PaidTier, TicketModel
from models.prompt import load_prompt
from triage.breaker import Breaker
from triage.config.settings import Settings
from triage.costs import Price, price_for
from triage.errors import ConfigError, PriceMissing
from triage.learned.classifier import LearnedTier, Ledger
from triage.learned.decide import LearnedPolicy
from triage.ports import BudgetStore, Clock
from triage.tiers.paid import EscalationPolicy, Escalator
from triage.tiers.runpod import Offloader, OffloadPolicy

log = structlog.get_logger("triage.compose")


def utc_now() -> datetime:
    return datetime.now(UTC)


def prices(settings: Settings) -> dict[str, Price]:
    return {
        model: Price(
            p.input_per_mtok, p.output_per_mtok, p.cache_read_per_mtok, p.cache_write_per_mtok
        )
        for model, p in settings.pricing.items()
    }


def learned_policy(settings: Settings) -> LearnedPolicy:
    config = settings.learned
    return LearnedPolicy(config.min_probability, dict(config.categories))


def build_learned(
    settings: Settings, ledger: Ledger | None, clock: Clock = utc_now
) -> LearnedTier | None:
    """The learned tier, or None when it is off. Raises ModelFileError naming the file."""
    config = settings.learned
    if not config.enabled or config.model_path is None:
        return None
    return LearnedTier(
        config.model_path,
        learned_policy(settings),
        ledger,
        clock,
        prices(settings).get(settings.paid.model),
    )


def escalation_policy(settings: Settings) -> EscalationPolicy:
    paid = settings.paid
    return EscalationPolicy(
        paid.monthly_budget_usd,
        paid.max_attempts,
        paid.retry_cap_seconds,
        zone=settings.digest.timezone,
    )


def offload_policy(settings: Settings) -> OffloadPolicy:
    config, template = settings.runpod, load_prompt("triage")
    return OffloadPolicy(
        budget_usd=config.monthly_budget_usd,
        usd_per_second=config.usd_per_second,
        timeout_seconds=config.timeout_seconds,
        batch_size=config.batch_size,
        template=template.name,
        template_version=template.version,
        baseline_price=prices(settings).get(settings.paid.model),
        zone=settings.digest.timezone,
    )


def build_offloader(
    settings: Settings, store: BudgetStore, clock: Clock = utc_now
) -> Offloader | None:
    """The Runpod tier, or None when it is off. Raises ConfigError naming what is missing."""
    if not settings.runpod.enabled:
        return None
    policy = offload_policy(settings)
    breaker = Breaker(settings.breaker.failures, settings.breaker.cooldown_seconds)
    return Offloader(runpod_client(settings), store, policy, breaker, clock)


def runpod_client(settings: Settings) -> GpuBatches:
    """The Runpod SDK client for the settings. Raises ConfigError naming what is missing."""
    config = settings.runpod
    if not config.endpoint_id:
        raise ConfigError("[runpod] endpoint_id is empty: the serverless endpoint to use")
    if config.api_key is None:
        raise ConfigError(
            "[runpod] api_key is not set: use TRIAGE_RUNPOD__API_KEY, RUNPOD_API_KEY or the "
            "credential runpod__api_key"
        )
    if config.mode == "openai":
        if not config.model:
            raise ConfigError(
                '[runpod] mode = "openai" needs model: the name the vLLM worker serves '
                "(its MODEL_NAME)"
            )
        from models.gpu_vllm import VllmBatches  # the openai SDK only when it is used

        return VllmBatches(
            config.endpoint_id,
            config.api_key.get_secret_value(),
            config.base_url,
            config.model,
            load_prompt("triage"),
            timeout_seconds=config.timeout_seconds,
        )
    try:
        from models.gpu import RunpodBatches  # the SDK is imported only when the tier is on
    except ImportError:
        raise ConfigError(
            "[runpod] enabled = true, but the runpod package is not installed: "
            "pip install 'triage[runpod]'"
        ) from None
    return RunpodBatches(
        config.endpoint_id,
        config.api_key.get_secret_value(),
        config.base_url,
        timeout_seconds=config.timeout_seconds,
        poll_seconds=config.poll_seconds,
    )


def build_escalator(
    settings: Settings, store: BudgetStore, clock: Clock = utc_now
) -> Escalator | None:
    """The paid tier, or None when it is off. Raises ConfigError naming what is missing."""
    if not settings.paid.enabled:
        return None
    model, price = paid_client(settings)
    policy = escalation_policy(settings)
    breaker = Breaker(settings.breaker.failures, settings.breaker.cooldown_seconds)
    return Escalator(
        model, price, store, policy, breaker, clock, fallbacks=paid_fallbacks(settings)
    )


def paid_client(settings: Settings) -> tuple[PaidTier, Price]:
    """The first provider's client and its model's price. Raises ConfigError naming what is
    missing."""
    paid = settings.paid
    return _paid_link(settings, "[paid]", paid.provider, paid.model, paid.api_key, paid.base_url)


def paid_fallbacks(settings: Settings) -> list[tuple[PaidTier, Price]]:
    """The [[paid.fallback]] clients, in order, each with its model's price. Raises
    ConfigError naming the entry and what is missing."""
    return [
        _paid_link(
            settings,
            f"[[paid.fallback]] #{number}",
            entry.provider,
            entry.model,
            entry.api_key,
            entry.base_url,
            entry.api_key_env,
        )
        for number, entry in enumerate(settings.paid.fallback, start=1)
    ]


def _paid_link(
    settings: Settings,
    where: str,
    provider: str,
    model_name: str,
    api_key: SecretStr | None,
    base_url: str | None,
    key_env: str = "",
) -> tuple[PaidTier, Price]:
    paid = settings.paid
    try:
        price = price_for(prices(settings), model_name)
    except PriceMissing as exc:
        raise ConfigError(f"{where} model = {model_name!r}: {exc}") from None
    if api_key is None and provider == "anthropic":
        hint = (
            "use TRIAGE_PAID__API_KEY, ANTHROPIC_API_KEY or the credential paid__api_key"
            if where == "[paid]"
            else f"set its api_key or api_key_env{f' ({key_env} is not set)' if key_env else ''}"
        )
        raise ConfigError(f"{where} api_key is not set: {hint}")
    if api_key is None and provider == "openai" and not base_url:
        # OpenAI itself wants a key; a server of one's own (vLLM, LiteLLM) may not.
        hint = (
            "use TRIAGE_PAID__API_KEY, OPENAI_API_KEY or the credential paid__api_key"
            if where == "[paid]"
            else f"set its api_key or api_key_env{f' ({key_env} is not set)' if key_env else ''}"
        )
        raise ConfigError(f"{where} api_key is not set: {hint}")
    key = api_key.get_secret_value() if api_key is not None else None
    template = load_prompt("analysis")
    model: PaidTier
    if provider == "openai":
        try:
            from models.paid_openai import ChatPaidModel  # the SDK only when it is used
        except ImportError:
            raise ConfigError(
                f"{where} provider = 'openai', but the openai package is not installed: "
                "pip install openai"
            ) from None
        model = ChatPaidModel(
            model_name,
            template,
            api_key=key,
            base_url=base_url,
            max_tokens=paid.max_tokens,
            timeout_seconds=paid.timeout_seconds,
        )
    else:
        from models.paid import PaidModel  # the SDK is imported only when the tier is on

        model = PaidModel(
            model_name,
            template,
            api_key=key,
            base_url=base_url,
            max_tokens=paid.max_tokens,
            timeout_seconds=paid.timeout_seconds,
        )
    return model, price


def build_local_model(settings: Settings) -> TicketModel | None:
    """The local tier, or None when it is off. Raises LocalModelError naming the file (or
    the server)."""
    config = settings.local
    if not config.enabled or (config.model_path is None and config.base_url is None):
        log.info("local.disabled", hint="the rules tier answers alone; see [local] model_path")
        return None
    if config.base_url is not None:
        from models.local_server import ServerModel  # the openai SDK only when it is used

        server = ServerModel(
            config.base_url,
            config.model,
            load_prompt("triage"),
            api_key=config.api_key.get_secret_value() if config.api_key else None,
            n_ctx=config.n_ctx,
            max_tokens=config.max_tokens,
            timeout_seconds=config.timeout_seconds,
            breaker=Breaker(settings.breaker.failures, settings.breaker.cooldown_seconds),
        )
        log.info("local.server", model=server.model, provider=server.provider)
        return server
    assert config.model_path is not None
    from models.local import LocalModel  # llama.cpp is imported only when a model is used

    model = LocalModel(
        config.model_path,
        load_prompt("triage"),
        n_threads=config.n_threads,
        n_ctx=config.n_ctx,
        max_tokens=config.max_tokens,
        timeout_seconds=config.timeout_seconds,
    )
    log.info("local.loaded", model=model.model, threads=model.threads, n_ctx=config.n_ctx)
    return model
