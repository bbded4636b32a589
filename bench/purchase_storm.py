"""The purchase path under an on-sale storm, side by side with the database's
own ceiling.

In one run, at one concurrency, against the machine's PostgreSQL:

1. ``sql``    pgbench calls the purchase procedure directly: the ceiling.
2. ``hot``    wrk buys one ticket at a time on ONE hot ticket type through
              ``POST /events/{id}/purchase`` with real bearer tokens of many
              buyers and a fresh ``Idempotency-Key`` each.
3. ``spread`` the same load spread over 100 events.
4. ``sellout`` the storm on a small event until it is sold out.

Afterwards the tickets sold beyond capacity are counted from the database
(must be 0). The last line is machine-readable::

    purchase_vs_ceiling=… hot_vs_spread=… oversold=… api_rps=… sql_tps=…
    p50_ms=… p99_ms=…   (all on one line)

Run with ``make bench`` (or ``.venv/bin/python -m bench.purchase_storm --help``).
"""

import argparse
import json
import math
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import psycopg
from psycopg import sql

from shared import migrations
from shared import settings as settings_module
from shared.settings import Settings
from shared.tokens import issue_access_token

SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
JWT_SECRET = "bench-secret-" + "b" * 40
HOT_QUANTITY = 10_000_000
SELLOUT_QUANTITY = 500
SPREAD_EVENTS = 100
BUYERS = 2_000
WRK_SCRIPT = Path(__file__).with_name("purchase.lua")
PGBENCH_SCRIPT = Path(__file__).with_name("purchase_pgbench.sql")


@dataclass
class Phase:
    name: str
    rate: float
    succeeded: int
    failed: int
    server_errors: int
    p50_ms: float
    p99_ms: float
    # The API process's CPU time (user + system) per answered request.
    cpu_us: float = float("nan")


@dataclass
class Seed:
    hot_event: str
    hot_ticket_type: str
    spread_targets: list[tuple[str, str]]
    sellout_event: str
    sellout_ticket_type: str
    buyer_ids: list[str]
    tokens: list[str]


# Set-up ---------------------------------------------------------------------


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing: installing it with apt-get", file=sys.stderr)
    subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True)
    return shutil.which("wrk") or "wrk"


@contextmanager
def bench_database(server_url: str) -> Iterator[str]:
    name = f"eventscale_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = psycopg.conninfo.make_conninfo(server_url, dbname=name)
    try:
        migrations.migrate(url)
        yield url
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(name)
                )
            )


def seed(database_url: str) -> Seed:
    with psycopg.connect(database_url) as conn:
        organizer = _insert_user(conn, "organizer@bench.example", "organizer")
        hot_event, hot_type = _published_event(conn, organizer, "Hot", HOT_QUANTITY)
        spread = [
            _published_event(conn, organizer, f"Spread {n}", HOT_QUANTITY)
            for n in range(SPREAD_EVENTS)
        ]
        sellout_event, sellout_type = _published_event(
            conn, organizer, "Small", SELLOUT_QUANTITY
        )
        buyers = _insert_buyers(conn, BUYERS)
    tokens = [issue_access_token(uuid.UUID(b), "customer").token for b in buyers]
    return Seed(
        hot_event, hot_type, spread, sellout_event, sellout_type, buyers, tokens
    )


def _insert_user(conn: psycopg.Connection[Any], email: str, role: str) -> str:
    row = conn.execute(
        "INSERT INTO users (email, full_name, role, password_hash) "
        "VALUES (%s, 'Bench', %s, 'not-a-hash') RETURNING id::text",
        (email, role),
    ).fetchone()
    assert row is not None
    return str(row[0])


def _insert_buyers(conn: psycopg.Connection[Any], count: int) -> list[str]:
    rows = conn.execute(
        "INSERT INTO users (email, full_name, password_hash) "
        "SELECT 'buyer' || n || '@bench.example', 'Buyer ' || n, 'not-a-hash' "
        "FROM generate_series(1, %s) AS n RETURNING id::text",
        (count,),
    ).fetchall()
    return [str(row[0]) for row in rows]


def _published_event(
    conn: psycopg.Connection[Any], organizer: str, name: str, quantity: int
) -> tuple[str, str]:
    event = conn.execute(
        "INSERT INTO events (name, venue, starts_at, currency, created_by, status,"
        " max_per_order) VALUES (%s, 'Arena', now() + interval '30 days', 'EUR',"
        " %s, 'published', 10) RETURNING id::text",
        (name, organizer),
    ).fetchone()
    assert event is not None
    ticket_type = conn.execute(
        "INSERT INTO ticket_types (event_id, name, price_cents, quantity) "
        "VALUES (%s, 'General', 2500, %s) RETURNING id::text",
        (event[0], quantity),
    ).fetchone()
    assert ticket_type is not None
    return str(event[0]), str(ticket_type[0])


@dataclass
class ApiServer:
    url: str
    pid: int


@contextmanager
def api_server(database_url: str, args: argparse.Namespace) -> Iterator[ApiServer]:
    port, workers, pool = args.port, args.workers, args.pool
    loop, http = args.loop, args.http
    env = {
        "PATH": os.environ.get("PATH", ""),
        "ENVIRONMENT": "production",
        "DATABASE_URL": database_url,
        "JWT_SECRET": JWT_SECRET,
        "LOG_LEVEL": "WARNING",
        "DATABASE_POOL_MIN": str(pool),
        "DATABASE_POOL_MAX": str(pool),
        # Production reaches Neon through its transaction pooler, where
        # server-side prepared statements are off; measure that path.
        "DATABASE_PREPARE": "true" if args.prepare else "false",
    }
    command = [
        sys.executable, "-m", "uvicorn", "shared.local:build_local_app",
        "--factory", "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(workers), "--loop", loop, "--http", http,
        "--no-access-log", "--log-level", "warning", "--no-proxy-headers",
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_health(base_url, process)
        yield ApiServer(base_url, process.pid)
    finally:
        process.terminate()
        process.wait(30)


def _wait_for_health(base_url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the API server exited during start-up")
        try:
            if httpx2.get(f"{base_url}/health", timeout=1).status_code == 200:
                return
        except httpx2.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the API server did not become healthy")


# Load -----------------------------------------------------------------------


@dataclass
class Load:
    targets: list[tuple[str, str]]
    tokens: list[str]
    connections: int
    seconds: int


def run_wrk(wrk: str, base_url: str, load: Load, name: str) -> Phase:
    with tempfile.TemporaryDirectory() as folder:
        setup = Path(folder) / "setup.lua"
        setup.write_text(_lua_setup(load.targets, load.tokens))
        command = [
            wrk, "-t", "2", "-c", str(load.connections), "-d", f"{load.seconds}s",
            "--latency", "-s", str(WRK_SCRIPT), base_url, "--", str(setup),
        ]  # fmt: skip
        output = subprocess.run(
            command, capture_output=True, text=True, check=True
        ).stdout
    return _parse_wrk(name, output)


def _lua_setup(targets: list[tuple[str, str]], tokens: list[str]) -> str:
    lua_targets = ",".join(f'{{"{event}","{tt}"}}' for event, tt in targets)
    lua_tokens = ",".join(f'"{token}"' for token in tokens)
    return f"targets = {{{lua_targets}}}\ntokens = {{{lua_tokens}}}\n"


def _parse_wrk(name: str, output: str) -> Phase:
    summary = json.loads(output.strip().splitlines()[-1])
    seconds = summary["duration_us"] / 1e6
    return Phase(
        name=name,
        rate=summary["ok"] / seconds,
        succeeded=summary["ok"],
        failed=summary["failed"],
        server_errors=summary["server_errors"],
        p50_ms=summary["p50_us"] / 1000,
        p99_ms=summary["p99_us"] / 1000,
    )


def run_pgbench(
    database_url: str, seed_data: Seed, connections: int, seconds: int
) -> Phase:
    buyers_list = ",".join(f"'{b}'" for b in seed_data.buyer_ids)
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "purchase.sql"
        script.write_text(
            PGBENCH_SCRIPT.read_text()
            .replace("__TICKET_TYPE__", seed_data.hot_ticket_type)
            .replace("__EVENT__", seed_data.hot_event)
            .replace("__BUYERS__", buyers_list)
            .replace("__BUYER_COUNT__", str(len(seed_data.buyer_ids)))
        )
        log_prefix = Path(folder) / "latencies"
        command = [
            "pgbench", "--no-vacuum", "-n", "-M", "prepared",
            "-c", str(connections), "-j", "2", "-T", str(seconds),
            "--log", f"--log-prefix={log_prefix}", "-f", str(script), database_url,
        ]  # fmt: skip
        output = subprocess.run(
            command, capture_output=True, text=True, check=True
        ).stdout
        latencies_ms = _pgbench_latencies_ms(Path(folder).glob("latencies.*"))
    tps = float(_pgbench_figure(r"tps = ([\d.]+)", output))
    done = int(_pgbench_figure(r"actually processed: (\d+)", output))
    failed_match = re.search(r"number of failed transactions: (\d+)", output)
    failed = int(failed_match[1]) if failed_match else 0
    p50, p99 = _percentiles(latencies_ms)
    return Phase("sql", tps, done, failed, 0, p50, p99)


def _pgbench_latencies_ms(logs: Iterable[Path]) -> list[float]:
    """Each successful transaction's latency from pgbench's per-transaction
    logs (one per thread; the third field is the latency in microseconds, or
    ``failed``)."""
    latencies = []
    for log in logs:
        for line in log.read_text().splitlines():
            field = line.split()[2]
            if field.isdigit():
                latencies.append(int(field) / 1000)
    return latencies


def _percentiles(values: list[float]) -> tuple[float, float]:
    if len(values) < 2:
        return float("nan"), float("nan")
    cuts = statistics.quantiles(values, n=100)
    return cuts[49], cuts[98]


def _pgbench_figure(pattern: str, output: str) -> str:
    match = re.search(pattern, output)
    if match is None:
        raise RuntimeError(f"pgbench printed no {pattern!r}:\n{output}")
    return match[1]


# Verdict --------------------------------------------------------------------


def count_oversold(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            """
            SELECT coalesce(sum(greatest(live - quantity, 0)), 0)
            FROM (
                SELECT tt.quantity,
                       count(t.id) FILTER (WHERE t.status = 'valid') AS live
                FROM ticket_types tt
                LEFT JOIN tickets t ON t.ticket_type_id = tt.id
                GROUP BY tt.id
            ) AS per_type
            """
        ).fetchone()
    assert row is not None
    return int(row[0])


def print_report(phases: list[Phase], oversold: int) -> None:
    print(f"{'phase':<9}{'rate/s':>10}{'ok':>9}{'failed':>8}{'5xx':>6}"
          f"{'p50 ms':>9}{'p99 ms':>9}{'cpu us':>9}")  # fmt: skip
    for p in phases:
        print(f"{p.name:<9}{p.rate:>10.1f}{p.succeeded:>9}{p.failed:>8}"
              f"{p.server_errors:>6}{p.p50_ms:>9.2f}{p.p99_ms:>9.2f}"
              f"{_figure(p.cpu_us):>9}")  # fmt: skip
    by_name = {p.name: p for p in phases}
    sql_tps, hot, spread = by_name["sql"].rate, by_name["hot"], by_name["spread"]
    print(
        f"purchase_vs_ceiling={hot.rate / sql_tps:.2f} "
        f"hot_vs_spread={hot.rate / spread.rate:.2f} oversold={oversold} "
        f"api_rps={hot.rate:.0f} sql_tps={sql_tps:.0f} "
        f"p50_ms={hot.p50_ms:.1f} p99_ms={hot.p99_ms:.1f}"
    )


def _figure(value: float) -> str:
    """A whole number, or a dash where the phase has no such figure."""
    return "-" if math.isnan(value) else f"{value:.0f}"


def api_phases(
    wrk: str, server: "ApiServer", seed_data: Seed, args: argparse.Namespace
) -> list[Phase]:
    hot = [(seed_data.hot_event, seed_data.hot_ticket_type)]
    small = [(seed_data.sellout_event, seed_data.sellout_ticket_type)]
    plan = [("hot", hot), ("spread", seed_data.spread_targets), ("sellout", small)]
    # A fresh server's first requests pay for imports, prepared statements
    # and PL/pgSQL plans; without a warm-up the first phase would carry it.
    warm_up = Load(seed_data.spread_targets, seed_data.tokens, args.concurrency, 3)
    run_wrk(wrk, server.url, warm_up, "warm-up")
    phases = []
    for name, targets in plan:
        with profiled(server.pid, args.profile if name == "hot" else None):
            load = Load(targets, seed_data.tokens, args.concurrency, args.seconds)
            cpu_before = process_cpu_seconds(server.pid)
            phase = run_wrk(wrk, server.url, load, name)
            cpu = process_cpu_seconds(server.pid) - cpu_before
        phase.cpu_us = 1e6 * cpu / max(1, phase.succeeded + phase.failed)
        phases.append(phase)
    return phases


def process_cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    user, system = int(fields[11]), int(fields[12])
    return (user + system) / os.sysconf("SC_CLK_TCK")


@contextmanager
def profiled(pid: int, output: Path | None) -> Iterator[None]:
    """Sample the API's processes with py-spy while the block runs."""
    if output is None:
        yield
        return
    command = [
        sys.executable.replace("python", "py-spy"), "record", "--pid", str(pid),
        "--subprocesses", "--rate", "200", "--format", "raw", "--output",
        str(output), "--nonblocking",
    ]  # fmt: skip
    sampler = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    try:
        yield
    finally:
        sampler.send_signal(signal.SIGINT)
        sampler.wait(60)
    print_profile(output)


def print_profile(collapsed: Path, top: int = 15) -> None:
    """The functions where the samples were taken (self time), most first."""
    own: Counter[str] = Counter()
    for line in collapsed.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        own[stack.rsplit(";", 1)[-1]] += int(samples)
    total = sum(own.values()) or 1
    print(f"py-spy, hot phase: {total} samples; self time, top {top}")
    for frame, taken in own.most_common(top):
        print(f"{100 * taken / total:6.1f}%  {frame}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server-url", default=SERVER_URL)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--pool", type=int, default=4, help="database connections per worker"
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--loop", default="uvloop", help="uvicorn's --loop")
    parser.add_argument("--http", default="httptools", help="uvicorn's --http")
    parser.add_argument(
        "--prepare",
        action="store_true",
        help="let the API prepare statements (production's pooler cannot)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="record the API's hot phase with py-spy into this file (collapsed "
        "stacks) and print the top functions",
    )
    args = parser.parse_args()

    wrk = ensure_wrk()
    settings_module.configure(
        Settings(environment="test", jwt_secret=JWT_SECRET, database_url="x")
    )
    with bench_database(args.server_url) as database_url:
        seed_data = seed(database_url)
        phases = [run_pgbench(database_url, seed_data, args.concurrency, args.seconds)]
        with api_server(database_url, args) as server:
            phases += api_phases(wrk, server, seed_data, args)
        print_report(phases, count_oversold(database_url))


if __name__ == "__main__":
    main()
