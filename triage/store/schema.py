"""The store's schema: versioned with PRAGMA user_version; MIGRATIONS only ever grows.

A migration is appended here, never edited once released. `migrate` runs the missing ones
inside one write transaction and reads the version again inside it, so two processes that
open a fresh store at the same moment never both create its tables.
"""

from __future__ import annotations

import sqlite3

from triage.errors import StoreError

MIGRATIONS: tuple[str, ...] = (
    # 1: tickets, cursors, ledger, answer cache
    """
    CREATE TABLE tickets (
        id TEXT PRIMARY KEY,
        source TEXT NOT NULL,
        source_ref TEXT NOT NULL,
        message_id TEXT,
        content_key TEXT,
        sender TEXT,
        received_at TEXT NOT NULL,   -- UTC ISO 8601, sortable
        created_at TEXT NOT NULL,
        status TEXT NOT NULL,
        status_reason TEXT,
        duplicate_of TEXT,
        category TEXT NOT NULL,
        priority TEXT NOT NULL,
        risk TEXT NOT NULL,
        sensitivity TEXT NOT NULL,
        tier TEXT NOT NULL,
        workflow TEXT NOT NULL,
        cost_usd REAL NOT NULL DEFAULT 0,
        result TEXT NOT NULL         -- the result JSON, as written to the outbox
    );
    CREATE INDEX tickets_message_id ON tickets(message_id) WHERE message_id IS NOT NULL;
    CREATE INDEX tickets_content_key ON tickets(content_key, received_at);
    CREATE INDEX tickets_created_at ON tickets(created_at);
    CREATE TABLE cursors (
        source TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE ledger (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        ticket_id TEXT,
        workflow TEXT NOT NULL,
        tier TEXT NOT NULL,
        model TEXT,
        template TEXT,
        template_version TEXT,
        tokens_in INTEGER NOT NULL DEFAULT 0,
        tokens_out INTEGER NOT NULL DEFAULT 0,
        cached_tokens INTEGER NOT NULL DEFAULT 0,
        seconds REAL NOT NULL DEFAULT 0,
        usd REAL NOT NULL DEFAULT 0,
        baseline_usd REAL NOT NULL DEFAULT 0,
        outcome TEXT NOT NULL
    );
    CREATE INDEX ledger_at ON ledger(at);
    CREATE INDEX ledger_ticket ON ledger(ticket_id);
    CREATE TABLE answer_cache (
        key TEXT PRIMARY KEY,
        scope TEXT NOT NULL,
        answer TEXT NOT NULL,
        created_at TEXT NOT NULL,
        hits INTEGER NOT NULL DEFAULT 0
    );
    """,
    # 2: per-sender counting for mail-loop protection
    """
    CREATE INDEX tickets_sender ON tickets(sender, received_at) WHERE sender IS NOT NULL;
    """,
    # 3: budget reservations: a paid call's worst case, held until its real cost is booked
    """
    CREATE TABLE reservations (
        id INTEGER PRIMARY KEY,
        tier TEXT NOT NULL,
        ticket_id TEXT,
        usd REAL NOT NULL,
        at TEXT NOT NULL
    );
    CREATE INDEX ledger_tier_at ON ledger(tier, at);
    """,
    # 4: scheduled jobs done, so a digest or report is never made twice for one period
    """
    CREATE TABLE jobs_done (
        kind TEXT NOT NULL,
        period TEXT NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (kind, period)
    );
    """,
    # 5: other ids of a ticket: a quarantined file replayed after a fix has new bytes, so a
    # new id; that id is the same ticket, never a second one
    """
    CREATE TABLE aliases (
        id TEXT PRIMARY KEY,
        ticket_id TEXT NOT NULL REFERENCES tickets(id)
    );
    """,
    # 6: deliveries (relay mail, webhooks), made in the transaction of their result; the
    # payload is the exact bytes to send, dropped once sent (triage.delivery.queue)
    """
    CREATE TABLE deliveries (
        key TEXT PRIMARY KEY,
        ticket_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        destination TEXT NOT NULL,
        recipients TEXT NOT NULL,
        payload BLOB,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at TEXT NOT NULL,
        last_error TEXT,
        created_at TEXT NOT NULL,
        done_at TEXT
    );
    CREATE INDEX deliveries_due ON deliveries(kind, state, next_at);
    CREATE INDEX deliveries_ticket ON deliveries(ticket_id);
    """,
    # 7: storms: what identifies the incident a ticket reports, when it happened, and the
    # first report of the same incident (rules/storm.py)
    """
    ALTER TABLE tickets ADD COLUMN incident TEXT;
    ALTER TABLE tickets ADD COLUMN incident_at TEXT;
    ALTER TABLE tickets ADD COLUMN storm_of TEXT;
    CREATE INDEX tickets_incident_at ON tickets(incident_at) WHERE incident IS NOT NULL;
    """,
    # 8: a person's confirmation or correction of a ticket's team (`triage label`), the
    # learned tier's training data from its own use (`triage learn --from-store`)
    """
    CREATE TABLE labels (
        ticket_id TEXT PRIMARY KEY REFERENCES tickets(id),
        team TEXT NOT NULL,
        category TEXT,
        predicted TEXT,              -- the team the result named: a confirmation if the same
        source TEXT NOT NULL,        -- "cli", or the corrections file imported
        at TEXT NOT NULL
    );
    """,
    # 9: which provider a model call went to (a paid fallback, a model server), beside its
    # model, for the ledger and the monthly report
    """
    ALTER TABLE ledger ADD COLUMN provider TEXT;
    """,
    # 10: the crying-wolf guard's memory: the model's recent fresh answers (did it raise the
    # rules' risk; was the guard holding raises back after counting it), in commit order
    """
    CREATE TABLE guard_answers (
        seq INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        ticket_id TEXT NOT NULL,
        model TEXT NOT NULL,
        raised INTEGER NOT NULL,
        held INTEGER NOT NULL
    );
    """,
    # 11: the knowledge index (triage.knowledge): articles and solved tickets, their index
    # terms (folded and stemmed by triage, split on spaces here) in FTS5, ranked by BM25
    """
    CREATE TABLE knowledge (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL UNIQUE,  -- kb/<file> or ticket:<id>
        title TEXT NOT NULL,
        body TEXT NOT NULL,
        digest TEXT NOT NULL,
        tokens INTEGER NOT NULL
    );
    CREATE VIRTUAL TABLE knowledge_fts USING fts5(terms, tokenize = 'unicode61');
    CREATE VIRTUAL TABLE knowledge_vocab USING fts5vocab(knowledge_fts, 'row');
    """,
)


def schema_version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite3.Connection, where: object) -> None:
    """Bring the schema up to date. The version read before the transaction only spares a
    store that is current the write lock; the one that counts is read inside it."""
    if schema_version(db) == len(MIGRATIONS):
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        version = schema_version(db)
        if version > len(MIGRATIONS):
            raise StoreError(
                f"the store {where} has schema version {version}, newer than this "
                f"triage ({len(MIGRATIONS)}): upgrade triage or use another store"
            )
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            for statement in script.split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {number}")
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
