"""The process the delivery crash test kills: commits results with their deliveries in one
transaction each, as the daemon does, while its sender thread relays them; on a restart it
resumes. Exits 0 once every input is committed and every delivery sent.

    python -m tests.delivery_child CONFIG COUNT
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from triage.config import load_settings
from triage.delivery.service import DeliveryService
from triage.delivery.smtp import SmtpTransport
from triage.result import Result, Route
from triage.store import SqliteStore, TicketKeys
from triage.ticket import input_id


def ticket(n: int) -> bytes:
    return (
        f"From: user{n}@example.com\r\nTo: helpdesk@example.com\r\nSubject: Printer {n} jams\r\n"
        f"Message-ID: <in-{n}@example.com>\r\n\r\nTray {n} jams.\r\n"
    ).encode()


def main(config: Path, count: int) -> int:
    settings = load_settings(config, {}).settings
    store = SqliteStore(settings.store.path)
    clock = lambda: datetime.now(UTC)  # noqa: E731
    service = DeliveryService(
        store, settings.relay, settings.webhooks, clock, [SmtpTransport(settings.relay)]
    )
    service.start()
    for n in range(count):
        data = ticket(n)
        ticket_id = input_id("", [data])
        if store.get_result(ticket_id) is not None:
            continue
        now = clock()
        result = Result(
            id=ticket_id,
            source="imap:crash/INBOX",
            source_ref=f"INBOX/1/{n}",
            message_id=f"<in-{n}@example.com>",
            received_at=now,
            **{"from": f"user{n}@example.com"},
            subject=f"Printer {n} jams",
            status="triaged",
            status_reason=None,
            category="printer",
            route=Route(tier="rules", reason="crash test"),
            workflow="printer",
        )
        store.save(result, TicketKeys(None), now, also=service.writer(result, data, now))
        service.committed()
        time.sleep(0.005)  # arrivals spread out, so kills land mid-stream
    while service.counts().get(("smtp", "pending"), 0):
        time.sleep(0.05)
    service.stop()
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), int(sys.argv[2])))
