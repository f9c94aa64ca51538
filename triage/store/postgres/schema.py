"""The PostgreSQL store's schema: the SQLite store's tables (triage.store.schema) in
PostgreSQL's types (moments as timestamptz, a storm signature as text[], payloads as bytea),
versioned in the one-row table `triage_schema`; MIGRATIONS only ever grows.

Several daemons may start at once on a fresh database: `migrate` takes a transaction-level
advisory lock first and reads the version under it, so one of them creates the tables and
the others find them made (DDL is transactional in PostgreSQL: a failed migration leaves
nothing behind).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from triage.errors import StoreError

if TYPE_CHECKING:
    import psycopg

# Advisory lock keys (per database): the migrations, and the one write transaction at a time
# that a look-up and the write it decides need (triage.store.postgres).
MIGRATION_LOCK = 0x7472_6961_6765_0001
COMMIT_LOCK = 0x7472_6961_6765_0002

MIGRATIONS: tuple[str, ...] = (
    # 1: everything the SQLite store has after its migrations 1-8, and the fleet's tables
    """
    CREATE TABLE tickets (
        id TEXT PRIMARY KEY,
        source TEXT NOT NULL,
        source_ref TEXT NOT NULL,
        message_id TEXT,
        content_key TEXT,
        sender TEXT,
        received_at TIMESTAMPTZ NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        status TEXT NOT NULL,
        status_reason TEXT,
        duplicate_of TEXT,
        category TEXT NOT NULL,
        priority TEXT NOT NULL,
        risk TEXT NOT NULL,
        sensitivity TEXT NOT NULL,
        tier TEXT NOT NULL,
        workflow TEXT NOT NULL,
        cost_usd DOUBLE PRECISION NOT NULL DEFAULT 0,
        result TEXT NOT NULL,
        incident TEXT[],
        incident_at TIMESTAMPTZ,
        storm_of TEXT
    );
    CREATE INDEX tickets_message_id ON tickets(message_id) WHERE message_id IS NOT NULL;
    CREATE INDEX tickets_content_key ON tickets(content_key, received_at);
    CREATE INDEX tickets_created_at ON tickets(created_at);
    CREATE INDEX tickets_sender ON tickets(sender, received_at) WHERE sender IS NOT NULL;
    CREATE INDEX tickets_incident_at ON tickets(incident_at) WHERE incident IS NOT NULL;
    CREATE TABLE cursors (
        source TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE ledger (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at TIMESTAMPTZ NOT NULL,
        ticket_id TEXT,
        workflow TEXT NOT NULL,
        tier TEXT NOT NULL,
        model TEXT,
        template TEXT,
        template_version TEXT,
        tokens_in INTEGER NOT NULL DEFAULT 0,
        tokens_out INTEGER NOT NULL DEFAULT 0,
        cached_tokens INTEGER NOT NULL DEFAULT 0,
        seconds DOUBLE PRECISION NOT NULL DEFAULT 0,
        usd DOUBLE PRECISION NOT NULL DEFAULT 0,
        baseline_usd DOUBLE PRECISION NOT NULL DEFAULT 0,
        outcome TEXT NOT NULL
    );
    CREATE INDEX ledger_at ON ledger(at);
    CREATE INDEX ledger_ticket ON ledger(ticket_id);
    CREATE INDEX ledger_tier_at ON ledger(tier, at);
    CREATE TABLE answer_cache (
        key TEXT PRIMARY KEY,
        scope TEXT NOT NULL,
        answer TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        hits INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE reservations (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        tier TEXT NOT NULL,
        ticket_id TEXT,
        usd DOUBLE PRECISION NOT NULL,
        at TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE jobs_done (
        kind TEXT NOT NULL,
        period TEXT NOT NULL,
        at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (kind, period)
    );
    CREATE TABLE aliases (
        id TEXT PRIMARY KEY,
        ticket_id TEXT NOT NULL REFERENCES tickets(id)
    );
    CREATE TABLE deliveries (
        seq BIGINT GENERATED ALWAYS AS IDENTITY,
        key TEXT PRIMARY KEY,
        ticket_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        destination TEXT NOT NULL,
        recipients TEXT NOT NULL,
        payload BYTEA,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at TIMESTAMPTZ NOT NULL,
        last_error TEXT,
        created_at TIMESTAMPTZ NOT NULL,
        done_at TIMESTAMPTZ
    );
    CREATE INDEX deliveries_due ON deliveries(kind, state, next_at);
    CREATE INDEX deliveries_ticket ON deliveries(ticket_id);
    CREATE TABLE labels (
        ticket_id TEXT PRIMARY KEY REFERENCES tickets(id),
        team TEXT NOT NULL,
        category TEXT,
        predicted TEXT,
        source TEXT NOT NULL,
        at TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        until TIMESTAMPTZ NOT NULL,
        since TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE nodes (
        name TEXT PRIMARY KEY,
        pid INTEGER NOT NULL,
        seen_at TIMESTAMPTZ NOT NULL,
        status TEXT NOT NULL
    );
    """,
    # 2: which provider a model call went to (a paid fallback, a model server)
    """
    ALTER TABLE ledger ADD COLUMN provider TEXT;
    """,
    # 3: the crying-wolf guard's memory (the SQLite store's migration 10): the model's recent
    # fresh answers of every daemon, in commit order (written under the commit lock)
    """
    CREATE TABLE guard_answers (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at TIMESTAMPTZ NOT NULL,
        ticket_id TEXT NOT NULL,
        model TEXT NOT NULL,
        raised BOOLEAN NOT NULL,
        held BOOLEAN NOT NULL
    );
    """,
    # 4: which process holds a lease (host:pid:random): two daemons started under one node
    # name are told apart, and the second is refused
    """
    ALTER TABLE leases ADD COLUMN instance TEXT NOT NULL DEFAULT '';
    """,
    # 5: the knowledge index (the SQLite store's migration 11): the terms come folded and
    # stemmed by triage, so the 'simple' configuration only splits them
    """
    CREATE TABLE knowledge (
        source TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        body TEXT NOT NULL,
        digest TEXT NOT NULL,
        terms TEXT NOT NULL,
        tokens INTEGER NOT NULL,
        tsv TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple', terms)) STORED
    );
    CREATE INDEX knowledge_tsv ON knowledge USING GIN (tsv);
    """,
    # 6: the knowledge index as postings (a term, a document, how often it holds the term):
    # BM25 summed from an index range per query term instead of unnesting the tsvector of
    # every candidate document (bench/knowledge_latency.py at 55,000 documents: 978 ms a
    # suggestion before, 150 ms after). The postings are filled from the terms already
    # indexed; the primary key carries the count and the length, so a term's postings are
    # read from the index alone.
    """
    ALTER TABLE knowledge ADD COLUMN id BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE;
    CREATE TABLE knowledge_postings (
        term TEXT NOT NULL,
        doc BIGINT NOT NULL REFERENCES knowledge (id) ON DELETE CASCADE,
        tf INTEGER NOT NULL,
        tokens INTEGER NOT NULL,
        PRIMARY KEY (term, doc) INCLUDE (tf, tokens)
    );
    CREATE INDEX knowledge_postings_doc ON knowledge_postings (doc);
    INSERT INTO knowledge_postings (term, doc, tf, tokens)
        SELECT t, k.id, count(*), k.tokens
        FROM knowledge k, unnest(string_to_array(k.terms, ' ')) t
        WHERE t <> '' GROUP BY t, k.id, k.tokens;
    DROP INDEX knowledge_tsv;
    ALTER TABLE knowledge DROP COLUMN tsv;
    CREATE INDEX knowledge_tokens ON knowledge (tokens);
    ANALYZE knowledge;
    ANALYZE knowledge_postings;
    """,
)


def schema_version(db: psycopg.Connection[tuple[object, ...]]) -> int:
    exists = db.execute("SELECT to_regclass('triage_schema') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return 0
    row = db.execute("SELECT coalesce(max(version), 0) FROM triage_schema").fetchone()
    return int(str(row[0])) if row else 0


def migrate(db: psycopg.Connection[tuple[object, ...]], where: str) -> None:
    """Bring the schema up to date, once, whoever else starts at the same moment. `db` is in
    autocommit mode; the migrations run in one transaction under the migration lock."""
    if schema_version(db) == len(MIGRATIONS):
        return
    with db.transaction():
        db.execute("SELECT pg_advisory_xact_lock(%s::int8)", (MIGRATION_LOCK,))
        db.execute("CREATE TABLE IF NOT EXISTS triage_schema (version INTEGER NOT NULL)")
        version = schema_version(db)
        if version > len(MIGRATIONS):
            raise StoreError(
                f"the store {where} has schema version {version}, newer than this "
                f"triage ({len(MIGRATIONS)}): upgrade triage or use another store"
            )
        for script in MIGRATIONS[version:]:
            db.execute(script.encode("utf-8"))  # several statements: sent as one, unprepared
        db.execute("DELETE FROM triage_schema")
        db.execute("INSERT INTO triage_schema (version) VALUES (%s)", (len(MIGRATIONS),))
