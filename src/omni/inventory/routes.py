"""The inventory API: stock levels and movements, receipts and counts, cart holds, availability, stock feeds.

Inventory sits below the API layer, so who may call is chosen where the application includes these routers:
`router` for staff who keep stock, `public_router` for the availability question shops and apps ask.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status
from sqlalchemy.orm import Session

from omni.db.requests import SessionDep
from omni.inventory import lookups, service
from omni.inventory.availability import parse_point
from omni.inventory.desk import ReservationDesk
from omni.inventory.errors import InventoryError
from omni.inventory.schemas import (
    AvailabilityRead,
    ReservationCreate,
    ReservationRead,
    ReservationReleased,
    StockAdjustment,
    StockCount,
    StockFeed,
    StockLevelRead,
    StockMovementRead,
    StockReceipt,
    StockTransfer,
    StoreAvailability,
)
from omni.kit.time import utc_now

router = APIRouter(prefix="/v1", tags=["inventory"])
public_router = APIRouter(prefix="/v1", tags=["inventory"])


SkuQuery = Annotated[str, Query(min_length=1, max_length=64, description="The variant's SKU.")]


class FeedFormat(StrEnum):
    CSV = "csv"
    JSON = "json"


@public_router.get("/availability", response_model=AvailabilityRead)
def availability(
    session: SessionDep,
    sku: SkuQuery,
    near: Annotated[str, Query(description="The customer's position as latitude,longitude.")],
    channel: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 5,
) -> AvailabilityRead:
    """Is it in stock at the nearest stores, nearest first, and how much may the channel promise?"""
    try:
        latitude, longitude = parse_point(near)
    except ValueError as exc:
        raise InventoryError(f"near {exc}", details=[{"field": "near", "rule": str(exc)}]) from None
    stores = lookups.stores_near(session, sku=sku, latitude=latitude, longitude=longitude, limit=limit)
    atp = service.available_to_promise(session, sku=sku, channel=channel) if channel else None
    return AvailabilityRead(
        sku=sku,
        channel=channel,
        available_to_promise=atp,
        stores=[StoreAvailability(**store.__dict__) for store in stores],
    )


@router.get("/stock", response_model=list[StockLevelRead])
def stock_levels(
    session: SessionDep,
    sku: Annotated[str | None, Query(max_length=64)] = None,
    location: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[StockLevelRead]:
    """Stock by SKU × location: on hand, held, taken, kept back and free."""
    return lookups.level_reads(session, sku=sku, location=location, limit=limit)


@router.get("/stock/movements", response_model=list[StockMovementRead])
def stock_movements(
    session: SessionDep,
    sku: Annotated[str | None, Query(max_length=64)] = None,
    location: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[StockMovementRead]:
    """The newest stock movements first."""
    found = service.movements(session, sku=sku, location=location, limit=limit)
    return [StockMovementRead.model_validate(movement) for movement in found]


def _level(session: Session, sku: str, location: str) -> StockLevelRead:
    (level,) = lookups.level_reads(session, sku=sku, location=location, limit=1)
    return level


@router.post("/stock/receipts", response_model=StockLevelRead, status_code=status.HTTP_201_CREATED)
def receive(session: SessionDep, body: StockReceipt) -> StockLevelRead:
    """Goods arrived at a location."""
    service.receive_stock(
        session,
        sku=body.sku,
        location=body.location,
        quantity=body.quantity,
        note=body.note,
        reference=body.reference,
    )
    return _level(session, body.sku, body.location)


@router.post("/stock/adjustments", response_model=StockLevelRead, status_code=status.HTTP_201_CREATED)
def adjust(session: SessionDep, body: StockAdjustment) -> StockLevelRead:
    """Correct on-hand stock by a signed number of units."""
    service.adjust_stock(
        session,
        sku=body.sku,
        location=body.location,
        delta=body.delta,
        note=body.note,
        reference=body.reference,
    )
    return _level(session, body.sku, body.location)


@router.post("/stock/counts", response_model=StockLevelRead, status_code=status.HTTP_201_CREATED)
def count(session: SessionDep, body: StockCount) -> StockLevelRead:
    """Record what a stock count found on the shelf."""
    service.count_stock(session, sku=body.sku, location=body.location, counted=body.counted, note=body.note)
    return _level(session, body.sku, body.location)


@router.post("/stock/transfers", response_model=list[StockLevelRead], status_code=status.HTTP_201_CREATED)
def transfer(session: SessionDep, body: StockTransfer) -> list[StockLevelRead]:
    """Move units from one location to another."""
    service.transfer_stock(
        session,
        sku=body.sku,
        from_location=body.from_location,
        to_location=body.to_location,
        quantity=body.quantity,
        reference=body.reference,
        note=body.note,
    )
    return [_level(session, body.sku, body.from_location), _level(session, body.sku, body.to_location)]


@router.post("/reservations", response_model=ReservationRead, status_code=status.HTTP_201_CREATED)
def reserve(request: Request, session: SessionDep, body: ReservationCreate) -> ReservationRead:
    """Hold units for a cart; 409 with the units available when there are too few."""
    expires_at = utc_now() + timedelta(seconds=body.ttl_seconds)
    # The application's desk commits holds in groups (a flash sale's holds on one SKU together); it is
    # committed when it answers. Without one (a bare router), the hold commits with this request.
    desk: ReservationDesk | None = getattr(request.app.state, "reservation_desk", None)
    if desk is not None:
        reservation_id = desk.reserve(
            sku=body.sku,
            location=body.location,
            quantity=body.quantity,
            expires_at=expires_at,
            reference=body.reference,
        )
    else:
        reservation_id = service.reserve(
            session,
            sku=body.sku,
            location=body.location,
            quantity=body.quantity,
            expires_at=expires_at,
            reference=body.reference,
        )
    return ReservationRead(
        id=reservation_id,
        reference=body.reference,
        sku=body.sku,
        location=body.location,
        quantity=body.quantity,
        expires_at=expires_at,
    )


@router.delete("/reservations/{reference}", response_model=ReservationReleased)
def release(
    session: SessionDep, reference: Annotated[str, Path(min_length=1, max_length=200)]
) -> ReservationReleased:
    """Release a cart's hold; releasing it again releases nothing."""
    return ReservationReleased(
        reference=reference, released=service.release_reservation(session, reference=reference)
    )


@router.get("/channels/{code}/stock-feed", response_model=StockFeed)
def stock_feed(
    session: SessionDep,
    code: Annotated[str, Path(min_length=1, max_length=64)],
    format: Annotated[FeedFormat, Query()] = FeedFormat.JSON,  # noqa: A002 - the name the feed's readers use
) -> StockFeed | Response:
    """What the channel may sell of every stocked SKU, with its buffer taken off, as JSON or CSV."""
    feed = lookups.stock_feed(session, channel=code)
    if format is FeedFormat.CSV:
        return Response(
            lookups.feed_csv(feed),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="stock-{code}.csv"'},
        )
    return feed
