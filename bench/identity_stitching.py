"""Identity stitching benchmark: the identity.stitch consumer over a realistic log, against baselines.

Run: `.venv/bin/python -m bench.identity_stitching --events 1000000`. Each engine gets a fresh database; the
log is filled through events_service.append_events (not timed). Then, timed in the same run:
  - read-only baseline: a consumer that does nothing, so the cost of reading the log in batches;
  - write baseline: plain INSERTs of as many identifier, attribution and profile rows as stitching wrote;
  - identity.stitch: the real consumer, catching up from the start of the log.
PostgreSQL is measured when OMNI_BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres)
answers; --engines picks engines. gc.freeze() is called once the log is filled, as `omni worker` does after
start-up, so the collector stops rescanning everything loaded before; --no-gc-freeze measures without it.
"""

from __future__ import annotations

import argparse
import gc
import random
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, MetaData, String, Table, func, insert, select
from sqlalchemy.orm import Session

from bench.event_log import postgres_database
from omni.db.engine import Database
from omni.events import service as events_service
from omni.events.consumers import Consumer, catch_up
from omni.events.spec import EventRecord
from omni.identity.models import (
    EventAttribution,
    Identifier,
    IdentityConflict,
    IdentityMerge,
    IdentityProfile,
)
from omni.identity.tasks import STITCH
from omni.migrations import runner

START = datetime(2026, 1, 1, tzinfo=UTC)
INGEST_BATCH = 5000
STORE_PHONE = "02-2720-8889"


@dataclass(frozen=True, slots=True)
class Person:
    index: int
    account: str | None
    member: str | None
    email: str
    phone: str
    browsers: int
    app: bool


def _person(index: int, rng: random.Random) -> Person:
    # Neighbours 2k and 2k+1 sometimes share a family email, to exercise the limits.
    email = f"family{index // 2}@gmail.com" if index % 50 < 2 else f"person{index}@gmail.com"
    return Person(
        index=index,
        account=f"c_{index:07d}" if rng.random() < 0.6 else None,
        member=f"M{index:08d}" if rng.random() < 0.5 else None,
        email=email,
        phone=f"09{index % 100_000_000:08d}",
        browsers=rng.randint(1, 4),
        app=rng.random() < 0.3,
    )


def _written_phone(rng: random.Random, national: str) -> str:
    style = rng.randrange(4)
    if style == 0:
        return national
    if style == 1:
        return f"{national[:4]}-{national[4:7]}-{national[7:]}"
    if style == 2:
        return "+886" + national[1:]
    return f"886 {national[1:4]} {national[4:7]} {national[7:]}"


def _messages(person: Person, rng: random.Random, at: datetime, receipt: int) -> list[dict[str, Any]]:
    """One visit: a web or app session (logging in now and then), a till purchase, or a campaign touch."""
    i = person.index
    kind = rng.random()
    out: list[dict[str, Any]] = []
    if kind < 0.55 or (kind < 0.75 and not person.app):
        anonymous = f"anon-{i}-{rng.randrange(person.browsers)}"
        out += [{"type": "page", "anonymousId": anonymous} for _ in range(rng.randint(2, 6))]
        if person.account and rng.random() < 0.5:
            email = person.email if rng.random() < 0.98 else "test@test.com"
            out.append(
                {
                    "type": "identify",
                    "userId": person.account,
                    "anonymousId": anonymous,
                    "traits": {"email": email},
                }
            )
            out += [
                {
                    "type": "track",
                    "event": "Product Viewed",
                    "userId": person.account,
                    "anonymousId": anonymous,
                }
            ]
    elif kind < 0.75:
        device = {"device": {"id": f"dev-{i}"}}
        anonymous = f"app-{i}"
        user = {"userId": person.account} if person.account else {}
        out += [
            {"type": "screen", "anonymousId": anonymous, "context": device, **user}
            for _ in range(rng.randint(2, 5))
        ]
    elif kind < 0.95:
        phone = STORE_PHONE if rng.random() < 0.02 else _written_phone(rng, person.phone)
        properties: dict[str, Any] = {"order_id": f"R{receipt}", "phone": phone}
        if person.member:
            properties["member_id"] = person.member
        out.append(
            {
                "type": "track",
                "event": "Order Completed",
                "anonymousId": f"pos-{receipt}",
                "properties": properties,
            }
        )
    elif person.account:
        out.append(
            {
                "type": "track",
                "event": "Email Opened",
                "userId": person.account,
                "context": {"traits": {"email": person.email}},
            }
        )
    for n, payload in enumerate(out):
        payload["timestamp"] = at + timedelta(seconds=n * 20)
    return out


def simulate(events: int, *, seed: int = 7) -> Iterator[EventRecord]:
    """About `events` messages of people visiting at random, ~20 per person."""
    rng = random.Random(seed)
    people = [_person(i, rng) for i in range(max(events // 20, 1))]
    produced = receipt = 0
    at = START
    while produced < events:
        person = people[rng.randrange(len(people))]
        at += timedelta(seconds=rng.randint(1, 30))
        receipt += 1
        for payload in _messages(person, rng, at, receipt):
            if produced >= events:
                return
            produced += 1
            ts = payload.pop("timestamp")
            yield EventRecord(
                message_id=f"b-{produced}",
                type=payload["type"],
                event=payload.get("event"),
                name=None,
                user_id=payload.get("userId"),
                anonymous_id=payload.get("anonymousId"),
                group_id=None,
                previous_id=None,
                channel="web",
                source="bench",
                properties=payload.get("properties", {}),
                traits=payload.get("traits") or payload.get("context", {}).get("traits", {}),
                context=payload.get("context", {}),
                timestamp=ts,
                original_timestamp=ts,
                sent_at=None,
                received_at=ts,
            )


def fill_log(database: Database, events: int) -> None:
    batch: list[EventRecord] = []
    for record in simulate(events):
        batch.append(record)
        if len(batch) == INGEST_BATCH:
            with database.unit_of_work() as session:
                events_service.append_events(session, batch)
            batch = []
    if batch:
        with database.unit_of_work() as session:
            events_service.append_events(session, batch)


def _noop(_: Session, __: Sequence[Any]) -> None:
    return None


def _count(database: Database, model: Any) -> int:
    with database.unit_of_work() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def write_baseline(database: Database, identifiers: int, attributions: int, profiles: int) -> float:
    """Plain INSERTs of as many rows as stitching wrote, in consumer-sized transactions."""
    metadata = MetaData()
    ident = Table(
        "bench_identifier",
        metadata,
        Column("id", BigInteger, primary_key=True),
        Column("kind", String(32)),
        Column("value", String(254)),
        Column("profile_id", BigInteger),
        Column("seen_at", DateTime(timezone=True)),
    )
    attr = Table(
        "bench_event",
        metadata,
        Column("position", BigInteger, primary_key=True),
        Column("identifier_id", BigInteger),
        Column("occurred_at", DateTime(timezone=True)),
    )
    prof = Table("bench_profile", metadata, Column("id", BigInteger, primary_key=True))
    metadata.drop_all(database.engine)
    metadata.create_all(database.engine)
    per = STITCH.batch_size
    started = time.perf_counter()
    for start in range(0, attributions, per):
        n = min(per, attributions - start)
        with database.engine.begin() as connection:
            connection.execute(
                insert(attr),
                [{"position": p, "identifier_id": p, "occurred_at": START} for p in range(start, start + n)],
            )
            share = range(start * identifiers // attributions, (start + n) * identifiers // attributions)
            if share:
                connection.execute(
                    insert(ident),
                    [
                        {
                            "id": k,
                            "kind": "anonymous_id",
                            "value": f"anon-{k}",
                            "profile_id": k,
                            "seen_at": START,
                        }
                        for k in share
                    ],
                )
            pshare = range(start * profiles // attributions, (start + n) * profiles // attributions)
            if pshare:
                connection.execute(insert(prof), [{"id": k} for k in pshare])
    seconds = time.perf_counter() - started
    metadata.drop_all(database.engine)
    return seconds


def run_engine(name: str, url: str, events: int, *, freeze: bool) -> None:
    database = Database(url)
    runner.upgrade(database.engine)
    started = time.perf_counter()
    fill_log(database, events)
    fill_seconds = time.perf_counter() - started
    if freeze:
        gc.collect()
        gc.freeze()

    noop = Consumer(name="bench.noop", handle=_noop, description="reads only", batch_size=STITCH.batch_size)
    started = time.perf_counter()
    catch_up(database.sessions, [noop])
    read_seconds = time.perf_counter() - started

    started = time.perf_counter()
    catch_up(database.sessions, [STITCH])
    stitch_seconds = time.perf_counter() - started

    counts = {
        label: _count(database, model)
        for label, model in (
            ("profiles", IdentityProfile),
            ("identifiers", Identifier),
            ("attributions", EventAttribution),
            ("merges", IdentityMerge),
            ("conflicts", IdentityConflict),
        )
    }
    with database.unit_of_work() as session:
        live = int(
            session.scalar(
                select(func.count())
                .select_from(IdentityProfile)
                .where(IdentityProfile.merged_into_id.is_(None))
            )
            or 0
        )
    baseline_seconds = write_baseline(
        database, counts["identifiers"], counts["attributions"], counts["profiles"]
    )

    print(f"\n{name}: {events:,} events, consumer batches of {STITCH.batch_size}", end="")
    print(", gc.freeze() after start-up" if freeze else "", end="")
    print(f" (log filled in {fill_seconds:.0f} s)")
    print("  " + ", ".join(f"{n:,} {label}" for label, n in counts.items()) + f", {live:,} live profiles")
    rows = counts["identifiers"] + counts["attributions"] + counts["profiles"]

    def line(label: str, seconds: float, rate: str) -> None:
        print(f"  {label:<41}{seconds:7.1f} s  {rate}")

    line("baseline: read the log, no-op consumer", read_seconds, f"{events / read_seconds:>9,.0f} events/s")
    line("baseline: plain INSERT of those rows", baseline_seconds, f"{rows / baseline_seconds:>9,.0f} rows/s")
    line("identity.stitch", stitch_seconds, f"{events / stitch_seconds:>9,.0f} events/s")
    print(
        f"  ratios: {stitch_seconds / read_seconds:.2f}x the read-only baseline, "
        f"{stitch_seconds / (read_seconds + baseline_seconds):.2f}x read + insert baselines together"
    )
    target = 60 * events / 1_000_000
    verdict = "within" if stitch_seconds <= target else "OVER"
    print(f"  target 1,000,000 events <= 60 s scaled to {events:,}: {target:.1f} s -> {verdict}")
    database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--gc-freeze", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()
    engines = args.engines.split(",")
    if "sqlite" in engines:
        with tempfile.TemporaryDirectory() as tmp:
            run_engine("SQLite (WAL)", f"sqlite:///{tmp}/bench.db", args.events, freeze=args.gc_freeze)
    if "postgresql" in engines:
        with postgres_database() as url:
            if url is None:
                print("\nPostgreSQL: not reachable, skipped")
            else:
                run_engine("PostgreSQL", url, args.events, freeze=args.gc_freeze)


if __name__ == "__main__":
    main()
