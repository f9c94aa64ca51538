"""A realistic month of tickets and ledger rows written straight into a store, for the report
tests, the screenshot check and the benchmark (100,000 tickets take a few seconds)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from triage.records import LedgerEntry, TicketKeys
from triage.result import Attempt, Cost, Result, Route
from triage.store.sqlite import SqliteStore

CATEGORIES = (
    "email",
    "account",
    "vpn",
    "printer",
    "software",
    "hardware",
    "network",
    "access",
    "security",
    "other",
)
WEIGHTS = (18, 20, 10, 9, 14, 8, 6, 8, 3, 4)


def fill_month(store: SqliteStore, year: int, month: int, tickets: int, seed: int = 5) -> float:
    """Write `tickets` results over the month with their ledger rows; returns the total USD."""
    rng = random.Random(seed)
    start = datetime(year, month, 1, 8, tzinfo=UTC)
    days = 28
    total = 0.0
    rows: list[tuple[Result, list[LedgerEntry]]] = []
    for n in range(tickets):
        at = start + timedelta(days=rng.randrange(days), minutes=rng.randrange(600))
        category = rng.choices(CATEGORIES, WEIGHTS)[0]
        risk = "high" if category == "security" or rng.random() < 0.02 else "low"
        ticket_id = f"t-{seed:02d}{n:08d}"
        entries = []
        cache_hit = rng.random() < 0.08
        tokens_in, tokens_out = rng.randrange(600, 2400), rng.randrange(80, 260)
        entries.append(
            LedgerEntry(
                at,
                ticket_id,
                category,
                "local",
                "qwen2.5-1.5b-instruct-q4_k_m.gguf",
                "triage",
                "1",
                0 if cache_hit else tokens_in,
                0 if cache_hit else tokens_out,
                0,
                0.0 if cache_hit else rng.uniform(2, 9),
                0.0,
                (tokens_in * 3 + tokens_out * 15) / 1e6,
                "cache_hit" if cache_hit else "ok",
            )
        )
        tier = "local"
        if risk == "high":
            paid_in, paid_out = rng.randrange(700, 1600), rng.randrange(250, 700)
            usd = (paid_in * 3 + paid_out * 15) / 1e6
            entries.append(
                LedgerEntry(
                    at,
                    ticket_id,
                    category,
                    "paid",
                    "claude-sonnet-4-6",
                    "analysis",
                    "1",
                    paid_in,
                    paid_out,
                    600,
                    rng.uniform(3, 12),
                    usd,
                    usd,
                    "ok",
                )
            )
            tier = "paid"
        elif rng.random() < 0.05:
            usd = rng.uniform(0.0002, 0.0008)
            entries[0] = LedgerEntry(
                at,
                ticket_id,
                category,
                "runpod",
                "runpod:ep",
                "triage",
                "1",
                tokens_in,
                tokens_out,
                0,
                0.3,
                usd,
                (tokens_in * 3 + tokens_out * 15) / 1e6,
                "ok",
            )
            tier = "runpod"
        cost = sum(e.usd for e in entries)
        total += cost
        result = Result(
            id=ticket_id,
            source="dropfolder",
            source_ref=f"/in/{n}.eml",
            message_id=None,
            received_at=at,
            sender=f"user{n % 500}@example.com",
            subject=f"{category.title()} problem #{n}",
            status="triaged",
            status_reason=None,
            category=category,
            priority="P1" if risk == "high" else "P3",
            risk=risk,
            summary=f"A {category} problem reported by user {n % 500}.",
            route=Route(tier=tier, reason="seeded", attempts=[Attempt(tier=tier, ok=True)]),
            cost=Cost(
                usd=cost,
                tokens_in=sum(e.tokens_in for e in entries),
                tokens_out=sum(e.tokens_out for e in entries),
            ),
            workflow=category,
            escalation={"next_steps": ["Reset the password", "Check the sign-in log"]}
            if tier == "paid"
            else None,
        )
        rows.append((result, entries))
    for result, entries in rows:
        store.save(result, TicketKeys(None), result.received_at)
        for entry in entries:
            store.book(entry)
    return total
