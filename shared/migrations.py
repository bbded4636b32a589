"""Apply the numbered ``.sql`` files of ``shared/sql`` that a database lacks.

Every run happens in one transaction under a transaction-scoped advisory
lock, so that many cold starts at once migrate exactly once: the first takes
the lock and applies; the others wait, then find nothing left to do. The
transaction-scoped kind also works behind a transaction-mode pooler, where
session locks would leak between clients.
"""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import LiteralString

import psycopg

from shared.locks import LockClass
from shared.logs import get_logger

log = get_logger(__name__)

SQL_DIR = Path(__file__).with_name("sql")
_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path

    def sql(self) -> LiteralString:
        # Migration files are part of the code base, never user input.
        return self.path.read_text()


def discover(sql_dir: Path = SQL_DIR) -> list[Migration]:
    migrations = []
    for path in sorted(sql_dir.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if match is None:
            raise ValueError(f"migration file name not understood: {path.name}")
        migrations.append(Migration(int(match[1]), match[2], path))
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise ValueError("two migration files share a version number")
    return migrations


def migrate(database_url: str, sql_dir: Path = SQL_DIR) -> list[Migration]:
    """Apply what is missing; return the migrations that this call applied."""
    with psycopg.connect(database_url, autocommit=False) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s, 0)", (LockClass.MIGRATIONS,))
        conn.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version integer PRIMARY KEY,
                name text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """
        )
        applied = {
            row[0] for row in conn.execute("SELECT version FROM schema_migrations")
        }
        pending = [m for m in discover(sql_dir) if m.version not in applied]
        for migration in pending:
            _apply(conn, migration)
    return pending


def _apply(conn: psycopg.Connection[tuple[object, ...]], migration: Migration) -> None:
    conn.execute(migration.sql())
    conn.execute(
        "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
        (migration.version, migration.name),
    )
    log.info(
        "migration.applied",
        extra={"version": migration.version, "migration": migration.name},
    )
