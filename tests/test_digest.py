"""The daily digest, built from plain data (pure) and rendered: what a lead reads at 8:00."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import pytest

from triage.records import CostLine
from triage.reporting.data import PeriodData, TicketLine, day_window
from triage.reporting.digest import (
    BudgetLine,
    build_digest,
    ignored_kind,
    summary_without_subject,
)
from triage.reporting.render import render_digest

WINDOW = day_window(date(2026, 11, 2), "Europe/Berlin")


def ticket(n: int, **values: object) -> TicketLine:
    base = TicketLine(
        id=f"t-{n:03d}",
        status="triaged",
        reason=None,
        duplicate_of=None,
        category="email",
        priority="P3",
        risk="low",
        tier="rules",
        cost_usd=0.0,
        subject=f"Subject {n}",
        summary=f"Subject {n}. Details of {n}.",
        risk_reasons=[],
        next_steps=[],
        needs_review=[],
        cache_of=None,
        source_ref=f"/in/{n}.eml",
        received_at=f"2026-11-02T{8 + n % 10:02d}:{n % 60:02d}:00+00:00",
        sender=f"user{n}@example.com",
        source="imap:support/INBOX",
    )
    return replace(base, **values)  # type: ignore[arg-type]


def digest_of(*tickets: TicketLine, costs: list[CostLine] | None = None, budgets=None):
    data = PeriodData(WINDOW, tickets=list(tickets), by_workflow_tier=costs or [])
    return build_digest(data, budgets)


def test_p1_and_p2_are_cards_ordered_by_priority_then_time_not_by_id():
    digest = digest_of(
        ticket(1, priority="P2", received_at="2026-11-02T09:00:00+00:00"),
        ticket(2, priority="P1", received_at="2026-11-02T11:00:00+00:00"),
        ticket(3, priority="P2", received_at="2026-11-02T07:30:00+00:00"),
        ticket(4, priority="P3"),
    )
    assert [c.ticket.id for c in digest.urgent] == ["t-002", "t-003", "t-001"]
    assert [c.time for c in digest.urgent] == ["12:00", "08:30", "10:00"]  # Berlin time


def test_a_card_has_requester_reason_next_steps_and_a_summary_without_the_subject():
    digest = digest_of(
        ticket(
            1,
            priority="P1",
            risk="high",
            requester="Ann Example",
            risk_reasons=["security keyword: phishing", "credential in the body", "third"],
            next_steps=["Reset the password"],
            subject="Clicked a phishing link",
            summary="Clicked a phishing link. I typed my password on the page.",
        )
    )
    [card] = digest.urgent
    assert card.requester == "Ann Example"
    assert card.reason == "security keyword: phishing; credential in the body"
    assert card.summary == "I typed my password on the page."
    html = render_digest(digest)["html"]
    for part in ("Ann Example", "imap:support/INBOX", "Reset the password", "P1", "10:01"):
        assert part in html
    assert html.count("Clicked a phishing link") == 1  # the summary does not repeat it


@pytest.mark.parametrize(
    ("summary", "subject", "expected"),
    [
        ("VPN down. Since 9.", "VPN down", "Since 9."),
        ("VPN down.", "VPN down.", ""),
        ("The tunnel drops every hour.", "VPN down", "The tunnel drops every hour."),
        ("vpn DOWN: since 9", "VPN down", "since 9"),
    ],
)
def test_summary_without_subject(summary, subject, expected):
    assert summary_without_subject(summary, subject) == expected


def test_p3_and_p4_are_counted_per_category_with_their_top_subjects():
    digest = digest_of(
        *(ticket(n, category="printer", subject="Printer jams") for n in range(4)),
        ticket(10, category="printer", subject="Toner empty"),
        ticket(11, category="account", priority="P4", subject="Password reset"),
    )
    assert digest.urgent == [] and digest.routine_total == 6
    printer, account = digest.routine
    assert (printer.category, printer.count) == ("printer", 5)
    assert printer.top_subjects == [("Printer jams", 4), ("Toner empty", 1)]
    assert (account.category, account.count) == ("account", 1)


def test_a_storm_is_one_entry_with_its_count_and_reporters():
    first = ticket(1, priority="P2", category="network", subject="Wi-Fi down on floor 3")
    others = [ticket(n, storm_of="t-001", priority="P3", category="network") for n in (2, 3, 4)]
    reused = ticket(5, cache_of="t-001", category="network")
    digest = digest_of(first, *others, reused, ticket(6))
    [storm] = digest.storms
    assert (storm.first, storm.count, storm.priority) == ("t-001", 5, "P2")
    assert storm.reporters == [f"user{n}@example.com" for n in (1, 2, 3, 4, 5)]
    assert digest.urgent == []  # the storm's first ticket is not listed twice
    assert digest.routine_total == 1
    markdown = render_digest(digest)["md"]
    assert '5 reports, P2 network: "Wi-Fi down on floor 3"' in markdown


def test_a_storm_keeps_the_top_suggestion_of_its_first_report():
    first = ticket(1, priority="P1", category="network", suggested="Wi-Fi outage (kb/wifi.md)")
    others = [ticket(n, storm_of="t-001", priority="P1", category="network") for n in (2, 3)]
    digest = digest_of(first, *others)
    [storm] = digest.storms
    assert storm.suggested == "Wi-Fi outage (kb/wifi.md)"
    assert "Suggested: Wi-Fi outage (kb/wifi.md)" in render_digest(digest)["md"]
    assert "Suggested: Wi-Fi outage (kb/wifi.md)" in render_digest(digest)["html"]


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        ("auto-reply: Auto-Submitted: auto-replied", "auto-reply"),
        ("bounce: delivery status notification (multipart/report)", "bounce"),
        ("bulk mail: Precedence: bulk", "bulk"),
        ("loop: X-Loop header", "loop"),
        ("loop: more than 30 mails from x@example.com within an hour", "flood"),
        ("read receipt (disposition-notification)", "other automatic"),
        (None, "other automatic"),
    ],
)
def test_ignored_mail_is_told_apart_by_reason(reason, kind):
    assert ignored_kind(reason) == kind


def test_ignored_mail_is_broken_down_so_no_real_ticket_hides_there():
    digest = digest_of(
        ticket(1, status="ignored", reason="auto-reply: X-Autoreply header"),
        ticket(2, status="ignored", reason="auto-reply: automatic reply subject"),
        ticket(3, status="ignored", reason="bounce: sent by mailer-daemon"),
        ticket(4, status="ignored", reason="loop: more than 30 mails from a@b within an hour"),
        ticket(5),
    )
    assert digest.ignored == {"auto-reply": 2, "bounce": 1, "flood": 1}
    assert "2 auto-reply, 1 bounce, 1 flood" in render_digest(digest)["md"]


def test_a_note_on_most_tickets_is_said_once_for_the_set_up():
    note = "paid tier disabled: high-risk ticket not analysed"
    tickets = [ticket(n, needs_review=[note]) for n in range(5)]
    tickets.append(ticket(9, needs_review=[note, "model answer contradicted the rules"]))
    digest = digest_of(*tickets, ticket(10))
    assert digest.config_notes == [(note, 6)]
    assert [(t.id, why) for t, why in digest.review] == [
        ("t-009", "model answer contradicted the rules")
    ]
    html = render_digest(digest)["html"]
    assert html.count(note) == 1


def test_empty_sections_are_left_out():
    digest = digest_of(ticket(1))
    markdown, html = render_digest(digest)["md"], render_digest(digest)["html"]
    for heading in ("P1 and P2", "Storms", "Needs review", "quarantine", "Spend", "Ignored"):
        assert heading not in markdown and heading not in html
    assert "$0.00" not in markdown and "saved" not in markdown


def test_month_to_date_spend_against_each_enabled_budget_with_the_trend():
    costs = [CostLine(("security", "paid"), 3, 3000, 900, 0.02, 0.02, 0, 0.0)]
    budgets = [BudgetLine("paid", 50.0, 12.5, 10.0), BudgetLine("runpod", 20.0, 1.0, 0.0)]
    digest = digest_of(ticket(1, priority="P1"), costs=costs, budgets=budgets)
    markdown = render_digest(digest)["md"]
    assert (
        "| paid | $12.50 | $50.00 | 25% | 25% more than by this day last month ($10.00) |"
        in markdown
    )
    assert "nothing spent by this day last month" in markdown
    assert BudgetLine("paid", 50.0, 10.2, 10.0).trend == (
        "about as much as by this day last month ($10.00)"
    )
    assert BudgetLine("paid", 50.0, 5.0, 10.0).trend == (
        "50% less than by this day last month ($10.00)"
    )
    assert BudgetLine("paid", 50.0, 0.0, 10.0).trend == "nothing yet; $10.00 by this day last month"


def test_budgets_of_disabled_tiers_are_not_shown(make_settings, store):
    from triage.reporting.render import digest_budgets

    disabled = make_settings()
    assert digest_budgets(store, disabled, WINDOW.until) == []
    enabled = make_settings("[runpod]\nenabled = true\nendpoint_id = 'ep'\napi_key = 'k'\n")
    assert [b.tier for b in digest_budgets(store, enabled, WINDOW.until)] == ["runpod"]


def test_a_day_of_sixty_varied_tickets_reads_in_a_mail_client(store, settings):
    from tests.digest_day import fill_day
    from triage.reporting.render import write_digest

    fill_day(store, date(2026, 11, 2))
    digest, written = write_digest(store, settings, date(2026, 11, 2))
    assert digest.tickets >= 60
    assert digest.urgent and digest.storms and digest.routine and digest.ignored
    html = written.paths[1].read_text()
    assert "max-width:720px" in html and "<style" not in html.split("<body")[1]
    priorities = [card.ticket.priority for card in digest.urgent]
    assert priorities == sorted(priorities)


def test_a_subject_with_a_bar_stays_in_its_markdown_cell():
    digest = digest_of(ticket(1, subject="Printer | floor 2 | jams"))
    row = next(line for line in render_digest(digest)["md"].splitlines() if "floor 2" in line)
    assert len(re.findall(r"(?<!\\)\|", row)) == 4  # the table's own separators only


def test_ignored_mail_with_a_high_finding_is_listed_apart_and_ignored_counted_by_reason():
    digest = digest_of(
        ticket(1, status="ignored", reason="bulk mail: Precedence: bulk", risk="high",
               risk_reasons=["security incident: ransomware"], subject="Files encrypted"),
        ticket(2, status="ignored", reason="phishing: mail from outside (Microsoft SCL 9)"),
        ticket(3, status="ignored", reason="spam: mail from outside (an advert)"),
        ticket(4, status="ignored", reason="bulk mail: List-Id header"),
    )  # fmt: skip
    assert [t.id for t in digest.ignored_high] == ["t-001"]
    assert digest.ignored == {"phishing": 1, "spam": 1, "bulk": 2}
    markdown = render_digest(digest)["md"]
    assert "Ignored, but with a high finding (1)" in markdown
    assert "security incident: ransomware" in markdown


def test_with_knowledge_on_the_digest_counts_suggested_tickets_and_names_the_gaps_by_category():
    tickets = [
        ticket(1, category="vpn", suggested="VPN error 809 (kb/vpn.md)"),
        ticket(2, category="printer", subject="Plotter jam"),
        ticket(3, category="printer", subject="Plotter jam"),
        ticket(4, category="hardware", subject="Broken chair"),
        ticket(5, status="ignored", reason="auto-reply", category="other"),  # not triaged
    ]
    data = PeriodData(WINDOW, tickets=tickets)
    digest = build_digest(data, knowledge=True)
    assert (digest.suggested, digest.triaged) == (1, 4)
    assert [(c.category, c.count) for c in digest.unanswered] == [("printer", 2), ("hardware", 1)]
    markdown, html = render_digest(digest)["md"], render_digest(digest)["html"]
    assert "1 of 4 triaged tickets were suggested an article or a solved ticket" in markdown
    assert "| printer | 2 | Plotter jam (x2) |" in markdown
    assert "Knowledge base" in html and "Plotter jam (x2)" in html
    # without [knowledge] the section is left out
    assert "Knowledge base" not in render_digest(build_digest(data))["md"]
