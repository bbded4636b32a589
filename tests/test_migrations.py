import multiprocessing
from uuid import uuid4

import psycopg
import pytest

from shared import migrations


def applied_versions(url: str) -> list[int]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT version FROM schema_migrations ORDER BY 1")
        return [row[0] for row in rows]


def all_versions() -> list[int]:
    return [m.version for m in migrations.discover()]


class TestMigrate:
    def test_builds_the_schema_from_an_empty_database(
        self, empty_database: str
    ) -> None:
        applied = migrations.migrate(empty_database)

        assert [m.version for m in applied] == all_versions()
        assert applied_versions(empty_database) == all_versions()

    def test_second_run_applies_nothing(self, empty_database: str) -> None:
        migrations.migrate(empty_database)

        assert migrations.migrate(empty_database) == []
        assert applied_versions(empty_database) == all_versions()

    @pytest.mark.parametrize("cold_starts", [4, 20])
    def test_cold_starts_at_once_migrate_exactly_once(
        self, empty_database: str, cold_starts: int
    ) -> None:
        context = multiprocessing.get_context("spawn")
        with context.Pool(cold_starts) as pool:
            results = pool.map(_migrate_count, [empty_database] * cold_starts)

        assert sorted(results) == [0] * (cold_starts - 1) + [len(all_versions())]
        assert applied_versions(empty_database) == all_versions()

    def test_rejects_two_files_with_one_version(self, tmp_path: object) -> None:
        from pathlib import Path

        folder = Path(str(tmp_path))
        (folder / "0001_a.sql").write_text("SELECT 1;")
        (folder / "0001_b.sql").write_text("SELECT 1;")

        with pytest.raises(ValueError, match="share a version"):
            migrations.discover(folder)


def _migrate_count(url: str) -> int:
    return len(migrations.migrate(url))


class TestSchemaGuards:
    """The constraints that stop overselling even if a procedure is wrong."""

    def _event_with_type(
        self, conn: psycopg.Connection[tuple[object, ...]]
    ) -> tuple[object, object]:
        user = conn.execute(
            "INSERT INTO users (email, full_name, password_hash) "
            "VALUES (%s, 'Org', 'x') RETURNING id",
            (f"{uuid4().hex}@example.com",),
        ).fetchone()
        assert user is not None
        event = conn.execute(
            "INSERT INTO events (name, venue, starts_at, currency, created_by) "
            "VALUES ('Gig', 'Hall', now() + interval '1 day', 'EUR', %s) RETURNING id",
            (user[0],),
        ).fetchone()
        assert event is not None
        ticket_type = conn.execute(
            "INSERT INTO ticket_types (event_id, name, price_cents, quantity) "
            "VALUES (%s, 'GA', 1000, 2) RETURNING id",
            (event[0],),
        ).fetchone()
        assert ticket_type is not None
        return event[0], ticket_type[0]

    def test_sold_can_never_exceed_quantity(self, database_url: str) -> None:
        with psycopg.connect(database_url) as conn:
            _, ticket_type = self._event_with_type(conn)

            with pytest.raises(psycopg.errors.CheckViolation):
                conn.execute(
                    "UPDATE ticket_types SET sold = 3 WHERE id = %s", (ticket_type,)
                )

    def test_a_seat_never_carries_two_live_tickets(self, database_url: str) -> None:
        with psycopg.connect(database_url) as conn:
            event, ticket_type = self._event_with_type(conn)
            seat = conn.execute(
                "INSERT INTO seats (event_id, ticket_type_id, label) "
                "VALUES (%s, %s, 'A-1') RETURNING id",
                (event, ticket_type),
            ).fetchone()
            user = conn.execute(
                "SELECT created_by FROM events WHERE id = %s", (event,)
            ).fetchone()
            assert seat is not None and user is not None
            order = conn.execute(
                "INSERT INTO orders (user_id, event_id, total_cents, currency) "
                "VALUES (%s, %s, 1000, 'EUR') RETURNING id",
                (user[0], event),
            ).fetchone()
            assert order is not None
            insert_ticket = (
                "INSERT INTO tickets "
                "(code, order_id, event_id, ticket_type_id, seat_id) "
                "VALUES (%s, %s, %s, %s, %s)"
            )
            conn.execute(
                insert_ticket, (uuid4().hex, order[0], event, ticket_type, seat[0])
            )

            with pytest.raises(psycopg.errors.UniqueViolation):
                conn.execute(
                    insert_ticket, (uuid4().hex, order[0], event, ticket_type, seat[0])
                )
