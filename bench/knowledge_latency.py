"""Knowledge suggestions at scale, all measured in one run:

    python bench/knowledge_latency.py [--articles 5000] [--solved 50000] [--tickets 200]
                                      [--store sqlite|postgres URL]

Generates a knowledge base (5,000 Markdown articles of 120-200 words, in English with one in
ten in German) and a solved-ticket export (50,000 rows, CSV with a Resolution column) from a
helpdesk vocabulary, seed 0, into a temporary folder; builds the index with the daemon's
indexer (build time, the process's peak memory before and after, the store's size), then
triages `--tickets` generated tickets twice through the pipeline of `triage process`: once
with [knowledge] off (the ticket's own triage time) and once with it on, and times the
suggestion alone for each ticket. Printed: median and p95 of the suggestion latency, of the
triage without and with suggestions, and the ratio of suggestion to triage time.

The figures depend on what else the machine runs: the load average is printed with them.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from triage.compose.app import build_pipeline
from triage.compose.knowledge import build_indexer, build_suggester
from triage.config.settings import Settings, load_settings
from triage.logs import configure_logging
from triage.store import open_shared, open_store
from triage.ticket import RawInput

TOPICS = {
    "vpn": "vpn tunnel gateway portal client connect disconnect certificate token remote",
    "mail": "outlook mailbox quota archive calendar invite signature rule folder attachment",
    "account": "password reset expired locked account login sign username portal identity",
    "printer": "printer queue driver toner paper jam scan copier tray duplex",
    "network": "wifi network switch cable dhcp dns latency proxy firewall port",
    "hardware": "laptop battery screen keyboard dock monitor charger fan disk memory",
    "software": "install update licence application crash error version patch upgrade",
    "access": "permission share drive folder group request approve manager access role",
    "phone": "phone mobile authenticator app enrolment intune sms call voicemail headset",
    "meeting": "teams meeting camera microphone audio video room screen share recording",
}
GERMAN = {
    "vpn": "verbindung tunnel zugang zertifikat",
    "mail": "postfach kalender einladung anhang",
    "account": "kennwort konto gesperrt anmeldung",
    "printer": "drucker treiber papier scanner",
    "network": "netzwerk kabel verbindung wlan",
    "hardware": "bildschirm tastatur akku ladegerät",
    "software": "installation aktualisierung lizenz fehler",
    "access": "berechtigung freigabe ordner gruppe",
    "phone": "telefon handy anruf kopfhörer",
    "meeting": "besprechung kamera mikrofon raum",
}
FILLER = (
    "the a to of and for in on with your you it this that is be when if then open select "
    "click choose check again after before settings menu page button window"
).split()


def words(rng: random.Random, topic: str, german: bool, count: int) -> str:
    vocabulary = (GERMAN if german else TOPICS)[topic].split()
    other = TOPICS[rng.choice(list(TOPICS))].split()
    out = []
    for _ in range(count):
        pool = rng.random()
        out.append(
            rng.choice(vocabulary)
            if pool < 0.3
            else rng.choice(other)
            if pool < 0.4
            else rng.choice(FILLER)
            if pool < 0.9
            else f"{rng.choice(vocabulary)}{rng.randint(1, 999)}"
        )
    return " ".join(out)


def generate(folder: Path, articles: int, solved: int, rng: random.Random) -> tuple[Path, Path]:
    kb = folder / "kb"
    kb.mkdir()
    topics = list(TOPICS)
    for number in range(articles):
        topic, german = topics[number % len(topics)], number % 10 == 9
        title = words(rng, topic, german, 6)
        body = words(rng, topic, german, rng.randint(120, 200))
        (kb / f"a{number:05d}.md").write_text(f"# {title}\n\n{body}\n", encoding="utf-8")
    history = folder / "solved.csv"
    with history.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["Number", "Short description", "Description", "Resolution"])
        for number in range(solved):
            topic = topics[number % len(topics)]
            writer.writerow(
                [
                    f"INC{number:06d}",
                    words(rng, topic, False, 6),
                    words(rng, topic, False, 30),
                    words(rng, topic, False, 20),
                ]
            )
    return kb, history


def ticket(rng: random.Random, number: int) -> RawInput:
    topic = list(TOPICS)[number % len(TOPICS)]
    text = (
        f"From: user{number}@example.org\nTo: helpdesk@example.org\n"
        f"Subject: {words(rng, topic, False, 5)}\n\n{words(rng, topic, False, 40)}\n"
    )
    return RawInput.of(
        text.encode(),
        name=f"t{number}.eml",
        source="cli",
        source_ref=f"t{number}.eml",
        received_at=datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
    )


def settings_for(folder: Path, kb: Path | None, history: Path | None, url: str) -> Settings:
    config = folder / "config.toml"
    knowledge = f"[knowledge]\ndirs = ['{kb}']\nhistory = '{history}'\n" if kb else ""
    store = f"[store]\npath = '{folder}/triage.sqlite3'\n" + (f"url = '{url}'\n" if url else "")
    config.write_text(store + f"[outbox]\ndir = '{folder}/outbox'\n" + knowledge, "utf-8")
    return load_settings(config, os.environ).settings


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--solved", type=int, default=50000)
    parser.add_argument("--tickets", type=int, default=200)
    parser.add_argument("--postgres", default="", help="a PostgreSQL URL instead of SQLite")
    args = parser.parse_args(argv)
    configure_logging("warning")
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        started = time.perf_counter()
        kb, history = generate(folder, args.articles, args.solved, rng)
        print(
            f"generated {args.articles} articles and {args.solved} solved tickets in "
            f"{time.perf_counter() - started:.1f} s; load average {os.getloadavg()[0]:.2f}"
        )
        settings = settings_for(folder, kb, history, args.postgres)
        store = (
            open_shared(args.postgres, node="bench")
            if args.postgres
            else open_store(settings.store.path)
        )
        indexer = build_indexer(settings, store)
        assert indexer is not None
        before = peak_mb()
        started = time.perf_counter()
        counts = indexer.sync()
        build = time.perf_counter() - started
        size = settings.store.path.stat().st_size / 1e6 if not args.postgres else 0.0
        print(
            f"index built in {build:.1f} s ({counts.indexed} documents); peak memory "
            f"{before:.0f} MB before, {peak_mb():.0f} MB after"
            + (f"; store file {size:.0f} MB" if size else "")
        )
        started = time.perf_counter()
        again = indexer.sync()
        print(f"a rescan with nothing changed: {time.perf_counter() - started:.2f} s"
              f" ({again.unchanged} unchanged)")  # fmt: skip
        suggester = build_suggester(settings, store)
        assert suggester is not None
        alone = open_store(":memory:")  # the same pipeline, knowledge off, its own store
        plain = build_pipeline(settings, alone, None)
        with_knowledge = build_pipeline(settings, store, None, suggester=suggester)
        tickets = [ticket(rng, n) for n in range(args.tickets)]
        triage_alone, triage_with, suggest, shown = [], [], [], 0
        for raw in tickets:
            started = time.perf_counter()
            plain.handle(raw)
            triage_alone.append(time.perf_counter() - started)
            started = time.perf_counter()
            found = with_knowledge.handle(raw).result.suggestions
            triage_with.append(time.perf_counter() - started)
            text = raw.data.decode().split("\n\n", 1)[1]
            started = time.perf_counter()
            suggester.suggest(text, "en")
            suggest.append(time.perf_counter() - started)
            shown += bool(found)
        store.close()
        alone.close()
    ms = 1000.0
    print(f"{args.tickets} tickets, {shown} shown a suggestion; load {os.getloadavg()[0]:.2f}")
    print("                       median ms   p95 ms")
    for label, values in (
        ("suggestion alone", suggest),
        ("triage, knowledge off", triage_alone),
        ("triage, knowledge on", triage_with),
    ):
        print(
            f"{label:22s} {statistics.median(values) * ms:9.2f} "
            f"{percentile(values, 0.95) * ms:8.2f}"
        )
    ratio = statistics.median(suggest) / statistics.median(triage_alone)
    print(f"suggestion / the ticket's own triage time (medians): {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
