"""Segment recompute benchmark: one 3-condition segment on DuckDB (over Parquet) and on the stores.

Run: `.venv/bin/python -m bench.segments` (10,000 customers, ~200,000 events) or, at the issue's scale,
`.venv/bin/python -m bench.segments --customers 1000000` (~20,000,000 events). The shoppers come from
bench/synthetic_log.py (DuckDB SQL, not timed against the product): Parquet in the layout
omni.segments.offline exports, and bulk loads into SQLite / PostgreSQL migrated by Alembic.
Timed in one run, per engine:
  - baseline: a hand-written GROUP BY counting each person's Product Viewed events;
  - members: the segment compiled by Ibis and run (the query alone, ids fetched);
  - recompute (stores): membership.recompute (query, member rows, Segment Entered events), first and again.
The segment: viewed 鞋 3+ times in 30 days AND no order in 30 days AND at least one order ever.
Every engine must find the same members. PostgreSQL is measured when OMNI_BENCH_POSTGRES_URL answers.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import text

from bench import synthetic_log
from omni.db.engine import Database
from omni.segments import compile as c
from omni.segments import definitions as d
from omni.segments import membership, offline, repository, service
from omni.segments.schemas import SegmentCreate

NOW = datetime(2026, 11, 1, tzinfo=UTC)
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


def timed(runs: int, work: Callable[[], Any]) -> float:
    """Median seconds of runs calls of work."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _row(label: str, seconds: float, baseline: float) -> None:
    print(f"  {label:<48} {seconds:8.3f} s  {seconds / baseline:6.2f}x baseline")


def create_segment(database: Database) -> int:
    with database.unit_of_work() as session:
        return service.create(
            session,
            SegmentCreate(key="win_back_shoes", name="Win back shoes", definition=SEGMENT),
            by="bench",
        ).id


def run_duckdb(duck: duckdb.DuckDBPyConnection, runs: int) -> int:
    """The offline path: the compiled segment over the Parquet files; return the member count."""
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        synthetic_log.write_tables(duck, Path(tmp))
        written = time.perf_counter() - started
        with offline.duckdb_over(Path(tmp)) as over:
            ctx = c.Context(engine="duckdb", now=NOW, priority=("crm", "pos", "app", "web"))
            tree = d.parse(SEGMENT, d.Vocabulary(set(), service.SPEC_EVENTS, set(), set()))
            baseline = timed(runs, lambda: over.execute(BASELINE).fetchall())
            found: set[int] = set()

            def members() -> None:
                found.clear()
                found.update(offline.profile_ids(over, ctx, lambda ctx: c.members(ctx, tree)))

            query = timed(runs, members)
    print(f"DuckDB over Parquet (Parquet written in {written:.1f} s, not timed below):")
    _row("baseline: Product Viewed per person (SQL)", baseline, baseline)
    _row(f"members: compiled segment, compile + run ({len(found):,})", query, baseline)
    return len(found)


def run_store(label: str, url: str, runs: int) -> int:
    """The operational store: the compiled query and membership.recompute; return the member count."""
    database = Database(url)
    segment_id = create_segment(database)
    with database.unit_of_work() as session:
        tree = service.check(session, SEGMENT)
        ctx = service.context(session, now=NOW)
        baseline = timed(runs, lambda: session.execute(text(BASELINE)).all())
        found: set[int] = set()

        def members() -> None:
            found.clear()
            found.update(repository.profile_ids(session, ctx, c.members(ctx, tree)))

        query = timed(runs, members)
    with database.unit_of_work() as session:
        first = timed(1, lambda: membership.recompute(session, segment_id, now=NOW))
    with database.unit_of_work() as session:
        again = timed(1, lambda: membership.recompute(session, segment_id, now=NOW))
    database.dispose()
    print(f"{label}:")
    _row("baseline: Product Viewed per person (SQL)", baseline, baseline)
    _row(f"members: compiled segment query ({len(found):,})", query, baseline)
    _row("recompute, first (all enter, events logged)", first, baseline)
    _row("recompute, again (no change)", again, baseline)
    return len(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--engines", default="duckdb,sqlite,postgresql")
    parser.add_argument("--runs", type=int, default=3, help="runs of each query (median reported)")
    args = parser.parse_args()
    engines = args.engines.split(",")
    duck = synthetic_log.duckdb_scratch()
    started = time.perf_counter()
    population = synthetic_log.generate(duck, customers=args.customers, seed=args.seed, now=NOW)
    generated = time.perf_counter() - started
    print(
        f"{population.customers:,} customers, {population.events:,} events (generated in {generated:.1f} s)"
    )
    counts: dict[str, int] = {}
    if "duckdb" in engines:
        counts["duckdb"] = run_duckdb(duck, args.runs)
    for engine, label in (("sqlite", "SQLite (WAL)"), ("postgresql", "PostgreSQL")):
        if engine not in engines:
            continue
        started = time.perf_counter()
        with synthetic_log.loaded_store(engine, duck) as url:
            if url is None:
                print(f"{label}: not reachable, skipped")
                continue
            print(f"{label}: loaded in {time.perf_counter() - started:.1f} s (COPY/bulk, indexes, ANALYZE)")
            counts[engine] = run_store(label, url, args.runs)
    if len(set(counts.values())) > 1:
        raise SystemExit(f"engines disagree on the members: {counts}")


if __name__ == "__main__":
    main()
