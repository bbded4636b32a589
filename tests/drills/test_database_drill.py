"""Drill: the app's database connections are killed while buyers storm.

Buyers send purchases over real HTTP, each with an Idempotency-Key that it
sends again after a 503, as a client following the API would. Meanwhile
every connection the app holds to this test's database is terminated, again
and again. Whatever a request was doing when its connection died, it either
succeeded or answered 503 in the error shape, and the database holds exactly
one whole order per key.
"""

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx2 as httpx
import pytest
from fastapi import FastAPI

from shared.settings import Settings
from tests.conftest import TestUser
from tests.drills.conftest import terminate_app_connections
from tests.live_server import live_server
from tests.sales.conftest import EventFactory, Json, items, run_sql

BUYERS = 12
ORDERS_EACH = 8
# Kill every connection each time this many more answers have come back:
# tied to the storm's progress, not to the clock, so every round lands mid-storm.
KILL_EVERY_ANSWERS = 12
KILL_ROUNDS = 5
WATCH_PAUSE_SECONDS = 0.005
# A bound on retries per order, so that a broken service fails the test
# instead of hanging it; the drill's retries wait far less than Retry-After.
ATTEMPTS_PER_ORDER = 60
RETRY_PAUSE_SECONDS = 0.05
UNAVAILABLE_CODES = {"database_unavailable", "busy"}


@dataclass
class StormRecord:
    answers: list[httpx.Response] = field(default_factory=list)
    orders: dict[str, str] = field(default_factory=dict)  # key -> order id
    killed: int = 0
    rounds: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, key: str, response: httpx.Response) -> None:
        with self.lock:
            self.answers.append(response)
            if response.status_code == 201:
                self.orders[key] = response.json()["id"]

    def unavailable(self) -> list[httpx.Response]:
        return [answer for answer in self.answers if answer.status_code == 503]


@pytest.fixture
def base_url(settings: Settings, local_app: FastAPI) -> Iterator[str]:
    with live_server(local_app) as url:
        yield url


def buy_until_answered(
    http: httpx.Client, event: Json, buyer: TestUser, record: StormRecord
) -> None:
    key = uuid.uuid4().hex
    headers = {**buyer.headers, "Idempotency-Key": key}
    for _ in range(ATTEMPTS_PER_ORDER):
        response = http.post(
            f"/events/{event['id']}/purchase", json=items(event, 1), headers=headers
        )
        record.note(key, response)
        if response.status_code != 503:
            return
        time.sleep(RETRY_PAUSE_SECONDS)


def buyer_session(
    base_url: str, event: Json, buyer: TestUser, record: StormRecord
) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as http:
        for _ in range(ORDERS_EACH):
            buy_until_answered(http, event, buyer, record)


def kill_connections_while(
    running: Callable[[], bool], database_url: str, record: StormRecord
) -> None:
    next_round_at = KILL_EVERY_ANSWERS
    while running() and record.rounds < KILL_ROUNDS:
        if len(record.answers) >= next_round_at:
            record.killed += terminate_app_connections(database_url)
            record.rounds += 1
            next_round_at = len(record.answers) + KILL_EVERY_ANSWERS
        time.sleep(WATCH_PAUSE_SECONDS)


def storm(
    base_url: str, database_url: str, event: Json, buyers: list[TestUser]
) -> StormRecord:
    record = StormRecord()
    with ThreadPoolExecutor(max_workers=BUYERS) as pool:
        sessions = [
            pool.submit(buyer_session, base_url, event, buyer, record)
            for buyer in buyers
        ]
        kill_connections_while(
            lambda: not all(session.done() for session in sessions),
            database_url,
            record,
        )
        for session in sessions:
            session.result()
    return record


def answers_again(base_url: str, path: str, attempts: int) -> list[int]:
    """Statuses of ``path`` asked until it answers 200, then ten times more."""
    statuses: list[int] = []
    with httpx.Client(base_url=base_url, timeout=30) as http:
        while len(statuses) < attempts and 200 not in statuses:
            statuses.append(http.get(path).status_code)
        statuses += [http.get(path).status_code for _ in range(10)]
    return statuses


def one_value(database_url: str, query: str, *params: Any) -> Any:
    [(value,)] = run_sql(database_url, query, *params)
    return value


def test_killed_database_connections_answer_503_or_succeed_and_half_write_nothing(
    base_url: str,
    database_url: str,
    settings: Settings,
    make_event: EventFactory,
    make_user: Callable[..., TestUser],
    say: Callable[[str], None],
) -> None:
    event = make_event(
        ticket_types=[{"name": "General", "price_cents": 2500, "quantity": 1000}]
    )
    buyers = [make_user("customer") for _ in range(BUYERS)]

    record = storm(base_url, database_url, event, buyers)
    say(
        f"database drill: {record.killed} connections killed "
        f"in {record.rounds} rounds, "
        f"{len(record.answers)} answers, {len(record.unavailable())} of them 503"
    )

    assert record.killed > 0, "the drill killed no connection"
    assert record.unavailable(), "no request was caught by a kill"
    assert {answer.status_code for answer in record.answers} <= {201, 503}
    for answer in record.unavailable():
        assert answer.json()["error"] in UNAVAILABLE_CODES, answer.text
        assert isinstance(answer.json()["detail"], str)
        assert int(answer.headers["retry-after"]) >= 1
    # Every key ended in one order, and retries never made a second.
    assert len(record.orders) == BUYERS * ORDERS_EACH
    assert_each_order_whole(database_url, event, set(record.orders.values()))

    # The same server, with the same pool, serves again without a restart.
    statuses = answers_again(
        base_url, f"/events/{event['id']}", attempts=settings.database_pool_max + 1
    )
    assert statuses[-10:] == [200] * 10, statuses


def assert_each_order_whole(
    database_url: str, event: Json, order_ids: set[str]
) -> None:
    stored = {
        str(order_id)
        for (order_id,) in run_sql(
            database_url, "SELECT id FROM orders WHERE event_id = %s", event["id"]
        )
    }
    assert stored == order_ids
    sold, valid_tickets = run_sql(
        database_url,
        "SELECT t.sold, (SELECT count(*) FROM tickets k "
        "WHERE k.ticket_type_id = t.id AND k.status = 'valid') "
        "FROM ticket_types t WHERE t.event_id = %s",
        event["id"],
    )[0]
    assert sold == valid_tickets == len(order_ids)
    orders_without_a_ticket = one_value(
        database_url,
        "SELECT count(*) FROM orders o WHERE NOT EXISTS "
        "(SELECT 1 FROM tickets k WHERE k.order_id = o.id)",
    )
    assert orders_without_a_ticket == 0
    confirmations = one_value(
        database_url,
        "SELECT count(DISTINCT payload->>'order_id') FROM outbox "
        "WHERE topic = 'order.confirmed'",
    )
    assert confirmations == len(order_ids), "an order without its email, or two"
    assert one_value(database_url, "SELECT count(*) FROM outbox") == len(order_ids)
    held = "SELECT count(*) FROM reservations WHERE status = 'held'"
    assert one_value(database_url, held) == 0
