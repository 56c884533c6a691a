"""Event log benchmark: append and consume throughput, against a raw INSERT baseline in the same run.

Run: `make bench` (or `.venv/bin/python -m bench.event_log --events 100000`). PostgreSQL is measured when
OMNI_BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres) answers.
"""

from __future__ import annotations

import argparse
import os
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime, timedelta

import psycopg
from sqlalchemy import insert
from sqlalchemy.engine import make_url

from omni.db.engine import Database
from omni.events import service as events_service
from omni.events.consumers import catch_up
from omni.events.models import LoggedEvent
from omni.events.spec import EventRecord
from omni.events.tasks import DAILY_COUNTS
from omni.migrations import runner

BATCH = 500
START = datetime(2026, 1, 1, tzinfo=UTC)


def make_records(count: int, prefix: str) -> list[EventRecord]:
    """Realistic ~1 KB product-view events."""
    payloads = [
        {
            "type": "track",
            "event": "Product Viewed",
            "messageId": f"{prefix}-{i}",
            "anonymousId": f"anon-{i % 5000}",
            "timestamp": (START + timedelta(seconds=i)).isoformat(),
            "properties": {
                "product_id": f"P{i % 500:04d}",
                "sku": f"P{i % 500:04d}-M-BLK",
                "name": "棉質寬版長袖上衣",
                "category": "上衣",
                "price": 590,
                "currency": "TWD",
                "url": f"https://shop.example.tw/products/P{i % 500:04d}?utm_source=line&utm_medium=message",
            },
            "context": {
                "channel": "web",
                "page": {"path": f"/products/P{i % 500:04d}", "referrer": "https://www.google.com/"},
                "userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15",
                "ip": "203.0.113.7",
                "locale": "zh-TW",
            },
        }
        for i in range(count)
    ]
    return events_service.build_records(payloads, source="web", default_channel="web")


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def run_engine(name: str, url: str, count: int) -> None:
    database = Database(url)
    runner.upgrade(database.engine)
    prefix = secrets.token_hex(4)
    baseline_rows = [asdict(r) for r in make_records(count, f"raw-{prefix}")]
    records = make_records(count, f"log-{prefix}")

    def raw_insert() -> None:
        # The ceiling: plain multi-row INSERTs of the same rows, same batch size, no dedup or ordering lock.
        for start in range(0, count, BATCH):
            with database.engine.begin() as connection:
                connection.execute(insert(LoggedEvent), baseline_rows[start : start + BATCH])

    def append() -> None:
        for start in range(0, count, BATCH):
            with database.unit_of_work() as session:
                events_service.append_events(session, records[start : start + BATCH])

    def append_again() -> None:
        for start in range(0, count, BATCH):
            with database.unit_of_work() as session:
                events_service.append_events(session, records[start : start + BATCH])

    raw_seconds = timed(raw_insert)
    append_seconds = timed(append)
    retry_seconds = timed(append_again)
    consume_seconds = timed(lambda: catch_up(database.sessions, [DAILY_COUNTS]))
    consumed = count * 2  # the consumer reads the baseline rows too

    def line(label: str, n: int, seconds: float, *, ratio: bool = True) -> None:
        against = f"  = {raw_seconds / seconds:.2f}x baseline" if ratio else ""
        print(f"  {label:<27}{n / seconds:>10,.0f}/s{against}")

    print(f"\n{name}: {count:,} events of ~1 KB, batches of {BATCH}")
    line("baseline raw INSERT", count, raw_seconds, ratio=False)
    line("append_events (new)", count, append_seconds)
    line("append_events (all dupes)", count, retry_seconds)
    line("daily-counts consumer", consumed, consume_seconds, ratio=False)
    database.dispose()


@contextmanager
def postgres_database() -> Iterator[str | None]:
    admin_url = os.environ.get("OMNI_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"omni_bench_{secrets.token_hex(3)}"
    try:
        admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        yield None
        return
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield (
                make_url(admin_url)
                .set(drivername="postgresql+psycopg", database=name)
                .render_as_string(False)
            )
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=50_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run_engine("SQLite (WAL)", f"sqlite:///{tmp}/bench.db", args.events)
    with postgres_database() as url:
        if url is None:
            print("\nPostgreSQL: not reachable, skipped")
        else:
            run_engine("PostgreSQL", url, args.events)


if __name__ == "__main__":
    main()
