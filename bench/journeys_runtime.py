"""Journeys benchmark: node transitions/s per worker, and the cost of waking keyed waits as more people wait.

Measured, per engine, in one run:
- transitions: people entered by API into split (10% holdout) -> condition on a trait -> delay 1 day, then
  one worker (`journeys.tasks.run_due`) steps them all: 3 node transitions per person, each with its step
  row, the trait read and the claim. Baseline: the same claims and row writes as bare SQL (claim with
  SKIP LOCKED / write-first, UPDATE the run, INSERT a step row), the floor a step stands on.
- waking: 1,000 `Order Completed` events, each ending one keyed wait (same cart_id), handled by the
  journeys consumer while few people wait, then while --waiting people wait: an index lookup per event
  keeps the ratio near 1, a scan of waiting rows would make it grow with the crowd.

Run: `.venv/bin/python -m bench.journeys_runtime` (options: --people, --waiting, --engines).
PostgreSQL is measured when OMNI_BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres)
answers. Target on PostgreSQL: >= 1,000 node transitions/s per worker; 100,000 people waiting at once.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text

from bench.event_log import postgres_database
from omni.db.engine import Database
from omni.events import service as events_service
from omni.events.consumers import catch_up
from omni.identity import tasks as identity_tasks
from omni.journeys import reactions, service, tasks
from omni.journeys.models import JourneyRun, JourneyStep
from omni.journeys.schemas import JourneyCreate
from omni.journeys.triggers import match_key
from omni.kit.time import utc_now
from omni.migrations import runner
from omni.profiles import tasks as profiles_tasks
from omni.settings import Settings

TARGET_TRANSITIONS = 1_000.0
ORDER = "Order Completed"
STEPPING = {
    "trigger": {"type": "api"},
    "start": "split",
    "nodes": {
        "split": {"type": "random_split", "branches": [
            {"percent": 90, "next": "known"}, {"percent": 10, "next": "known", "holdout": True}]},
        "known": {"type": "condition", "if": {"trait": "first_name", "op": "exists"},
                  "then": "wait", "else": "wait"},
        "wait": {"type": "delay", "duration": {"days": 1}, "next": "end"},
        "end": {"type": "exit"},
    },
    "reentry": {"policy": "always"},
}  # fmt: skip
WAITING = {
    "trigger": {"type": "api", "keys": ["cart_id"]},
    "start": "wait",
    "nodes": {
        "wait": {"type": "wait_event", "event": "Order Completed", "keys": ["cart_id"], "next": "end"},
        "end": {"type": "exit"},
    },
    "reentry": {"policy": "always"},
}


def _people(database: Database, count: int) -> list[int]:
    now = utc_now()
    payloads = [
        {"type": "identify", "userId": f"b{n}", "messageId": f"bench-id-{n}", "timestamp": now.isoformat(),
         "traits": {"first_name": f"N{n}", "email": f"b{n}@example.com"}}
        for n in range(count)
    ]  # fmt: skip
    with database.unit_of_work() as session:
        events_service.append_events(
            session, events_service.build_records(payloads, source="crm", default_channel="crm")
        )
    catch_up(database.sessions, [*identity_tasks.CONSUMERS, *profiles_tasks.CONSUMERS])
    with database.unit_of_work() as session:
        return list(session.scalars(text("SELECT DISTINCT profile_id FROM identity_identifier ORDER BY 1")))


def _journey(database: Database, name: str, definition: dict[str, Any]) -> int:
    with database.unit_of_work() as session:
        created = service.create(session, JourneyCreate(name=name, definition=definition), by="bench")
        service.set_status(session, created.id, "active")
        return created.id


def _runs(database: Database, journey_id: int, rows: list[dict[str, Any]]) -> None:
    now = utc_now()
    base = {
        "journey_id": journey_id,
        "version": 1,
        "entered_at": now,
        "entered_position": 0,
        "updated_at": now,
    }
    with database.unit_of_work() as session:
        for start in range(0, len(rows), 5_000):
            session.execute(insert(JourneyRun), [{**base, **row} for row in rows[start : start + 5_000]])


def _enter_due(database: Database, journey_id: int, people: list[int], tag: str) -> None:
    now = utc_now()
    rows = [
        {
            "profile_id": p,
            "entry_key": f"{tag}:{p}",
            "keys": {},
            "state": "active",
            "node": "split",
            "wake_at": now,
        }
        for p in people
    ]
    _runs(database, journey_id, rows)


def _baseline(database: Database, journey_id: int, *, batch: int = 100) -> int:
    """The bare SQL of stepping: claim due rows, move each one node on, write its step row."""
    steps = 0
    postgres = database.dialect == "postgresql"
    while True:
        with database.unit_of_work() as session:
            due = (
                "SELECT id FROM journey_run WHERE wake_at <= :now AND journey_id = :j "
                "ORDER BY wake_at, id LIMIT :n"
            )
            if postgres:
                ids = list(
                    session.scalars(
                        text(due + " FOR UPDATE SKIP LOCKED"), {"now": utc_now(), "j": journey_id, "n": batch}
                    )
                )
            else:
                claim = f"UPDATE journey_run SET updated_at = updated_at WHERE id IN ({due}) RETURNING id"
                ids = list(session.scalars(text(claim), {"now": utc_now(), "j": journey_id, "n": batch}))
            if not ids:
                return steps
            for run_id in ids:
                for node in ("split", "known", "wait"):
                    session.execute(
                        text(
                            "UPDATE journey_run SET node = :node, cohort = 'treatment', updated_at = :at "
                            "WHERE id = :id"
                        ),
                        {"node": node, "at": utc_now(), "id": run_id},
                    )
                    session.execute(
                        insert(JourneyStep),
                        {
                            "run_id": run_id,
                            "journey_id": journey_id,
                            "node": node,
                            "outcome": "bench",
                            "at": utc_now(),
                        },
                    )
                    steps += 1
                session.execute(
                    text("UPDATE journey_run SET state = 'waiting', wake_at = NULL WHERE id = :id"),
                    {"id": run_id},
                )


def _wake_time(database: Database, journey_id: int, carts: list[str]) -> float:
    now = utc_now()
    payloads = [
        {"type": "track", "event": "Order Completed", "anonymousId": f"anon-{c}", "messageId": f"order-{c}",
         "timestamp": now.isoformat(), "properties": {"cart_id": c}}
        for c in carts
    ]  # fmt: skip
    with database.unit_of_work() as session:
        before = events_service.head_position(session)
        events_service.append_events(
            session, events_service.build_records(payloads, source="web", default_channel="web")
        )
    with database.unit_of_work() as session:
        batch = events_service.events_after(session, before, limit=len(carts))
        started = time.perf_counter()
        reactions.handle_events(session, batch)
        elapsed = time.perf_counter() - started
        still = session.scalar(
            select(func.count())
            .select_from(JourneyRun)
            .where(
                JourneyRun.journey_id == journey_id,
                JourneyRun.entry_key.in_(carts),
                JourneyRun.state == "waiting",
            )
        )
    assert still == 0, still
    return elapsed


def _waiting(database: Database, journey_id: int, count: int, tag: str) -> list[str]:
    carts = [f"{tag}-{n}" for n in range(count)]
    rows = [
        {"profile_id": 1, "entry_key": cart, "keys": {"cart_id": cart}, "state": "waiting", "node": "wait",
         "wake_at": None, "wait_key": match_key(ORDER, ["cart_id"], {"cart_id": cart}, profile_id=0)}
        for cart in carts
    ]  # fmt: skip
    _runs(database, journey_id, rows)
    return carts


def run_engine(label: str, url: str, *, people: int, waiting: int, data_dir: Path) -> None:
    database = Database(url)
    runner.upgrade(database.engine)
    settings = Settings(data_dir=data_dir, secret_key="bench-" + "x" * 40, log_json=False)
    try:
        ids = _people(database, people)
        product_journey = _journey(database, "Bench steps", STEPPING)
        baseline_journey = _journey(database, "Bench baseline", STEPPING)
        _enter_due(database, baseline_journey, ids, "base")
        started = time.perf_counter()
        floor = _baseline(database, baseline_journey)
        floor_rate = floor / (time.perf_counter() - started)
        _enter_due(database, product_journey, ids, "prod")
        started = time.perf_counter()
        done = tasks.run_due(database, settings, batch=100)
        product_rate = done.steps / (time.perf_counter() - started)
        assert done.steps == 3 * len(ids), done
        print(f"{label}: node transitions/s, one worker ({len(ids):,} people x 3 nodes)")
        print(f"  baseline (bare SQL: claim, update, step row)  {floor_rate:10,.0f}/s")
        ratio = product_rate / floor_rate
        print(f"  product (journeys.tasks.run_due)               {product_rate:10,.0f}/s  = {ratio:.2f}x"
              f" baseline, target >= {TARGET_TRANSITIONS:,.0f}/s")  # fmt: skip
        keyed = _journey(database, "Bench waits", WAITING)
        _wake_time(database, keyed, _waiting(database, keyed, 200, "warm-up"))  # plans and caches, untimed
        few = _waiting(database, keyed, 1_000, "few")
        few_time = _wake_time(database, keyed, few)
        crowd = _waiting(database, keyed, waiting, "crowd")
        many_time = _wake_time(database, keyed, crowd[:1_000])
        print(f"  waking 1,000 keyed waits among 1,000 waiting    {few_time * 1000:8.0f} ms")
        print(f"  waking 1,000 keyed waits among {waiting:,} waiting {many_time * 1000:8.0f} ms"
              f"  = {many_time / few_time:.2f}x (index lookups: ~1x whatever the crowd)")  # fmt: skip
    finally:
        database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=2_000)
    parser.add_argument("--waiting", type=int, default=100_000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    args = parser.parse_args()
    engines = args.engines.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        if "sqlite" in engines:
            run_engine("SQLite (WAL)", f"sqlite:///{tmp}/bench.db", people=args.people, waiting=args.waiting,
                       data_dir=Path(tmp))  # fmt: skip
        if "postgresql" in engines:
            with postgres_database() as url:
                if url is None:
                    print("PostgreSQL not reachable; skipped")
                else:
                    run_engine(
                        "PostgreSQL", url, people=args.people, waiting=args.waiting, data_dir=Path(tmp)
                    )


if __name__ == "__main__":
    main()
