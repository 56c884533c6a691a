"""Read answers of inventory: levels with what is free, stores near a customer, marketplace stock feeds."""

from __future__ import annotations

import csv
import io

from sqlalchemy.orm import Session

from omni.catalog import service as catalog_service
from omni.catalog.schemas import LocationKind
from omni.inventory import ledger, repository
from omni.inventory.availability import StoreStock, channel_atp, free_units, haversine_km, nearest_first
from omni.inventory.schemas import FeedItem, StockFeed, StockLevelRead
from omni.kit.time import utc_now


def level_reads(
    session: Session, *, sku: str | None = None, location: str | None = None, limit: int = 500
) -> list[StockLevelRead]:
    """Levels by SKU then location, each with the units still free to promise there."""
    if sku:
        ledger.variant_id_of(session, sku)
    if location:
        ledger.location_of(session, location)
    safety = {found.code: found.safety_stock for found in catalog_service.list_locations(session)}
    return [
        StockLevelRead(
            sku=level.sku,
            location=level.location_code,
            on_hand=level.on_hand,
            reserved=level.reserved,
            allocated=level.allocated,
            safety_stock=level.safety_stock + safety.get(level.location_code, 0),
            available=free_units(
                on_hand=level.on_hand,
                reserved=level.reserved,
                allocated=level.allocated,
                safety_stock=level.safety_stock + safety.get(level.location_code, 0),
            ),
            updated_at=level.updated_at,
        )
        for level in repository.levels_where(session, sku=sku, location=location, limit=limit)
    ]


def stores_near(
    session: Session, *, sku: str, latitude: float, longitude: float, limit: int = 5
) -> list[StoreStock]:
    """The stores nearest the point, nearest first, with the units of sku free at each."""
    ledger.variant_id_of(session, sku)
    stores = catalog_service.list_locations(session, kind=LocationKind.STORE)
    levels = {level.location_code: level for level in repository.all_levels_of(session, sku)}
    answers = []
    for store in stores:
        if store.latitude is None or store.longitude is None:
            continue
        level = levels.get(store.code)
        free = (
            free_units(
                on_hand=level.on_hand,
                reserved=level.reserved,
                allocated=level.allocated,
                safety_stock=level.safety_stock + store.safety_stock,
            )
            if level is not None
            else 0
        )
        answers.append(
            StoreStock(
                location=store.code,
                name=store.name,
                distance_km=round(haversine_km(latitude, longitude, store.latitude, store.longitude), 2),
                available=free,
                click_and_collect=store.click_and_collect,
            )
        )
    return nearest_first(answers, limit=limit)


def stock_feed(session: Session, *, channel: str) -> StockFeed:
    """What the channel may sell of every stocked SKU, its buffer already taken off, SKU by SKU."""
    found = catalog_service.get_channel(session, channel)
    locations = catalog_service.fulfilling_locations(session, channel)
    safety = {location.code: location.safety_stock for location in locations}
    free: dict[str, list[int]] = {}
    for level in repository.levels_at(session, list(safety)):
        free.setdefault(level.sku, []).append(
            free_units(
                on_hand=level.on_hand,
                reserved=level.reserved,
                allocated=level.allocated,
                safety_stock=level.safety_stock + safety[level.location_code],
            )
        )
    return StockFeed(
        channel=found.code,
        generated_at=utc_now(),
        stock_buffer=found.stock_buffer,
        items=[
            FeedItem(sku=sku, quantity=channel_atp(units, stock_buffer=found.stock_buffer))
            for sku, units in sorted(free.items())
        ],
    )


def feed_csv(feed: StockFeed) -> str:
    """The feed as CSV with a header row: sku,quantity."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["sku", "quantity"])
    writer.writerows([item.sku, item.quantity] for item in feed.items)
    return out.getvalue()
