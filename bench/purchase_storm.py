"""Purchase storm: many buyers on one hot ticket type until it sells out.

    .venv/bin/python -m bench.purchase_storm postgresql://postgres@127.0.0.1/db

Migrates the database it is given, creates an event of its own, lets BUYERS
threads (one connection each) call the purchase procedure one ticket at a
time until sold out, and prints throughput and latency. Every call is the
single statement that POST /events/{id}/purchase sends.
"""

import argparse
import statistics
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from shared import migrations
from shared.sqlfile import load_queries

queries = load_queries(__file__, "purchase_storm.sql")


def prepare(url: str, buyers: int, quantity: int, holds: int) -> dict[str, Any]:
    migrations.migrate(url)
    with psycopg.connect(url, row_factory=dict_row) as conn:
        run = uuid.uuid4().hex[:8]
        users = conn.execute(
            queries["create_buyers"], {"run": run, "buyers": buyers}
        ).fetchall()
        organizer, *customers = [row["id"] for row in users]
        created = conn.execute(
            queries["create_event"], {"organizer": organizer, "quantity": quantity}
        ).fetchone()
        assert created is not None
        setup = {"event": created["event_id"], "ticket_type": created["id"]}
        setup["users"] = customers
        selection = Jsonb(
            {"items": [{"ticket_type_id": str(created["id"]), "quantity": 1}]}
        )
        setup["selection"] = selection
        for user in customers[:holds]:
            conn.execute(queries["hold_some"], {**setup, "user": user})
    return setup


def buyer(
    url: str, setup: dict[str, Any], user: Any, start: threading.Barrier
) -> list[float]:
    latencies: list[float] = []
    params = {**setup, "user": user}
    with psycopg.connect(url, autocommit=True) as conn:
        start.wait()
        while True:
            began = time.perf_counter()
            try:
                conn.execute(queries["purchase"], params).fetchone()
            except psycopg.errors.RaiseException:
                return latencies  # sold out
            latencies.append(time.perf_counter() - began)


def pgbench_command(url: str, setup: dict[str, Any]) -> str:
    variables = {
        "user": setup["users"][0],
        "event": setup["event"],
        "ticket_type": setup["ticket_type"],
    }
    defines = " ".join(f"-D {name}={value}" for name, value in variables.items())
    return (
        f"pgbench -n -M prepared -c 16 -j 2 -T 10 -f bench/purchase.pgbench "
        f"{defines} '{url}'"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database_url")
    parser.add_argument("--buyers", type=int, default=32)
    parser.add_argument("--quantity", type=int, default=5000)
    parser.add_argument("--holds", type=int, default=16, help="live holds meanwhile")
    parser.add_argument(
        "--prepare-only",
        action="store_true",
        help="create the event and print a pgbench command instead of running",
    )
    args = parser.parse_args()

    setup = prepare(args.database_url, args.buyers, args.quantity, args.holds)
    if args.prepare_only:
        print(pgbench_command(args.database_url, setup))
        return
    barrier = threading.Barrier(args.buyers)
    began = time.perf_counter()
    with ThreadPoolExecutor(args.buyers) as pool:
        runs = [
            pool.submit(buyer, args.database_url, setup, user, barrier)
            for user in setup["users"]
        ]
        latencies = sorted(t for run in runs for t in run.result())
    elapsed = time.perf_counter() - began

    with psycopg.connect(args.database_url, row_factory=dict_row) as conn:
        result = conn.execute(queries["result"], setup).fetchone()
    assert result is not None
    print(f"buyers {args.buyers}, tickets {args.quantity}, live holds {result['held']}")
    print(f"sold {result['sold']} (tickets {result['tickets']}) in {elapsed:.2f}s")
    print(f"throughput {len(latencies) / elapsed:.0f} purchases/s")
    p50 = statistics.median(latencies) * 1000
    p95 = latencies[int(len(latencies) * 0.95)] * 1000
    print(
        f"latency p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {latencies[-1] * 1000:.1f} ms"
    )
    oversold = result["sold"] + result["held"] > result["quantity"]
    print("oversold: NO" if not oversold else "oversold: YES (bug)")


if __name__ == "__main__":
    main()
