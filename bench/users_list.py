"""How fast the admin's users table answers on 100,000 users.

Creates a database of its own on the machine's PostgreSQL, seeds it with one
INSERT ... SELECT (one precomputed hash for everyone), then times
``GET /users`` through the users function's real ASGI app (FastAPI, the
bearer-token dependency and the service, via Starlette's TestClient) for a
search, filters and each sort, and one login through the auth app. Prints
median and p99 per case. Not a test: run it by hand.

    .venv/bin/python -m bench.users_list [--users 100000] [--runs 50]
"""

import argparse
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from tempfile import TemporaryDirectory

import psycopg
from fastapi.testclient import TestClient
from psycopg import sql

from shared import migrations
from shared import settings as settings_module
from shared.passwords import hash_password
from shared.settings import Settings
from shared.sqlfile import load_queries
from shared.tokens import issue_access_token

queries = load_queries(__file__, "users_list.sql")

PASSWORD = "bench password"
CASES: list[tuple[str, dict[str, str]]] = [
    ("default (-created_at)", {}),
    ("search q=hopper", {"q": "hopper"}),
    ("search q=user4242", {"q": "user4242"}),
    ("search q=% (literal)", {"q": "%"}),
    ("filter role=organizer", {"role": "organizer"}),
    ("filter is_active=false", {"is_active": "false"}),
    ("search+filter+sort", {"q": "smith", "is_active": "true", "sort": "email"}),
    ("role=organizer sort=-full_name", {"role": "organizer", "sort": "-full_name"}),
    ("page 200 of -created_at", {"page": "200"}),
] + [
    (f"sort={direction}{column}", {"sort": f"{direction}{column}"})
    for column in ("created_at", "email", "full_name", "last_login_at")
    for direction in ("", "-")
]


@contextmanager
def bench_database(server_url: str) -> Iterator[str]:
    name = f"eventscale_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield psycopg.conninfo.make_conninfo(server_url, dbname=name)
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name))
            )


def seed(url: str, count: int) -> None:
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            queries["seed_users"],
            {"password_hash": hash_password(PASSWORD), "count": count},
        )
        conn.execute("ANALYZE users")
    print(f"seeded {count} users in {time.perf_counter() - started:.1f} s")


def timings(call: Callable[[], object], runs: int) -> tuple[float, float]:
    for _ in range(3):
        call()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    p99 = statistics.quantiles(samples, n=100, method="inclusive")[98]
    return statistics.median(samples), p99


def run(url: str, runs: int, data_dir: Path) -> None:
    settings_module.configure(
        Settings(
            environment="test",
            database_url=url,
            jwt_secret="bench-secret-" + "b" * 40,
            data_dir=data_dir,
        )
    )
    from functions.auth.handler import app as auth_app
    from functions.users.handler import app as users_app

    with psycopg.connect(url) as conn:
        promoted = conn.execute(queries["promote_one_admin"]).fetchone()
    assert promoted is not None
    admin_id, admin_email = promoted
    token = issue_access_token(admin_id, "admin").token
    headers = {"Authorization": f"Bearer {token}"}

    print(f"{'GET /users case':32} {'total':>7} {'median ms':>10} {'p99 ms':>8}")
    with TestClient(users_app) as client:
        for label, params in CASES:
            answer = client.get("/users", params=params, headers=headers)
            assert answer.status_code == 200, answer.text
            median, p99 = timings(
                partial(client.get, "/users", params=params, headers=headers), runs
            )
            total = answer.json()["total"]
            print(f"{label:32} {total:>7} {median:>10.1f} {p99:>8.1f}")

    body = {"email": admin_email, "password": PASSWORD}
    with TestClient(auth_app) as client:
        median, p99 = timings(lambda: client.post("/auth/login", json=body), 20)
    print(f"{'POST /auth/login (argon2id)':32} {'':>7} {median:>10.1f} {p99:>8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--server-url", default="postgresql://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    with bench_database(args.server_url) as url, TemporaryDirectory() as data_dir:
        migrations.migrate(url)
        seed(url, args.users)
        run(url, args.runs, Path(data_dir))


if __name__ == "__main__":
    main()
