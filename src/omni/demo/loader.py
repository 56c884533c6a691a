"""Load the simulated retailer into Omni the way a retailer's systems would.

Locations and logins go through the services; every touchpoint gets a tracking source with its own write
key and sends its events over HTTP to the tracking API; the CRM's customer records arrive as a CSV export
through the bulk importer. Nothing is written straight into tables.
"""

from __future__ import annotations

import base64
import csv
import http.client
import itertools
import json
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from omni.accounts import service as accounts_service
from omni.accounts.roles import Role
from omni.accounts.schemas import UserCreate
from omni.catalog import service as catalog_service
from omni.catalog.schemas import LocationCreate, LocationKind
from omni.db.engine import Database
from omni.demo import commerce
from omni.demo.catalogue import save_catalogue
from omni.demo.journeys import JourneysSummary, prepare_journeys
from omni.demo.segments import prepare_segments
from omni.demo.simulate import simulate
from omni.demo.stock import stock_the_shelves
from omni.demo.truth import GroundTruthWriter, SimulationStats
from omni.demo.world import World, build_world
from omni.events import sources as events_sources
from omni.events.importer import ImportRequest, ImportSummary, prepare_import, run_import
from omni.events.schemas import SourceCreate, SourceKind
from omni.identity import service as identity_service
from omni.kit.errors import OmniError

INGEST_BATCH = 1000
HTTP_BATCH = 200
TRUTH_FIELDS = frozenset({"truth_person_id", "truth_person"})
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
    sent: int
    imported_customers: int
    logins: list[DemoLogin]
    journeys: JourneysSummary | None = None


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


# The retailer's tills send the member number (M + 8 digits) as userId; the web sends its account id.
MEMBER_NUMBER_PATTERN = r"M\d{8}"


def set_up_retailer(database: Database, world: World) -> list[DemoLogin]:
    """Create the retailer's locations, catalogue, identity rules and logins (kept when they exist)."""
    logins = []
    with database.unit_of_work() as session:
        rules = identity_service.rules_document(session)
        if rules.user_id_patterns.get("member_id") != MEMBER_NUMBER_PATTERN:
            rules.user_id_patterns["member_id"] = MEMBER_NUMBER_PATTERN
            identity_service.save_rules(session, rules)
        for location in _locations(world):
            catalog_service.save_location(session, location)
        save_catalogue(session, world)
        stock_the_shelves(session, world)
        for data, login in _demo_users(world):
            if accounts_service.find_user(session, data.email) is None:
                accounts_service.create_user(session, data)
            logins.append(login)
    return logins


# The simulator names touchpoints as the log does; each becomes a source of this kind and name.
def _source_for(simulated: str) -> SourceCreate:
    kind, _, name = simulated.partition(":")
    if kind == "pos":
        return SourceCreate(kind=SourceKind.POS, store_code=name)
    return SourceCreate(kind=SourceKind(kind), name=name or {"web": "webshop", "app": "app"}.get(kind, kind))


def write_keys(database: Database, world: World, keys_file: Path) -> dict[str, str]:
    """Each simulated touchpoint's write key: sources are created on the first run, their keys kept."""
    wanted = ["web", "app", "crm", "marketplace:shopee", *(f"pos:{store.code}" for store in world.stores)]
    keys: dict[str, str] = json.loads(keys_file.read_text()) if keys_file.exists() else {}
    with database.unit_of_work() as session:
        for simulated in wanted:
            if simulated in keys and events_sources.authenticate(session, keys[simulated]):
                continue
            data = _source_for(simulated)
            if data.name and events_sources.find_source(session, data.name) is not None:
                raise DemoError(
                    f"the demo source {data.name} exists but its write key is not in {keys_file}; "
                    "run the demo with a fresh OMNI_DATA_DIR"
                )
            keys[simulated] = events_sources.create_source(session, data).write_key
    keys_file.parent.mkdir(parents=True, exist_ok=True)
    keys_file.touch(mode=0o600)
    keys_file.write_text(json.dumps(keys, indent=2))
    return keys


class DemoError(OmniError):
    code = "demo_failed"


class TrackingClient:
    """Posts batches to Omni's tracking API as a touchpoint's SDK would, from a few parallel connections."""

    def __init__(self, base_url: str, keys: dict[str, str], *, connections: int = 4) -> None:
        parsed = urlsplit(base_url)
        self._host, self._port = parsed.hostname or "127.0.0.1", parsed.port or 80
        self._keys = keys
        self._local = threading.local()
        self._pool = ThreadPoolExecutor(max_workers=connections, thread_name_prefix="demo-sdk")

    def _connection(self) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = http.client.HTTPConnection(self._host, self._port, timeout=60)
            self._local.connection = connection
        return connection

    def _post(self, source: str, messages: list[dict[str, Any]]) -> None:
        body = json.dumps({"batch": messages, "sentAt": None}, ensure_ascii=False).encode()
        auth = base64.b64encode(f"{self._keys[source]}:".encode()).decode()
        headers = {"Content-Type": "application/json", "Authorization": f"Basic {auth}"}
        connection = self._connection()
        connection.request("POST", "/v1/batch", body=body, headers=headers)
        answer = connection.getresponse()
        text = answer.read().decode(errors="replace")
        if answer.status != 200:
            raise DemoError(f"the tracking API refused a {source} batch: {answer.status} {text[:300]}")

    def send(self, batches: list[tuple[str, list[dict[str, Any]]]]) -> None:
        """Send batches in parallel and wait until each was answered 200 (committed)."""
        for future in [self._pool.submit(self._post, source, messages) for source, messages in batches]:
            future.result()

    def close(self) -> None:
        self._pool.shutdown()


CRM_COLUMNS = (
    "member_id",
    "name",
    "email",
    "phone",
    "birthday",
    "home_store",
    "email_opt_in",
    "sms_opt_in",
    "updated_at",
)


def _as_message(event: Mapping[str, Any]) -> dict[str, Any]:
    # Ground truth rides along in the simulation for the truth writer; it never reaches the product.
    message = {k: v for k, v in event.items() if k not in TRUTH_FIELDS}
    message.pop("source", None)
    return message


def ingest(
    events: Iterable[Mapping[str, Any]],
    client: TrackingClient,
    crm_export: Path,
    *,
    on_batch: Callable[[int], None],
) -> int:
    """Send every touchpoint's events to the tracking API and write the CRM's records to a CSV export."""
    sent = 0
    with crm_export.open("w", newline="", encoding="utf-8") as export:
        crm = csv.DictWriter(export, fieldnames=CRM_COLUMNS)
        crm.writeheader()
        iterator = iter(events)
        while chunk := list(itertools.islice(iterator, INGEST_BATCH * 4)):
            by_source: dict[str, list[dict[str, Any]]] = {}
            for event in chunk:
                if event["source"] == "crm" and event["type"] == "identify":
                    traits = event.get("traits", {})
                    crm.writerow(
                        {**{c: traits.get(c, "") for c in CRM_COLUMNS}, "updated_at": event["timestamp"]}
                    )
                else:
                    by_source.setdefault(str(event["source"]), []).append(_as_message(event))
            batches = [
                (source, messages[start : start + HTTP_BATCH])
                for source, messages in by_source.items()
                for start in range(0, len(messages), HTTP_BATCH)
            ]
            client.send(batches)
            sent += len(chunk)
            on_batch(len(chunk))
    return sent


def import_crm(database: Database, crm_export: Path, *, timezone: str) -> ImportSummary:
    """Import the CRM's customer export through the bulk importer, as a retailer would."""
    request = ImportRequest(
        kind="customers",
        path=crm_export,
        source="crm:crm",
        channel="crm",
        timezone=timezone,
        user_field="member_id",
    )
    summary = run_import(prepare_import(request), database)
    if summary.rejections:
        first = summary.rejections[0]
        raise DemoError(f"the CRM export was refused: row {first.row}: {first.reason}")
    return summary


def demo_end_date(timezone: str) -> date:
    """Today in the retailer's time zone: the demo's history runs up to yesterday."""
    return datetime.now(ZoneInfo(timezone)).date()


def load_demo(
    database: Database,
    *,
    base_url: str,
    customers: int,
    seed: int,
    truth_dir: Path,
    timezone: str,
    on_events: Callable[[int], None],
    end: date | None = None,
) -> DemoSummary:
    """Set up the retailer, stream the simulation through the tracking API and the importer, writing truth.

    The simulated year ends the day before end (by default today in the retailer's time zone), so that
    "in the last 7 days" means something on the dashboard.
    """
    end = end or demo_end_date(timezone)
    world = build_world(seed)
    logins = set_up_retailer(database, world)
    keys = write_keys(database, world, truth_dir.parent / "write_keys.json")
    truth = GroundTruthWriter(truth_dir)
    client = TrackingClient(base_url, keys)
    crm_export = truth_dir / "crm_customers.csv"
    online = commerce.recent_online_orders(world, end=end)
    try:
        stream = online.withhold(truth.observe(simulate(customers=customers, seed=seed, end=end)))
        sent = ingest(stream, client, crm_export, on_batch=on_events)
    finally:
        client.close()
    stats = truth.close()
    imported = import_crm(database, crm_export, timezone=timezone)
    online.place_orders(database)
    prepare_segments(database)
    journeys = prepare_journeys(database)
    return DemoSummary(
        stats=stats, sent=sent, imported_customers=imported.imported_rows, logins=logins, journeys=journeys
    )
