"""Funnel benchmark: a 4-step funnel over every shopper, on DuckDB over the export and on PostgreSQL.

Run: `.venv/bin/python -m bench.funnels --customers 1000000` (about 20 events per customer, so ~20M
events; issue #5 asks for <= 5 s on DuckDB). Shoppers come from bench/synthetic_log.py (DuckDB SQL, not
timed). The funnel: Product Viewed -> Product Added -> Checkout Started -> Order Completed, 7-day window.
Timed in one run, median of --runs:
  - export: deriving person_activity (analytics.timelines) from the exported tables, once per export;
  - baselines: a plain GROUP BY counting each person's events per step name, over the exported tables
    (each event joined to its person, as the store keeps them) and over person_activity;
  - funnel on DuckDB: analytics.funnel_export's summary (people, drop-off and median time per step), with
    no breakdown, by channel and by store; and, once, funnel_sql's window plan over the same tables;
  - on PostgreSQL: funnel_sql's summary, and analytics.service.funnel (the plan's attempts read into
    Python and counted).
PostgreSQL runs at --pg-customers (bulk loading 20M rows takes longer than the benchmark) when
OMNI_BENCH_POSTGRES_URL answers; its figures are also extrapolated linearly to 20,000,000 events, which
assumes scans, sorts and hash joins stay near linear.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text

from bench import synthetic_log
from omni.analytics import funnel_export, funnel_sql, funnels, timelines
from omni.analytics import service as analytics_service
from omni.analytics.schemas import AnalyticsFilters
from omni.db.engine import Database
from omni.segments import compile as c

NOW = datetime(2026, 11, 1, tzinfo=UTC)
TARGET_EVENTS = 20_000_000
FUNNEL = funnels.Funnel(tuple(funnels.Step(name) for name in synthetic_log.FUNNEL), timedelta(days=7))
NAMES = ", ".join(f"'{name}'" for name in synthetic_log.FUNNEL)
BASELINE = (
    "SELECT count(*) FROM (SELECT i.profile_id, a.event, count(*) AS n FROM profile_activity a "
    "JOIN identity_event e ON e.position = a.position JOIN identity_identifier i ON i.id = e.identifier_id "
    f"WHERE a.event IN ({NAMES}) GROUP BY i.profile_id, a.event) AS per_person"
)
TIMELINE_BASELINE = (
    "SELECT count(*) FROM (SELECT person, event, count(*) AS n FROM person_activity "
    f"WHERE event IN ({NAMES}) GROUP BY person, event) AS per_person"
)


def _timed(work: Callable[[], Any], runs: int) -> tuple[float, Any]:
    seconds, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), result


def _row(label: str, seconds: float, baseline: float, name: str = "baseline") -> None:
    print(f"  {label:<52} {seconds:8.3f} s  {seconds / baseline:6.2f}x {name}")


def _steps(rows: list[tuple[Any, ...]]) -> str:
    counts = funnel_sql.counts_of(FUNNEL, rows)
    overall = counts.get("") or next(iter(counts.values()))
    return " -> ".join(f"{people:,}" for people in overall.people)


def run_duckdb(customers: int, seed: int, runs: int, data: Path | None) -> None:
    if data is None:
        with tempfile.TemporaryDirectory() as tmp:
            _duckdb_figures(_generated(Path(tmp), customers, seed), runs)
    elif (data / "profile_activity.parquet").exists():
        print(f"DuckDB over Parquet: reusing {data} (--customers and --seed are those it was made with)")
        if not (data / f"{timelines.NAME}.parquet").exists():
            _derived(data)
        _duckdb_figures(data, runs)
    else:
        _duckdb_figures(_generated(data, customers, seed), runs)


def _generated(directory: Path, customers: int, seed: int) -> Path:
    """directory holding the Parquet export of customers' generated history."""
    duck = synthetic_log.duckdb_scratch()
    started = time.perf_counter()
    population = synthetic_log.generate(duck, customers=customers, seed=seed, now=NOW)
    synthetic_log.write_tables(duck, directory)
    duck.close()
    made = time.perf_counter() - started
    print(
        f"DuckDB over Parquet: {population.events:,} events, {customers:,} customers "
        f"(generated and written to {directory} in {made:.1f} s, not timed below)"
    )
    _derived(directory)
    return directory


def _derived(directory: Path) -> None:
    started = time.perf_counter()
    rows = timelines.derive(directory)
    seconds = time.perf_counter() - started
    print(f"  export: person_activity derived, {rows:,} rows {seconds:8.3f} s  (once per export)")


def _duckdb_figures(directory: Path, runs: int) -> None:
    with timelines.opened(directory) as view:
        baseline, _ = _timed(lambda: view.execute(BASELINE).fetchall(), runs)
        print(f"  {'baseline: GROUP BY per person per step (tables)':<52} {baseline:8.3f} s")
        own, _ = _timed(lambda: view.execute(TIMELINE_BASELINE).fetchall(), runs)
        _row("baseline: the same over person_activity", own, baseline)
        scope = funnel_sql.Scope()
        rows: list[tuple[Any, ...]] = []
        for label, breakdown in (("", None), (" by channel", "channel"), (" by store", "store")):

            def funnel(by: str | None = breakdown) -> list[tuple[Any, ...]]:
                return funnel_export.run(view, FUNNEL, scope, by)

            seconds, found = _timed(funnel, runs)
            _row(f"funnel, 4 steps, 7-day window{label}", seconds, baseline)
            _row("", seconds, own, "person_activity baseline")
            rows = found if breakdown is None else rows
        window_sql = funnel_sql.sql_of("duckdb", FUNNEL, scope, None, summed=True)
        window, same = _timed(lambda: view.execute(window_sql).fetchall(), 1)
        _row("funnel_sql's window plan over the tables (1 run)", window, baseline)
        if [tuple(r) for r in same] != rows:
            raise SystemExit("the window plan and the export's plan disagree")
        print(f"  people per step: {_steps(rows)}")
        print(
            f"  load average (1, 5, 15 min) after the runs: {', '.join(f'{x:.2f}' for x in os.getloadavg())}"
        )


def run_postgres(customers: int, seed: int, runs: int) -> None:
    duck = synthetic_log.duckdb_scratch()
    population = synthetic_log.generate(duck, customers=customers, seed=seed, now=NOW)
    with synthetic_log.loaded_store("postgresql", duck) as url:
        duck.close()
        if url is None:
            print("\nPostgreSQL: not reachable, skipped")
            return
        database = Database(url)
        ctx = c.Context(engine="postgresql", now=NOW, priority=())
        summary = text(c.to_sql(ctx, funnel_sql.summary(ctx, FUNNEL, funnel_sql.Scope(), None)))
        scale = TARGET_EVENTS / population.events
        print(f"\nPostgreSQL: {population.events:,} events, {customers:,} customers")
        with database.unit_of_work() as session:
            baseline, _ = _timed(lambda: session.execute(text(BASELINE)).all(), runs)
            print(f"  {'baseline: GROUP BY events per person per step':<52} {baseline:8.3f} s")
            whole, rows = _timed(lambda: [tuple(r) for r in session.execute(summary).all()], runs)
            _row("funnel, 4 steps, 7-day window (SQL summary)", whole, baseline)
            served, _ = _timed(
                lambda: analytics_service.funnel(
                    session,
                    AnalyticsFilters(),
                    steps=",".join(synthetic_log.FUNNEL),
                    window_hours=7 * 24,
                    repeat=False,
                    breakdown=None,
                    zone=ZoneInfo("UTC"),
                ),
                runs,
            )
            _row("analytics.service.funnel (attempts counted in Python)", served, baseline)
            print(f"  people per step: {_steps(rows)}")
            print(f"  extrapolated linearly to {TARGET_EVENTS:,} events (not measured):")
            for label, seconds in (("baseline", baseline), ("funnel SQL", whole), ("service", served)):
                print(f"    {label:<20} ~{seconds * scale:8.1f} s")
        database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--customers", type=int, default=1_000_000, help="shoppers on DuckDB, ~20 events each"
    )
    parser.add_argument("--pg-customers", type=int, default=50_000, help="shoppers on PostgreSQL")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per figure (median)")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--engines", default="duckdb,postgresql")
    parser.add_argument(
        "--data",
        type=Path,
        help="DuckDB: a directory of the Parquet export to reuse, or to generate into when it has none",
    )
    args = parser.parse_args()
    engines = {engine.strip() for engine in args.engines.split(",")}
    unknown = engines - {"duckdb", "postgresql"}
    if unknown:
        parser.error(f"--engines: unknown {', '.join(sorted(unknown))} (duckdb, postgresql)")
    if "duckdb" in engines:
        run_duckdb(args.customers, args.seed, args.runs, args.data)
    if "postgresql" in engines:
        run_postgres(args.pg_customers, args.seed, args.runs)


if __name__ == "__main__":
    main()
