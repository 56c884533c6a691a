"""Placing an order's lines: what each line's SKU is and costs, whether the pickup store can take it, and
where each line is sourced and allocated."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from omni.catalog import service as catalog_service
from omni.catalog.errors import NoPrice, UnknownLocation, UnknownSku
from omni.inventory import service as inventory_service
from omni.kit.time import as_utc
from omni.orders import repository
from omni.orders.errors import OrderInvalid, PickupUnavailable
from omni.orders.models import Order, OrderLine
from omni.orders.schemas import OrderCreate
from omni.orders.sourcing import Candidate, Need, plan_sourcing
from omni.orders.states import COLLECTED, Fulfilment


def line_reference(order: Order, line_no: int) -> str:
    """The inventory allocation reference of an order line."""
    return f"order:{order.id}:line:{line_no}"


@dataclass(frozen=True)
class ProductFacts:
    product_id: str
    name: str
    category: str


def product_facts(session: Session, sku: str) -> ProductFacts:
    """What an order line shows of a SKU's product; UnknownSku if there is none."""
    detail = catalog_service.variant_view(session, sku)
    return ProductFacts(detail.product.code, detail.product.name, detail.product.category)


def _day_bounds(moment: datetime, zone: str) -> tuple[datetime, datetime]:
    local = moment.astimezone(ZoneInfo(zone))
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return as_utc(start), as_utc(start + timedelta(days=1))


def pickup_store(session: Session, code: str, at: datetime) -> Any:
    """The click & collect store of an order, refused when unknown, not collecting, or full for the day."""
    try:
        store = catalog_service.get_location(session, code)
    except UnknownLocation:
        raise OrderInvalid(
            f"no location has code {code!r}", details=[{"field": "store", "rule": "must be a known store"}]
        ) from None
    if store.kind != "store" or not store.click_and_collect:
        raise PickupUnavailable(
            f"{code} does not offer click & collect",
            details=[{"field": "store", "rule": "the store must have click & collect switched on"}],
        )
    start, end = _day_bounds(at, store.timezone)
    booked = repository.pickups_booked(session, code, start, end)
    if booked >= store.daily_pickup_capacity:
        raise PickupUnavailable(
            f"{code} has no pickup capacity left today ({booked} of {store.daily_pickup_capacity} booked)",
            details=[
                {
                    "field": "store",
                    "rule": "the store's daily pickup capacity is used up",
                    "capacity": store.daily_pickup_capacity,
                    "booked": booked,
                }
            ],
        )
    return store


def priced_lines(session: Session, data: OrderCreate) -> list[tuple[int, str, int, int, str, ProductFacts]]:
    """(line_no, sku, quantity, unit price, currency, product) per line, every problem named at once."""
    problems: list[dict[str, Any]] = []
    priced = []
    for index, line in enumerate(data.lines):
        try:
            facts = product_facts(session, line.sku)
            if line.unit_price_minor is None:
                amount, currency = catalog_service.price_for(session, line.sku, data.channel)
            else:
                amount, currency = line.unit_price_minor, ""
        except UnknownSku:
            problems.append(
                {"field": f"lines.{index}.sku", "rule": f"no product variant has SKU {line.sku!r}"}
            )
            continue
        except NoPrice:
            problems.append(
                {
                    "field": f"lines.{index}.unit_price_minor",
                    "rule": f"{line.sku} has no price on {data.channel}; give unit_price_minor",
                }
            )
            continue
        priced.append((index + 1, line.sku, line.quantity, amount, currency, facts))
    if problems:
        raise OrderInvalid(f"{len(problems)} order line(s) refused", details=problems)
    currencies = {currency for *_, currency, _ in priced if currency}
    if len(currencies) > 1:
        raise OrderInvalid(
            "the lines are priced in different currencies",
            details=[
                {"field": "lines", "rule": f"one currency per order, got {', '.join(sorted(currencies))}"}
            ],
        )
    return priced


def _candidates(session: Session, order: Order, data: OrderCreate, at: datetime) -> list[Candidate]:
    fulfilment = Fulfilment(order.fulfilment)
    if fulfilment is Fulfilment.RESERVE_IN_STORE:
        locations = [catalog_service.get_location(session, order.store_code or "")]
    elif fulfilment is Fulfilment.ENDLESS_AISLE:
        # Ordered in a store that lacks it: any store or warehouse of the retailer may send it.
        locations = [
            loc for loc in catalog_service.list_locations(session) if loc.kind in ("store", "warehouse")
        ]
    else:
        locations = list(catalog_service.fulfilling_locations(session, data.channel))
        if fulfilment is Fulfilment.SHIP_FROM_STORE:
            locations = [loc for loc in locations if loc.kind == "store"]
        if fulfilment is Fulfilment.CLICK_AND_COLLECT and order.store_code not in {
            loc.code for loc in locations
        }:
            locations.append(catalog_service.get_location(session, order.store_code or ""))
    start, end = _day_bounds(at, "UTC")
    load = repository.orders_sourced_from(session, [loc.code for loc in locations], start, end)
    return [
        Candidate(
            code=loc.code,
            kind=loc.kind,
            latitude=loc.latitude,
            longitude=loc.longitude,
            capacity=loc.daily_pickup_capacity if loc.kind == "store" else None,
            capacity_left=(loc.daily_pickup_capacity - load.get(loc.code, 0))
            if loc.kind == "store"
            else None,
        )
        for loc in locations
        if loc.kind != "online"
    ]


def source_and_allocate(
    session: Session, order: Order, lines: Sequence[OrderLine], data: OrderCreate
) -> None:
    """Choose a location per line (sourcing.plan_sourcing), allocate its stock there, keep the reasons."""
    candidates = _candidates(session, order, data, order.placed_at)
    codes = [c.code for c in candidates]
    available = {
        sku: inventory_service.available_at(session, sku=sku, locations=codes)
        for sku in {line.sku for line in lines}
    }
    destination = None
    if data.ship_to and data.ship_to.latitude is not None and data.ship_to.longitude is not None:
        destination = (data.ship_to.latitude, data.ship_to.longitude)
    elif order.store_code and Fulfilment(order.fulfilment) in COLLECTED:
        store = next((c for c in candidates if c.code == order.store_code), None)
        if store and store.latitude is not None and store.longitude is not None:
            destination = (store.latitude, store.longitude)
    preferred = order.store_code if Fulfilment(order.fulfilment) in COLLECTED else None
    plan = plan_sourcing(
        [Need(line.line_no, line.sku, line.quantity) for line in lines],
        candidates,
        available,
        destination=destination,
        preferred=preferred,
    )
    for line in lines:
        line.location_code = plan.locations[line.line_no]
        inventory_service.allocate(
            session,
            sku=line.sku,
            location=line.location_code,
            quantity=line.quantity,
            reference=line_reference(order, line.line_no),
        )
    order.sourcing = plan.explanation
