"""Incremental membership latency: from an ingested event to the member row and its Segment Entered event.

Run: `.venv/bin/python -m bench.segments_incremental` (10,000 customers) or at the issue's scale
`.venv/bin/python -m bench.segments_incremental --customers 1000000` (~20,000,000 events).
A store (SQLite or PostgreSQL) is bulk-loaded with bench/synthetic_log.py's shoppers, the bench segment
(viewed 鞋 3+ times in 30 days AND no order in 30 days AND an order ever) is recomputed in full, and the
worker's consumers (omni.consumers.ALL_CONSUMERS in a ConsumerWorker, as omni.background runs them) are
started. Each trial then ingests, through events_service.append_events, one Product Viewed 鞋 for a person
who has exactly two such views in 30 days and no recent order, and polls from another connection until
the person's segment_member row and Segment Entered event are both visible.
Reported: median / p95 / max of the bare ingest (append and commit: the baseline), and of the time from
the ingest's commit to visibility. Trials start at random moments (the worker polls an idle log every
0.5 s). --predefined adds the 16 predefined segments every install has, recomputed in full first; the
consumer evaluates only those a batch can affect (segments/dependencies.py): here the two reading views.
A trial not visible within 30 s is counted as missed, not hidden (each catch_up pass stops every consumer
at the head it began with, so segments never see an event before identity has attributed it).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import datetime, timedelta

import duckdb
from sqlalchemy import text

from bench import synthetic_log
from bench.segments import create_segment, timed
from omni.consumers import ALL_CONSUMERS
from omni.db.engine import Database
from omni.events import service as events_service
from omni.events.consumers import ConsumerWorker, lags
from omni.kit.time import utc_now
from omni.segments import membership, predefined

POLL_SECONDS = 0.005
# A trial not visible by then is counted as missed (see _drained on why one can be).
GIVE_UP_SECONDS = 30.0
CANDIDATES = """
    SELECT i.profile_id FROM profile_activity a
    JOIN identity_event e ON e.position = a.position JOIN identity_identifier i ON i.id = e.identifier_id
    GROUP BY i.profile_id
    HAVING count(*) FILTER (WHERE a.event = 'Product Viewed' AND a.occurred_at >= $recent
                              AND json_extract_string(a.properties, '$.category') = '鞋') = 2
       AND count(*) FILTER (WHERE a.event = 'Order Completed' AND a.occurred_at >= $recent_orders) = 0
       AND count(*) FILTER (WHERE a.event = 'Order Completed') >= 1
    ORDER BY hash(i.profile_id) LIMIT $n
"""


def candidates(duck: duckdb.DuckDBPyConnection, now: datetime, count: int) -> list[int]:
    """People one more 鞋 view moves into the segment, with a day's margin on each window."""
    rows = duck.execute(
        CANDIDATES,
        {"recent": now - timedelta(days=29), "recent_orders": now - timedelta(days=31), "n": count},
    ).fetchall()
    return [int(row[0]) for row in rows]


def _visible(database: Database, segment_id: int, profile_id: int) -> bool:
    # Polled every few ms, as a dashboard reads: read-only, so that on SQLite the poll never takes the
    # write lock the consumers need (a write transaction per poll starved them for seconds).
    with database.read_only_unit() as session:
        member = session.execute(
            text("SELECT count(*) FROM segment_member WHERE segment_id = :s AND profile_id = :p"),
            {"s": segment_id, "p": profile_id},
        ).scalar_one()
        entered = session.execute(
            text("SELECT count(*) FROM event_log WHERE event = 'Segment Entered' AND message_id LIKE :m"),
            {"m": f"segments:{segment_id}:{profile_id}:entered:%"},
        ).scalar_one()
    return bool(member and entered)


def _drained(database: Database) -> bool:
    with database.read_only_unit() as session:
        return all(lag.lag == 0 for lag in lags(session, ALL_CONSUMERS))


def _why_missed(database: Database, message_id: str) -> str:
    """The missed event's position, and each consumer's cursor when it was handled."""
    with database.read_only_unit() as connection:
        position = connection.execute(
            text("SELECT position FROM event_log WHERE message_id = :m"), {"m": message_id}
        ).scalar_one()
        attributed = connection.execute(
            text("SELECT count(*) FROM identity_event WHERE position = :p"), {"p": position}
        ).scalar_one()
    return f"{message_id} at {position} (attributed now: {bool(attributed)})"


def _ingest(database: Database, profile_id: int, trial: int) -> None:
    payload = {
        "type": "track",
        "event": "Product Viewed",
        "userId": f"u{profile_id}",
        "messageId": f"bench-incremental-{profile_id}-{trial}",
        "timestamp": utc_now().isoformat(),
        "properties": {"product_id": "P0001", "sku": "P0001-M", "category": "鞋", "price": 1990},
    }
    records = events_service.build_records([payload], source="web", default_channel="web")
    with database.unit_of_work() as session:
        events_service.append_events(session, records)


def _summary(label: str, seconds: list[float], baseline: float) -> None:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    median = statistics.median(ordered)
    print(
        f"  {label:<40} median {median * 1000:8.1f} ms  p95 {p95 * 1000:8.1f} ms  "
        f"max {ordered[-1] * 1000:8.1f} ms  {median / baseline:7.1f}x baseline"
    )


def run_engine(label: str, url: str, people: list[int], *, with_predefined: bool, seed: int) -> None:
    database = Database(url)
    segment_id = create_segment(database)
    if with_predefined:
        with database.unit_of_work() as session:
            predefined.ensure(session)
    with database.unit_of_work() as session:
        full = timed(1, lambda: membership.recompute_all(session))
    print(f"{label}: full recompute of every segment {full:.1f} s; {len(people)} trials")
    worker = ConsumerWorker(database.sessions, ALL_CONSUMERS)
    worker.start()
    rng = random.Random(seed)
    ingest: list[float] = []
    visible: list[float] = []
    missed: list[str] = []
    try:
        # The recompute's Segment Entered events first: trials start on an idle log.
        while not _drained(database):
            time.sleep(0.1)
        for trial, profile_id in enumerate(people):
            if _visible(database, segment_id, profile_id):
                raise SystemExit(f"profile {profile_id} is a member before its trial: candidates are wrong")
            time.sleep(rng.random() * 0.5)
            started = time.perf_counter()
            _ingest(database, profile_id, trial)
            committed = time.perf_counter()
            ingest.append(committed - started)
            while not _visible(database, segment_id, profile_id):
                if time.perf_counter() - committed > GIVE_UP_SECONDS:
                    missed.append(_why_missed(database, f"bench-incremental-{profile_id}-{trial}"))
                    break
                time.sleep(POLL_SECONDS)
            else:
                visible.append(time.perf_counter() - committed)
    finally:
        worker.stop()
        database.dispose()
    baseline = statistics.median(ingest)
    _summary("baseline: ingest (append + commit)", ingest, baseline)
    if visible:
        _summary("member row + Segment Entered visible", visible, baseline)
    if missed:
        print(f"  missed (not visible after {GIVE_UP_SECONDS:.0f} s): {len(missed)} of {len(people)}")
        for line in missed:
            print(f"    {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--predefined", action="store_true", help="also keep the predefined segments")
    args = parser.parse_args()
    now = utc_now().replace(microsecond=0)
    duck = synthetic_log.duckdb_scratch()
    population = synthetic_log.generate(duck, customers=args.customers, seed=args.seed, now=now)
    people = candidates(duck, now, args.trials)
    if len(people) < args.trials:
        raise SystemExit(f"--trials: only {len(people)} candidates among {args.customers} customers")
    print(f"{population.customers:,} customers, {population.events:,} events")
    for engine, label in (("sqlite", "SQLite (WAL)"), ("postgresql", "PostgreSQL")):
        if engine not in args.engines.split(","):
            continue
        started = time.perf_counter()
        with synthetic_log.loaded_store(engine, duck) as url:
            if url is None:
                print(f"{label}: not reachable, skipped")
                continue
            print(f"{label}: loaded in {time.perf_counter() - started:.1f} s")
            run_engine(label, url, people, with_predefined=args.predefined, seed=args.seed)


if __name__ == "__main__":
    main()
