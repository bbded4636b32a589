"""Real parallel buyers on real connections: the guarantees under a storm.

Each thread opens its own PostgreSQL connection and calls the selling
procedures directly, as the purchase function does, so that the database
sees genuinely concurrent transactions.
"""

import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import psycopg
from fastapi.testclient import TestClient
from psycopg.types.json import Jsonb

from tests.conftest import TestUser
from tests.sales.conftest import EventFactory, Json, items, run_sql

ALLOWED_OUTCOMES = {
    "sold_out",
    "seat_unavailable",
    "reservation_expired",
    "busy",
    "refunded",
}

PURCHASE = (
    "SELECT body FROM sales_purchase("
    "%(user)s, %(event)s, %(selection)s, NULL, %(key)s, %(hash)s, NULL)"
)
HOLD = (
    "SELECT body FROM sales_hold("
    "%(user)s, %(event)s, %(selection)s, 600, NULL, %(hash)s)"
)
CONFIRM = "SELECT body FROM sales_confirm(%(user)s, %(reservation)s, NULL, NULL)"
REFUND = "SELECT body FROM sales_refund(%(order)s, %(user)s, 'customer', NULL)"
RUN_OUT = (
    "WITH due AS (UPDATE reservations SET expires_at = now() WHERE id = %(id)s "
    "RETURNING id) "
    "UPDATE reservation_items SET held_until = now() "
    "WHERE reservation_id IN (SELECT id FROM due)"
)
EXPIRE_SOME = (
    "WITH due AS (UPDATE reservations SET expires_at = now() "
    "WHERE id IN (SELECT id FROM reservations WHERE status = 'held' LIMIT 3) "
    "RETURNING id) "
    "UPDATE reservation_items SET held_until = now() "
    "WHERE reservation_id IN (SELECT id FROM due)"
)


class Outcome:
    def __init__(self) -> None:
        self.refusals: Counter[str] = Counter()
        self.lock = threading.Lock()

    def note(self, code: str) -> None:
        with self.lock:
            self.refusals[code] += 1


def attempt(
    conn: psycopg.Connection[Any], query: str, params: Json, outcome: Outcome
) -> Any:
    """The procedure's answer, or None after noting why it refused."""
    try:
        row = conn.execute(query.encode(), params).fetchone()
    except psycopg.errors.RaiseException as exc:
        outcome.note(exc.diag.message_primary or "?")
        return None
    except psycopg.errors.LockNotAvailable:
        outcome.note("busy")
        return None
    assert row is not None
    return row[0]


@contextmanager
def together(threads: int) -> Iterator[tuple[ThreadPoolExecutor, threading.Barrier]]:
    barrier = threading.Barrier(threads, timeout=60)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        yield pool, barrier


def selection(event: Json, rng: random.Random) -> Json:
    floor, balcony = event["ticket_types"][:2]
    chosen: Json = {
        "items": [
            {"ticket_type_id": floor["id"], "quantity": rng.randint(1, 4)},
        ],
        "seats": rng.sample([f"S-{n}" for n in range(1, 13)], rng.randint(0, 3)),
    }
    if rng.random() < 0.5:
        chosen["items"].append(
            {"ticket_type_id": balcony["id"], "quantity": rng.randint(1, 3)}
        )
    return chosen


def buyer_session(
    database_url: str,
    event: Json,
    user: UUID,
    seed: int,
    barrier: threading.Barrier,
    outcome: Outcome,
) -> None:
    """Buy, hold then confirm, and sometimes cancel, as a restless buyer would."""
    rng = random.Random(seed)
    base = {"user": user, "event": event["id"], "key": None, "hash": b"h"}
    with psycopg.connect(database_url, autocommit=True) as conn:
        barrier.wait()
        for _ in range(3):
            params = {**base, "selection": Jsonb(selection(event, rng))}
            if rng.random() < 0.5:
                order = attempt(conn, PURCHASE, params, outcome)
            else:
                held = attempt(conn, HOLD, params, outcome)
                if held and rng.random() < 0.3:
                    conn.execute(RUN_OUT.encode(), {"id": held["id"]})
                confirm = {"user": user, "reservation": held and held["id"]}
                order = held and attempt(conn, CONFIRM, confirm, outcome)
            if order and rng.random() < 0.3:
                refund = {"order": order["id"], "user": user}
                if attempt(conn, REFUND, refund, outcome):
                    outcome.note("refunded")


def time_passes(database_url: str, stop: threading.Event, outcome: Outcome) -> None:
    """Holds run out now and then, and a sweeper sometimes tidies up."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        while not stop.is_set():
            conn.execute(EXPIRE_SOME.encode())
            attempt(conn, "SELECT sales_expire_holds(100)", {}, outcome)
            stop.wait(0.01)


def assert_inventory_consistent(database_url: str, event_id: str) -> None:
    rows = run_sql(
        database_url,
        "SELECT t.name, t.quantity, t.sold, "
        "  (SELECT count(*) FROM tickets k "
        "   WHERE k.ticket_type_id = t.id AND k.status = 'valid'), "
        "  sales_held(t.id, clock_timestamp()) "
        "FROM ticket_types t WHERE t.event_id = %s",
        event_id,
    )
    for name, quantity, sold, valid_tickets, held in rows:
        assert 0 <= sold <= quantity, name
        assert sold == valid_tickets, name
        assert sold + held <= quantity, name
    doubled = run_sql(
        database_url,
        "SELECT seat_id FROM tickets WHERE status = 'valid' AND seat_id IS NOT NULL "
        "GROUP BY seat_id HAVING count(*) > 1",
    )
    assert doubled == []


def test_purchase_never_oversells_under_concurrent_buyers(
    client: TestClient,
    make_event: EventFactory,
    make_user: Callable[..., TestUser],
    database_url: str,
) -> None:
    event = make_event(
        ticket_types=[
            {"name": "Floor", "price_cents": 3000, "quantity": 30},
            {"name": "Balcony", "price_cents": 2000, "quantity": 12},
            {
                "name": "Seated",
                "price_cents": 5000,
                "seats": [f"S-{n}" for n in range(1, 13)],
            },
        ]
    )
    buyers = [make_user().id for _ in range(50)]
    outcome, stop = Outcome(), threading.Event()

    with together(len(buyers)) as (pool, barrier):
        clock = threading.Thread(target=time_passes, args=(database_url, stop, outcome))
        clock.start()
        sessions = [
            pool.submit(
                buyer_session, database_url, event, user, seed, barrier, outcome
            )
            for seed, user in enumerate(buyers)
        ]
        try:
            for session in sessions:
                session.result()
        finally:
            stop.set()
            clock.join()

    assert set(outcome.refusals) <= ALLOWED_OUTCOMES
    assert outcome.refusals["sold_out"] > 0
    assert outcome.refusals["refunded"] > 0
    assert outcome.refusals["reservation_expired"] > 0
    assert_inventory_consistent(database_url, event["id"])
    sells_the_rest_and_not_one_more(client, event, make_user())


def sells_the_rest_and_not_one_more(
    client: TestClient, event: Json, buyer: TestUser
) -> None:
    """Whatever the storm left is still for sale, exactly."""
    url = f"/events/{event['id']}/purchase"
    fresh = client.get(f"/events/{event['id']}").json()
    for index, ticket_type in enumerate(fresh["ticket_types"][:2]):
        left = ticket_type["available"]
        while left > 0:
            batch = min(left, 10)
            response = client.post(
                url, json=items(event, batch, index), headers=buyer.headers
            )
            assert response.status_code == 201, response.text
            left -= batch
        extra = client.post(url, json=items(event, 1, index), headers=buyer.headers)
        assert extra.json()["error"] == "sold_out"


def one_of_each(event: Json, user: UUID, reverse: bool) -> Json:
    """Procedure parameters buying one ticket of every type, listed forwards
    or backwards."""
    ids = [t["id"] for t in event["ticket_types"]]
    order = list(reversed(ids)) if reverse else ids
    chosen = {"items": [{"ticket_type_id": i, "quantity": 1} for i in order]}
    return {
        "user": user,
        "event": event["id"],
        "key": None,
        "hash": b"h",
        "selection": Jsonb(chosen),
    }


def test_opposite_order_selections_never_deadlock(
    make_event: EventFactory,
    make_user: Callable[..., TestUser],
    database_url: str,
) -> None:
    event = make_event(
        max_per_order=10,
        ticket_types=[
            {"name": "A", "price_cents": 100, "quantity": 10_000},
            {"name": "B", "price_cents": 100, "quantity": 10_000},
            {"name": "C", "price_cents": 100, "quantity": 10_000},
        ],
    )
    buyers = [make_user().id for _ in range(40)]
    outcome = Outcome()

    def storm(user: UUID, seed: int, barrier: threading.Barrier) -> int:
        params = one_of_each(event, user, reverse=seed % 2 == 0)
        done = 0
        with psycopg.connect(database_url, autocommit=True) as conn:
            barrier.wait()
            for round_ in range(8):
                query = PURCHASE if round_ % 2 else HOLD
                done += attempt(conn, query, params, outcome) is not None
        return done

    with together(len(buyers)) as (pool, barrier):
        results = [
            pool.submit(storm, user, seed, barrier) for seed, user in enumerate(buyers)
        ]
        succeeded = sum(result.result() for result in results)

    # A deadlock would have raised; on a loaded machine a wait may time out.
    assert set(outcome.refusals) <= {"busy"}
    assert succeeded + outcome.refusals["busy"] == len(buyers) * 8
    assert_inventory_consistent(database_url, event["id"])


def test_one_idempotency_key_sent_concurrently_makes_one_order(
    client: TestClient,
    make_event: EventFactory,
    customer: TestUser,
    database_url: str,
) -> None:
    event = make_event()
    headers = {**customer.headers, "Idempotency-Key": "checkout-42"}
    url = f"/events/{event['id']}/purchase"
    barrier = threading.Barrier(10, timeout=60)

    def send() -> tuple[int, Json]:
        barrier.wait()
        response = client.post(url, json=items(event, 2), headers=headers)
        return response.status_code, response.json()

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(lambda _: send(), range(10)))

    assert {status for status, _ in answers} == {201}
    assert len({body["id"] for _, body in answers}) == 1
    assert run_sql(database_url, "SELECT count(*) FROM orders") == [(1,)]
    assert (
        client.get(f"/events/{event['id']}").json()["ticket_types"][0]["available"] == 8
    )


def test_a_stuck_lock_answers_busy_and_the_next_attempt_succeeds(
    client: TestClient,
    make_event: EventFactory,
    customer: TestUser,
    database_url: str,
) -> None:
    event = make_event()
    headers = {**customer.headers, "Idempotency-Key": "stuck-lock-drill"}

    def reserve() -> Any:
        path = f"/events/{event['id']}/reservations"
        return client.post(path, json=items(event, 1), headers=headers)

    with psycopg.connect(database_url) as blocker:
        blocker.execute(
            b"SELECT pg_advisory_xact_lock(3, hashtext(%s::text))", (event["id"],)
        )
        blocker.execute(b"SELECT 1")  # the lock is now held by an open transaction
        blocked = reserve()
        blocker.rollback()
    retried = reserve()

    assert blocked.status_code == 503
    assert blocked.json()["error"] == "busy"
    assert blocked.headers["retry-after"] == "1"
    # The refusal stored nothing: the same key runs the request afresh.
    assert retried.status_code == 201, retried.text
    assert run_sql(database_url, "SELECT count(*) FROM reservations") == [(1,)]


def test_capacity_changes_during_a_storm_never_deadlock_or_undercut_sales(
    client: TestClient,
    make_event: EventFactory,
    make_user: Callable[..., TestUser],
    organizer: TestUser,
    database_url: str,
) -> None:
    event = make_event(
        ticket_types=[
            {"name": "A", "price_cents": 100, "quantity": 40},
            {"name": "B", "price_cents": 100, "quantity": 40},
        ]
    )
    ids = [t["id"] for t in event["ticket_types"]]
    buyers = [make_user().id for _ in range(30)]
    outcome, statuses = Outcome(), Counter[int]()

    def organiser(barrier: threading.Barrier) -> None:
        barrier.wait()
        for quantity in (30, 60, 20, 80, 25, 45):
            patch = {
                "name": f"Renamed {quantity}",
                "ticket_types": [
                    {"id": ids[0], "quantity": quantity, "price_cents": quantity},
                    {"id": ids[1], "quantity": quantity},
                ],
            }
            response = client.patch(
                f"/events/{event['id']}", json=patch, headers=organizer.headers
            )
            statuses[response.status_code] += 1

    def buyer(user: UUID, seed: int, barrier: threading.Barrier) -> None:
        params = one_of_each(event, user, reverse=seed % 2 == 0)
        with psycopg.connect(database_url, autocommit=True) as conn:
            barrier.wait()
            for _ in range(3):
                attempt(conn, PURCHASE, params, outcome)

    with together(len(buyers) + 1) as (pool, barrier):
        runs = [pool.submit(organiser, barrier)]
        runs += [pool.submit(buyer, u, n, barrier) for n, u in enumerate(buyers)]
        for run in runs:
            run.result()

    assert set(outcome.refusals) <= {"sold_out", "busy"}
    assert set(statuses) <= {200, 409, 503}
    assert_inventory_consistent(database_url, event["id"])
