"""How fast the worker turns outbox rows into emails through RabbitMQ.

Creates a database and a broker topology of its own (removed afterwards) on
the machine's PostgreSQL and RabbitMQ, then measures:

- throughput: a backlog of order confirmations is relayed to the broker and
  consumed by one worker; messages handled per second, relay included;
- latency: rows written one at a time and published as after a request's
  commit, with the worker running; time from the row's creation to its
  email file being written, median and p99.

    .venv/bin/python -m bench.worker_throughput --messages 2000 --samples 300
"""

import argparse
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from functions.worker import consumer
from functions.worker.emails import MESSAGE_ID_HEADER
from shared import broker, db, migrations, publisher
from shared import settings as settings_module
from shared.settings import Settings
from tests.conftest import (
    TestEnvironment,
    create_database,
    drop_database,
    make_settings,
)
from tests.worker.conftest import open_channel, order_confirmed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--prefetch", type=int, default=20)
    args = parser.parse_args()

    environment = TestEnvironment()
    name = f"eventscale_bench_{uuid.uuid4().hex[:10]}"
    database_url = create_database(environment.database_url, name)
    try:
        migrations.migrate(database_url)
        with tempfile.TemporaryDirectory() as folder:
            settings = bench_settings(database_url, Path(folder), environment, args)
            run(settings, args)
    finally:
        db.forget_pools()
        drop_database(environment.database_url, name)


def bench_settings(
    database_url: str, folder: Path, environment: TestEnvironment, args: Any
) -> Settings:
    suffix = uuid.uuid4().hex[:10]
    return make_settings(
        database_url,
        folder,
        amqp_url=environment.amqp_url,
        amqp_exchange=f"bench.{suffix}",
        amqp_queue=f"bench.{suffix}.work",
        mail_dir=folder / "mail",
        worker_prefetch=args.prefetch,
        worker_poll_interval=0.2,
        log_level="WARNING",
    )


def run(settings: Settings, args: Any) -> None:
    settings_module.configure(settings)
    stop = threading.Event()
    worker = threading.Thread(
        target=consumer.consume_until_stopped, args=(settings, stop)
    )
    try:
        throughput(settings, args.messages, worker)
        latencies = latency(settings, args.samples)
    finally:
        stop.set()
        worker.join(30)
        publisher.close()
        with open_channel(settings) as channel:
            broker.Topology.from_settings(settings).delete(channel)
    report(args, latencies)


def throughput(settings: Settings, count: int, worker: threading.Thread) -> None:
    assert settings.database_url is not None
    with psycopg.connect(settings.database_url) as conn, conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO outbox (topic, payload) VALUES ('order.confirmed', %s)",
            [(Jsonb(order_confirmed(f"b{n}@example.com")),) for n in range(count)],
        )
    started = time.perf_counter()
    worker.start()
    publisher.relay()
    relayed = time.perf_counter() - started
    wait_for(settings, count)
    elapsed = time.perf_counter() - started
    print(f"backlog of {count} messages: relayed in {relayed:.2f} s, all emailed")
    print(f"  in {elapsed:.2f} s: {count / elapsed:.0f} messages per second")


def latency(settings: Settings, samples: int) -> list[float]:
    assert settings.database_url is not None
    created: dict[str, float] = {}
    processed_before = count_processed(settings)
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        for n in range(samples):
            row = conn.execute(
                "INSERT INTO outbox (topic, payload) VALUES ('order.confirmed', %s) "
                "RETURNING id, extract(epoch FROM created_at)",
                (Jsonb(order_confirmed(f"l{n}@example.com")),),
            ).fetchone()
            assert row is not None
            created[str(row[0])] = float(row[1])
            publisher.publish_ids([row[0]])
    wait_for(settings, processed_before + samples)
    return [
        written - created[message_id]
        for message_id, written in email_times(settings).items()
        if message_id in created
    ]


def email_times(settings: Settings) -> dict[str, float]:
    """When each email was written: the file backend names files by time."""
    times = {}
    for path in settings.mail_path.glob("*.eml"):
        message_id = header(path, MESSAGE_ID_HEADER)
        times[message_id] = int(path.name.split("-")[0]) / 1e9
    return times


def header(path: Path, name: str) -> str:
    for line in path.read_text().splitlines():
        if line.startswith(f"{name}: "):
            return line.split(": ", 1)[1]
    raise ValueError(f"{path} has no {name}")


def wait_for(settings: Settings, total: int) -> None:
    """Until ``total`` messages have been processed since the start."""
    while count_processed(settings) < total:
        time.sleep(0.02)


def count_processed(settings: Settings) -> int:
    assert settings.database_url is not None
    with psycopg.connect(settings.database_url) as conn:
        row = conn.execute("SELECT count(*) FROM processed_messages").fetchone()
    assert row is not None
    return int(row[0])


def report(args: Any, latencies: list[float]) -> None:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * len(ordered)) - 1)]
    print(f"outbox row to email, {len(ordered)} messages written one at a time:")
    print(
        f"  median {statistics.median(ordered) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
