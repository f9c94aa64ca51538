"""The store on PostgreSQL (`[store] url`): several daemons share it. psycopg 3 and its pool
are the `postgres` extra; nothing outside triage.store imports this package but `open_store`."""

from triage.store import safe_url
from triage.store.postgres.store import NodeSeen, PostgresStore

__all__ = ["NodeSeen", "PostgresStore", "safe_url"]
