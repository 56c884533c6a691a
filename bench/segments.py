"""Segment recompute benchmark: one 3-condition segment on DuckDB (over Parquet) and on the operational store.

Run: `.venv/bin/python -m bench.segments --customers 10000` (about 20 events per customer). The tables the
segments layer reads (identity profiles, identifiers, attributions, the profile timeline) are filled directly
with synthetic shoppers (not timed): the benchmark measures membership, not ingestion. Timed in one run:
  - baseline: a hand-written GROUP BY counting each person's Product Viewed events, on each engine;
  - members: the segment compiled by Ibis and run (the query alone);
  - recompute: membership.recompute on the operational store (query, member rows, Segment Entered events);
  - DuckDB: the Parquet export (reported apart) and the same compiled query over it.
The segment: viewed 鞋 3+ times in 30 days AND no order in 30 days AND at least one order ever.
PostgreSQL is measured when OMNI_BENCH_POSTGRES_URL answers (see bench/event_log.py); --engines picks.
Figures are extrapolated linearly to 20,000,000 events, which assumes the plans stay scans and hash joins.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

from bench.event_log import postgres_database
from omni.db.engine import Database
from omni.identity.models import EventAttribution, Identifier, IdentityProfile
from omni.migrations import runner
from omni.profiles.models import ProfileActivity
from omni.segments import compile as c
from omni.segments import membership, offline, repository, service
from omni.segments.schemas import SegmentCreate

NOW = datetime(2026, 11, 1, tzinfo=UTC)
CATEGORIES = ("鞋", "包", "上衣", "褲", "配件", "外套", "洋裝", "童裝")
CHANNELS = ("web", "app", "pos", "marketplace")
TARGET_EVENTS = 20_000_000
CHUNK = 10_000
SEGMENT = {
    "all": [
        {"event": "Product Viewed", "min_times": 3, "within_days": 30,
         "where": [{"property": "category", "op": "eq", "value": "鞋"}]},
        {"not": {"event": "Order Completed", "within_days": 30}},
        {"orders": "count", "op": "gte", "value": 1},
    ]
}  # fmt: skip
BASELINE = (
    "SELECT i.profile_id, COUNT(*) FROM profile_activity a "
    "JOIN identity_event e ON e.position = a.position JOIN identity_identifier i ON i.id = e.identifier_id "
    "WHERE a.event = 'Product Viewed' GROUP BY i.profile_id"
)


def _fill(database: Database, customers: int, seed: int) -> int:
    """Write customers synthetic shoppers with ~20 events each; return the number of events."""
    rng = random.Random(seed)
    position = 0
    with database.unit_of_work() as session:
        people = [{"id": i, "created_at": NOW} for i in range(1, customers + 1)]
        ids = [
            {"id": i, "kind": "user_id", "value": f"u{i}", "profile_id": i, "born_profile_id": i,
             "first_seen_at": NOW, "last_seen_at": NOW, "source": "web", "first_message_id": f"m{i}"}
            for i in range(1, customers + 1)
        ]  # fmt: skip
        for rows, model in ((people, IdentityProfile), (ids, Identifier)):
            for start in range(0, len(rows), CHUNK):
                session.execute(insert(model), rows[start : start + CHUNK])
        activity: list[dict[str, Any]] = []
        attribution: list[dict[str, Any]] = []

        def flush() -> None:
            session.execute(insert(ProfileActivity), activity)
            session.execute(insert(EventAttribution), attribution)
            activity.clear()
            attribution.clear()

        for person in range(1, customers + 1):
            taste = rng.choice(CATEGORIES)
            for _ in range(rng.randint(10, 30)):
                position += 1
                at = NOW - timedelta(days=rng.random() * 180)
                channel = rng.choice(CHANNELS)
                properties: dict[str, Any]
                if rng.random() < 0.08:
                    event, properties = "Order Completed", {"revenue_minor": rng.randint(300, 9000) * 100}
                else:
                    category = taste if rng.random() < 0.5 else rng.choice(CATEGORIES)
                    event, properties = (
                        "Product Viewed",
                        {"category": category, "sku": f"SKU-{rng.randint(1, 500)}"},
                    )
                row: dict[str, Any] = {
                    "position": position,
                    "occurred_at": at,
                    "type": "track",
                    "event": event,
                }
                activity.append({**row, "channel": channel, "source": channel, "properties": properties})
                attribution.append({"position": position, "identifier_id": person})
                if len(activity) >= CHUNK:
                    flush()
        if activity:
            flush()
    return position


def _best(runs: int, work: Callable[[], Any]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _row(label: str, seconds: float, baseline: float, events: int) -> None:
    at_target = seconds * TARGET_EVENTS / events
    ratio = seconds / baseline
    print(f"  {label:<44} {seconds:8.3f} s  {ratio:6.2f}x baseline  ~{at_target:7.1f} s at 20M events")


def run_engine(label: str, url: str, customers: int, seed: int, duckdb_too: bool) -> None:
    database = Database(url)
    runner.upgrade(database.engine)
    started = time.perf_counter()
    events = _fill(database, customers, seed)
    filled = time.perf_counter() - started
    print(f"{label}: {customers:,} customers, {events:,} events (filled in {filled:.1f} s)")
    with database.unit_of_work() as session:
        segment_id = service.create(
            session,
            SegmentCreate(key="win_back_shoes", name="Win back shoes", definition=SEGMENT),
            by="bench",
        ).id
    with database.unit_of_work() as session:
        tree = service.check(session, SEGMENT)
        ctx = service.context(session, now=NOW)
        baseline = _best(3, lambda: session.execute(text(BASELINE)).all())
        members: set[int] = set()

        def query() -> None:
            members.clear()
            members.update(repository.profile_ids(session, ctx, c.members(ctx, tree)))

        _row("baseline: Product Viewed per person (SQL)", baseline, baseline, events)
        _row("members: compiled segment query", _best(3, query), baseline, events)
    with database.unit_of_work() as session:
        first = _best(1, lambda: membership.recompute(session, segment_id, now=NOW))
    with database.unit_of_work() as session:
        again = _best(1, lambda: membership.recompute(session, segment_id, now=NOW))
    _row(f"recompute, first ({len(members):,} enter, events logged)", first, baseline, events)
    _row("recompute, again (no change)", again, baseline, events)
    if duckdb_too:
        _duckdb(database, tree, events, len(members))
    database.dispose()


def _duckdb(database: Database, tree: Any, events: int, expected: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, database.unit_of_work() as session:
        started = time.perf_counter()
        offline.export_tables(session, Path(tmp))
        exported = time.perf_counter() - started
        with offline.duckdb_over(Path(tmp)) as duck:
            ctx = c.Context(engine="duckdb", now=NOW, priority=("crm", "pos", "app", "web"))
            sql = c.to_sql(ctx, c.members(ctx, tree))
            baseline = _best(3, lambda: duck.execute(BASELINE).fetchall())
            found: list[Any] = []
            query = _best(3, lambda: found.__setitem__(slice(None), duck.execute(sql).fetchall()))
        print(f"DuckDB over Parquet (export {exported:.1f} s, {json.dumps(expected)} members on the store):")
        _row("baseline: Product Viewed per person (SQL)", baseline, baseline, events)
        _row(f"members: compiled segment query ({len(found):,})", query, baseline, events)
        assert len(found) == expected, "DuckDB and the operational store disagree"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--engines", default="sqlite,postgresql")
    args = parser.parse_args()
    engines = args.engines.split(",")
    if "sqlite" in engines:
        with tempfile.TemporaryDirectory() as tmp:
            run_engine(
                "SQLite (WAL)", f"sqlite:///{tmp}/bench.db", args.customers, args.seed, duckdb_too=True
            )
    if "postgresql" in engines:
        with postgres_database() as url:
            if url is None:
                print("PostgreSQL: not reachable, skipped")
            else:
                run_engine("PostgreSQL", url, args.customers, args.seed, duckdb_too=False)


if __name__ == "__main__":
    main()
