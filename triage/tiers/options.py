"""What the pipeline is told by the configuration (swapped whole on reload)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from triage.costs import Price
from triage.parsing import MailLimits
from triage.tiers.router import Policy
from triage.tiers.trust import TrustBars, TrustProfile


@dataclass(frozen=True)
class PipelineOptions:
    limits: MailLimits
    dedup_window: timedelta
    log_slice_lines: int
    sender_limit_per_hour: int = 0  # 0: no limit
    sender_limit_sources: tuple[str, ...] = ("imap",)  # source prefixes the limit applies to
    own_domains: tuple[str, ...] = ()  # [senders] own_domains
    unsolicited: str = "ignore"  # [senders] unsolicited: "ignore" | "security" | "triage"
    local_min_confidence: int = 60
    local_usd_per_mtok: float = 0.0
    policy: Policy = field(default_factory=Policy)
    paid_redact: frozenset[str] = frozenset({"pii.card", "pii.iban", "pii.phone", "pii.email"})
    allow_spending: bool = True  # False for --dry-run: nothing is spent (paid, Runpod)
    baseline_price: Price | None = None  # the paid model's price: the all-paid baseline
    cache_ttl: timedelta | None = None  # None: the answer cache is off
    runpod_backlog_seconds: float = 300.0
    local_seconds_estimate: float = 5.0  # until measured: seconds per local answer
    secrets: tuple[str, ...] = ()  # the configuration's: masked wherever ticket text goes
    trust: TrustProfile | None = None  # the local model's measured record ([local] trust_profile)
    trust_bars: TrustBars = field(default_factory=TrustBars)
