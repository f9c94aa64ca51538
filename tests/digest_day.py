"""A varied helpdesk day (60+ tickets) written straight into a store: urgent tickets with next
steps, routine ones, a storm, automatic mail, duplicates, a quarantined input and paid calls.
For the digest tests and for looking at the digest as a picture."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from triage.result import Attempt, Cost, FieldsOut, Result, Route
from triage.store.sqlite import LedgerEntry, SqliteStore, TicketKeys

ROUTINE = (
    ("printer", "Printer on floor 2 jams"),
    ("printer", "Toner empty in room 4.12"),
    ("account", "Password reset please"),
    ("account", "Locked out after holiday"),
    ("email", "Outlook keeps asking for my password"),
    ("email", "Shared mailbox missing"),
    ("software", "Please install Visio"),
    ("software", "Teams crashes on start"),
    ("hardware", "Docking station not charging"),
    ("access", "Need access to the finance share"),
    ("vpn", "VPN slow from home"),
)
URGENT = (
    ("security", "P1", "high", "Clicked a link in a phishing mail", ["security keyword: phishing"]),
    ("security", "P1", "high", "Laptop stolen at the train station", ["security keyword: stolen"]),
    ("network", "P2", "medium", "Whole sales floor offline", ["many users affected"]),
    ("email", "P2", "medium", "CEO cannot send mail before board meeting", ["VIP requester"]),
    ("access", "P2", "medium", "Payroll run blocked: no access to SAP", ["deadline today"]),
)
IGNORED = (
    "auto-reply: Auto-Submitted: auto-replied",
    "auto-reply: automatic reply subject",
    "bounce: sent by mailer-daemon",
    "bulk mail: Precedence: bulk",
    "loop: more than 30 mails from monitor@example.com within an hour",
)
CONFIG_NOTE = "paid tier disabled: the local answer stands without a second opinion"


def fill_day(store: SqliteStore, day: date, seed: int = 7) -> int:
    """Write the day; returns how many tickets. Also books some paid calls last month."""
    rng = random.Random(seed)
    start = datetime.combine(day, time(7, 0), UTC)
    results: list[tuple[Result, list[LedgerEntry]]] = []

    def at(n: int) -> datetime:
        return start + timedelta(minutes=7 * n + rng.randrange(5))

    n = 0
    for category, priority, risk, subject, reasons in URGENT:
        paid = risk == "high"
        usd = 0.0123 if paid else 0.0
        results.append(
            (
                _result(
                    n,
                    at(n),
                    subject,
                    category,
                    priority=priority,
                    risk=risk,
                    risk_reasons=reasons,
                    tier="paid" if paid else "local",
                    usd=usd,
                    escalation={"next_steps": ["Isolate the device", "Reset the password"]}
                    if paid
                    else {"next_steps": ["Call the requester back within the hour"]},
                ),
                [_booked(at(n), n, category, "paid", usd)] if paid else [],
            )
        )
        n += 1
    first_storm = n
    for reporter in range(8):  # one outage, reported by eight people
        results.append(
            (
                _result(
                    n,
                    at(n),
                    "Wi-Fi down in building B",
                    "network",
                    priority="P2",
                    risk="medium",
                    cache_of=None if reporter == 0 else f"t-day{first_storm:04d}",
                ),
                [],
            )
        )
        n += 1
    for _ in range(40):
        category, subject = rng.choice(ROUTINE)
        note = [CONFIG_NOTE] if rng.random() < 0.7 else []
        results.append(
            (
                _result(
                    n,
                    at(n),
                    subject,
                    category,
                    priority=rng.choice(("P3", "P3", "P4")),
                    needs_review=note,
                    tier="local",
                ),
                [_booked(at(n), n, category, "local", 0.0)],
            )
        )
        n += 1
    for reason in IGNORED * 2:
        results.append(
            (_result(n, at(n), "Automatic reply", "other", status="ignored", reason=reason), [])
        )
        n += 1
    for _ in range(3):
        results.append(
            (
                _result(
                    n,
                    at(n),
                    "Printer on floor 2 jams",
                    "printer",
                    status="duplicate",
                    reason="same content from the same sender as t-day0010",
                    duplicate_of="t-day0010",
                ),
                [],
            )
        )
        n += 1
    results.append(
        (_result(n, at(n), "", "other", status="quarantined", reason="not valid JSON: line 1"), [])
    )
    n += 1
    for result, entries in results:
        store.save(result, TicketKeys(None), result.received_at)
        for entry in entries:
            store.book(entry)
    last_month = start.replace(day=1) - timedelta(days=20)
    store.book(_booked(last_month, 9999, "security", "paid", 0.0100))
    return n


def _result(
    n: int,
    received: datetime,
    subject: str,
    category: str,
    *,
    priority: str = "P3",
    risk: str = "low",
    risk_reasons: list[str] | None = None,
    status: str = "triaged",
    reason: str | None = None,
    duplicate_of: str | None = None,
    tier: str = "rules",
    usd: float = 0.0,
    escalation: dict[str, object] | None = None,
    needs_review: list[str] | None = None,
    cache_of: str | None = None,
) -> Result:
    person = f"user{n % 23}@example.com"
    return Result.model_validate(
        {
            "id": f"t-day{n:04d}",
            "source": "imap:support/INBOX" if n % 3 else "dropfolder",
            "source_ref": f"INBOX/1/{n}",
            "message_id": None,
            "received_at": received,
            "from": person,
            "subject": subject,
            "status": status,
            "status_reason": reason,
            "duplicate_of": duplicate_of,
            "category": category,
            "priority": priority,
            "risk": risk,
            "risk_reasons": risk_reasons or [],
            "summary": f"{subject}. Reported by {person} this morning." if subject else "",
            "fields": FieldsOut(requester=f"User {n % 23}"),
            "route": Route(
                tier=tier, reason=f"{tier}: seeded", attempts=[Attempt(tier=tier, ok=True)]
            ),  # type: ignore[arg-type]
            "escalation": escalation,
            "cost": Cost(usd=usd),
            "workflow": category,
            "needs_review": needs_review or [],
            "cache_of": cache_of,
        }
    )


def _booked(at: datetime, n: int, workflow: str, tier: str, usd: float) -> LedgerEntry:
    model = "claude-sonnet-4-6" if tier == "paid" else "qwen2.5-1.5b-instruct-q4_k_m.gguf"
    return LedgerEntry(
        at,
        f"t-day{n:04d}",
        workflow,
        tier,
        model,
        "triage",
        "1",
        900,
        200,
        0,
        2.0,
        usd,
        0.0057,
        "ok",
    )
