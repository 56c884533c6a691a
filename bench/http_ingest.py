"""HTTP ingest benchmark: Segment batches through the real server against a raw insert ceiling, same run.

The server is `omni serve --no-consumers --workers N` in a subprocess (the real app under uvicorn, N
processes sharing one port as in production), the clients are threads posting 100-event
batches over keep-alive connections as the SDKs do; a batch counts once its 200 arrived, which means it
is committed. The baseline inserts the same rows straight into a fresh database of the same engine with
the fastest plain method (sqlite3 executemany; PostgreSQL COPY), 1,000 rows per transaction.

Run: `.venv/bin/python -m bench.http_ingest` (see --help: --events, --clients, --repeat, --engines,
--workers-sqlite, --workers-postgres).
PostgreSQL is measured when OMNI_BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres)
answers.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import os
import secrets
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import psycopg
from sqlalchemy.engine import make_url

from bench.event_log import postgres_database
from omni.db.engine import Database
from omni.events import service as events_service
from omni.events import sources as events_sources
from omni.events.rows import ALL_COLUMNS
from omni.events.schemas import SourceCreate, SourceKind
from omni.migrations import runner

BATCH = 100
BASELINE_ROWS_PER_TRANSACTION = 1000
START = datetime(2026, 11, 1, tzinfo=UTC)
COLUMNS = ALL_COLUMNS


def message(i: int, prefix: str) -> dict[str, Any]:
    """A ~0.9 KB message as analytics-python sends it: mostly product views, some identifies and orders."""
    stamp = (START + timedelta(milliseconds=37 * i)).isoformat(timespec="milliseconds")
    context = {
        "library": {"name": "analytics-python", "version": "2.4.0"},
        "ip": "203.0.113.7",
        "locale": "zh-TW",
        "userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15",
        "page": {"path": f"/products/P{i % 500:04d}", "referrer": "https://www.google.com/"},
    }
    common = {"messageId": f"{prefix}-{i}", "anonymousId": f"anon-{i % 5000}", "timestamp": stamp}
    if i % 20 == 0:
        return {
            **common,
            "type": "identify",
            "userId": f"member-{i % 3000}",
            "traits": {"email": f"member{i % 3000}@example.tw", "phone": "+886912345678", "tier": "gold"},
            "context": context,
        }
    if i % 50 == 1:
        return {
            **common,
            "type": "track",
            "event": "Order Completed",
            "userId": f"member-{i % 3000}",
            "properties": {
                "order_id": f"W{i:08d}",
                "total": 1780,
                "currency": "TWD",
                "products": [
                    {"product_id": "P0042", "sku": "P0042-M-BLK", "price": 590, "quantity": 2},
                    {"product_id": "P0311", "sku": "P0311-F-IVY", "price": 600, "quantity": 1},
                ],
            },
            "context": context,
        }
    return {
        **common,
        "type": "track",
        "event": "Product Viewed",
        "properties": {
            "product_id": f"P{i % 500:04d}",
            "sku": f"P{i % 500:04d}-M-BLK",
            "name": "棉質寬版長袖上衣",
            "category": "上衣",
            "price": 590,
            "currency": "TWD",
            "url": f"https://shop.example.tw/products/P{i % 500:04d}?utm_source=line&utm_medium=message",
        },
        "context": context,
    }


def batch_bodies(count: int, prefix: str, write_key: str) -> list[bytes]:
    sent_at = datetime.now(UTC).isoformat()
    return [
        orjson.dumps(
            {
                "batch": [message(i, prefix) for i in range(start, min(start + BATCH, count))],
                "sentAt": sent_at,
                "writeKey": write_key,
            }
        )
        for start in range(0, count, BATCH)
    ]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def servers(url: str, workers: int, log_dir: Path) -> Iterator[tuple[list[int], list[int]]]:
    """Run `omni serve --workers N` over url until the block ends; yields its port and its processes."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OMNI_")}
    environment |= {"OMNI_DATABASE_URL": url, "OMNI_DATA_DIR": str(log_dir), "OMNI_SECRET_KEY": "b" * 40}
    log = (log_dir / f"server-{port}.log").open("wb")
    command = [sys.executable, "-m", "omni", "serve", "--port", str(port), "--no-consumers"]
    command += ["--workers", str(workers)]
    process = subprocess.Popen(command, env=environment, stdout=log, stderr=log)
    try:
        wait_until_up(port)
        # Each worker answers its first request once it has imported the app; warm them all.
        time.sleep(2 if workers > 1 else 0)
        yield [port], [process.pid, *process_children(process.pid)]
    finally:
        process.terminate()
        process.wait(30)


def process_children(pid: int) -> list[int]:
    """Child process ids (Linux /proc)."""
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def wait_until_up(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server on port {port} did not come up")


@dataclass
class Run:
    events: int
    seconds: float
    latencies: list[float]


def post_all(ports: list[int], bodies: list[bytes], write_key: str, clients: int) -> Run:
    """Post every body from `clients` threads over keep-alive connections; each must answer 200."""
    headers = {
        "Content-Type": "application/json",
        "Authorization": "Basic " + base64.b64encode(f"{write_key}:".encode()).decode(),
        "User-Agent": "analytics-python/2.4.0",
    }
    next_body = iter(range(len(bodies)))
    lock = threading.Lock()
    latencies: list[float] = []
    failures: list[str] = []

    def client(number: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", ports[number % len(ports)], timeout=60)
        mine: list[float] = []
        while True:
            with lock:
                index = next(next_body, None)
            if index is None:
                break
            started = time.perf_counter()
            connection.request("POST", "/v1/batch", body=bodies[index], headers=headers)
            response = connection.getresponse()
            answer = response.read()
            mine.append(time.perf_counter() - started)
            if response.status != 200:
                failures.append(f"{response.status} {answer[:200]!r}")
                break
        connection.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{len(failures)} batch(es) failed, first: {failures[0]}")
    events = sum(len(orjson.loads(body)["batch"]) for body in bodies)
    return Run(events=events, seconds=seconds, latencies=latencies)


def prepare(url: str) -> tuple[Database, str]:
    database = Database(url)
    runner.upgrade(database.engine)
    with database.unit_of_work() as session:
        created = events_sources.create_source(session, SourceCreate(name="bench-web", kind=SourceKind.WEB))
    return database, created.write_key


def baseline_rows(count: int, prefix: str) -> list[tuple[Any, ...]]:
    """The rows the log would hold for these messages, serialised for a plain driver (not timed)."""
    payloads = [message(i, prefix) for i in range(count)]
    records = events_service.build_records(payloads, source="web:bench-web", default_channel="web")
    rows = []
    for record in records:
        values = [getattr(record, column) for column in COLUMNS]
        rows.append(
            tuple(
                orjson.dumps(v).decode()
                if isinstance(v, dict)
                else v.isoformat()
                if isinstance(v, datetime)
                else v
                for v in values
            )
        )
    return rows


def sqlite_baseline(path: str, rows: list[tuple[Any, ...]]) -> float:
    """sqlite3 executemany into the migrated log table, WAL and synchronous=NORMAL as Omni runs it."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    statement = f"INSERT INTO event_log ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    started = time.perf_counter()
    for start in range(0, len(rows), BASELINE_ROWS_PER_TRANSACTION):
        connection.execute("BEGIN")
        connection.executemany(statement, rows[start : start + BASELINE_ROWS_PER_TRANSACTION])
        connection.execute("COMMIT")
    seconds = time.perf_counter() - started
    connection.close()
    return seconds


def postgres_baseline(url: str, rows: list[tuple[Any, ...]]) -> float:
    """COPY into the migrated log table, the fastest way rows enter PostgreSQL."""
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    columns = ", ".join(f'"{c}"' for c in COLUMNS)
    with psycopg.connect(plain) as connection:
        started = time.perf_counter()
        for start in range(0, len(rows), BASELINE_ROWS_PER_TRANSACTION):
            with (
                connection.transaction(),
                connection.cursor() as cursor,
                cursor.copy(f"COPY event_log ({columns}) FROM STDIN") as copy,
            ):
                for row in rows[start : start + BASELINE_ROWS_PER_TRANSACTION]:
                    copy.write_row(row)
        return time.perf_counter() - started


def count_stored(url: str) -> int:
    database = Database(url)
    try:
        with database.unit_of_work() as session:
            return events_service.count_events(session)
    finally:
        database.dispose()


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of processes, from /proc (Linux)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


@dataclass
class Measurement:
    http: float
    baseline: float
    p50_ms: float
    p99_ms: float
    server_cpu_us: float


def measure_once(url_for: Any, args: argparse.Namespace, workers: int) -> Measurement:
    prefix = secrets.token_hex(4)
    rows = baseline_rows(args.events, f"raw-{prefix}")
    with url_for("baseline") as baseline_url:
        prepare(baseline_url)[0].dispose()
        if baseline_url.startswith("sqlite"):
            seconds = sqlite_baseline(make_url(baseline_url).database or "", rows)
        else:
            seconds = postgres_baseline(baseline_url, rows)
    with url_for("http") as url, tempfile.TemporaryDirectory() as logs:
        database, write_key = prepare(url)
        database.dispose()
        warmup = batch_bodies(20 * BATCH, f"warm-{prefix}", write_key)
        bodies = batch_bodies(args.events, f"http-{prefix}", write_key)
        with servers(url, workers, Path(logs)) as (ports, pids):
            post_all(ports, warmup, write_key, args.clients)
            cpu_before = _cpu_seconds(pids)
            run = post_all(ports, bodies, write_key, args.clients)
            cpu = _cpu_seconds(pids) - cpu_before
        stored = count_stored(url)
        if stored != args.events + len(warmup) * BATCH:
            raise RuntimeError(f"{stored:,} events stored, expected {args.events + len(warmup) * BATCH:,}")
    latencies = sorted(run.latencies)
    return Measurement(
        http=run.events / run.seconds,
        baseline=len(rows) / seconds,
        p50_ms=statistics.median(latencies) * 1000,
        p99_ms=latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        server_cpu_us=cpu / run.events * 1e6,
    )


def run_engine(name: str, url_for: Any, args: argparse.Namespace, workers: int, method: str) -> None:
    print(f"\n{name}: {args.events:,} events, {args.clients} clients, {workers} server process(es)")
    runs = []
    for number in range(1, args.repeat + 1):
        m = measure_once(url_for, args, workers)
        runs.append(m)
        ratio = m.http / m.baseline
        latency = f"batch p50 {m.p50_ms:.0f} ms, p99 {m.p99_ms:.0f} ms"
        cpu = f"server CPU {m.server_cpu_us:.0f} us/event"
        rates = f"baseline {m.baseline:>7,.0f}/s, HTTP {m.http:>7,.0f}/s = {ratio:.0%}"
        print(f"  run {number}: {rates}; {latency}; {cpu}")
    http = statistics.median(m.http for m in runs)
    ratio = statistics.median(m.http / m.baseline for m in runs)
    print(f"  baseline {method:<38}{statistics.median(m.baseline for m in runs):>9,.0f} events/s (median)")
    print(
        f"  HTTP /v1/batch, {BATCH}-event batches, durable    {http:>9,.0f} events/s (median) = {ratio:.0%}"
    )
    met = http >= 20_000 and ratio >= 0.3
    print(f"  target >= 20,000 events/s and >= 30% of baseline: {'met' if met else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers-postgres", type=int, default=2)
    parser.add_argument("--workers-sqlite", type=int, default=1)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=3, help="Runs per engine; medians are reported.")
    args = parser.parse_args()
    engines = args.engines.split(",")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"HTTP ingest on {os.cpu_count()} cores shared by clients, servers and database; load average {load}"
    )
    if "sqlite" in engines:
        with tempfile.TemporaryDirectory() as tmp:

            @contextmanager
            def sqlite_url(label: str) -> Iterator[str]:
                path = Path(tmp) / f"{label}-{secrets.token_hex(3)}.db"
                yield f"sqlite:///{path}"

            run_engine(
                "SQLite (WAL)",
                sqlite_url,
                args,
                args.workers_sqlite,
                "sqlite3 executemany, 1,000 rows/commit",
            )
    if "postgresql" in engines:
        with postgres_database() as probe:
            reachable = probe is not None
        if not reachable:
            print("\nPostgreSQL: not reachable, skipped")
        else:

            @contextmanager
            def postgres_url(label: str) -> Iterator[str]:
                with postgres_database() as url:
                    assert url is not None
                    yield url

            run_engine("PostgreSQL", postgres_url, args, args.workers_postgres, "COPY, 1,000 rows/commit")


if __name__ == "__main__":
    main()
