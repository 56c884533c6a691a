"""Load the simulated retailer into Omni through the product's own paths: services and the event log."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omni.accounts import service as accounts_service
from omni.accounts.roles import Role
from omni.accounts.schemas import UserCreate
from omni.catalog import service as catalog_service
from omni.catalog.schemas import LocationCreate, LocationKind
from omni.consumers import ALL_CONSUMERS
from omni.db.engine import Database
from omni.demo.simulate import simulate
from omni.demo.truth import GroundTruthWriter, SimulationStats
from omni.demo.world import World, build_world
from omni.events import service as events_service
from omni.events.consumers import catch_up

INGEST_BATCH = 1000
DEMO_PASSWORD = "omni-demo-2026"
ADMIN_EMAIL = "admin@omni.demo"
MARKETER_EMAIL = "marketer@omni.demo"


@dataclass(frozen=True)
class DemoLogin:
    email: str
    role: Role
    store_code: str | None = None


@dataclass(frozen=True)
class DemoSummary:
    stats: SimulationStats
    appended: int
    duplicates: int
    logins: list[DemoLogin]


def _locations(world: World) -> Iterator[LocationCreate]:
    for store in world.stores:
        yield LocationCreate(
            code=store.code,
            kind=LocationKind.STORE,
            name=store.name,
            name_en=store.name_en,
            city=store.city,
            address=store.address,
            latitude=store.latitude,
            longitude=store.longitude,
            timezone=store.timezone,
            opening_hours={
                day: [tuple(span) for span in spans] for day, spans in store.opening_hours.items()
            },
            click_and_collect=store.click_and_collect,
            daily_pickup_capacity=store.daily_pickup_capacity,
        )
    warehouse = world.warehouse
    yield LocationCreate(
        code=warehouse.code,
        kind=LocationKind.WAREHOUSE,
        name=warehouse.name,
        name_en=warehouse.name_en,
        city=warehouse.city,
        address=warehouse.address,
        latitude=warehouse.latitude,
        longitude=warehouse.longitude,
    )
    for code, name, name_en in (("ONLINE-WEB", "官方網路商店", "Web shop"), ("ONLINE-APP", "官方 App", "App"),
                                ("ONLINE-MARKETPLACE", "蝦皮商城", "Marketplace")):  # fmt: skip
        yield LocationCreate(code=code, kind=LocationKind.ONLINE, name=name, name_en=name_en)


def _demo_users(world: World) -> list[tuple[UserCreate, DemoLogin]]:
    people = [
        (ADMIN_EMAIL, "示範管理員", Role.ADMIN, None),
        (MARKETER_EMAIL, "示範行銷", Role.MARKETER, None),
        *(
            (f"staff.{s.code.lower()}@omni.demo", f"{s.name} 店員", Role.STORE_STAFF, s.code)
            for s in world.stores
        ),
    ]
    return [
        (
            UserCreate(email=email, display_name=name, password=DEMO_PASSWORD, role=role, store_code=store),
            DemoLogin(email=email, role=role, store_code=store),
        )
        for email, name, role, store in people
    ]


def set_up_retailer(database: Database, world: World) -> list[DemoLogin]:
    """Create the retailer's locations and one login per role (kept when they exist)."""
    logins = []
    with database.unit_of_work() as session:
        for location in _locations(world):
            catalog_service.save_location(session, location)
        for data, login in _demo_users(world):
            if accounts_service.find_user(session, data.email) is None:
                accounts_service.create_user(session, data)
            logins.append(login)
    return logins


def _batches(events: Iterable[Mapping[str, Any]], size: int) -> Iterator[list[Mapping[str, Any]]]:
    iterator = iter(events)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def ingest(
    database: Database, events: Iterable[Mapping[str, Any]], *, on_batch: Callable[[int], None]
) -> tuple[int, int]:
    """Append simulated events to the log in batches, each touchpoint its own source; return (new, dupes)."""
    appended = duplicates = 0
    for batch in _batches(events, INGEST_BATCH):
        by_source: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
        for event in batch:
            by_source.setdefault((event["source"], event["channel"]), []).append(event)
        with database.unit_of_work() as session:
            for (source, channel), payloads in by_source.items():
                records = events_service.build_records(payloads, source=source, default_channel=channel)
                result = events_service.append_events(session, records)
                appended += result.appended
                duplicates += len(result.duplicates)
        on_batch(len(batch))
    return appended, duplicates


def load_demo(
    database: Database,
    *,
    customers: int,
    seed: int,
    truth_dir: Path,
    on_events: Callable[[int], None],
    on_consumed: Callable[[str, int], None],
) -> DemoSummary:
    """Set up the retailer, stream the simulation into the log (writing its ground truth), run consumers."""
    world = build_world(seed)
    logins = set_up_retailer(database, world)
    truth = GroundTruthWriter(truth_dir)
    appended, duplicates = ingest(
        database, truth.observe(simulate(customers=customers, seed=seed)), on_batch=on_events
    )
    stats = truth.close()
    catch_up(database.sessions, ALL_CONSUMERS, on_progress=on_consumed)
    return DemoSummary(stats=stats, appended=appended, duplicates=duplicates, logins=logins)
