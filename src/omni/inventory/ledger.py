"""Ledger rules of inventory: every change of on-hand stock is a movement; levels reconcile with them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from omni.catalog import service as catalog_service
from omni.catalog.errors import UnknownLocation, UnknownSku
from omni.inventory import repository, stock_events
from omni.inventory.availability import free_units
from omni.inventory.errors import InventoryError, NotEnoughStock
from omni.inventory.models import StockLevel, StockMovement
from omni.kit.time import utc_now

# session.info key of the locations already looked up: code -> (id, safety stock).
LOCATIONS_CACHE = "omni.inventory.locations"


def check_positive(quantity: int, field: str = "quantity") -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise InventoryError(
            f"{field} must be a whole number above 0, got {quantity!r}",
            details=[{"field": field, "rule": "must be greater than 0"}],
        )


def check_reference(reference: str) -> None:
    if not reference or len(reference) > 200:
        raise InventoryError(
            "reference must be 1 to 200 characters",
            details=[{"field": "reference", "rule": "must be 1 to 200 characters"}],
        )


def location_of(session: Session, code: str, field: str = "location") -> tuple[int, int]:
    """(id, safety stock) of the location; UnknownLocation naming the field.

    Remembered for the session's life (one request or one batch of holds): a flash sale asks for the same
    store thousands of times, and its safety stock is an admin's setting, not something a sale changes.
    """
    known: dict[str, tuple[int, int]] = session.info.setdefault(LOCATIONS_CACHE, {})
    if code in known:
        return known[code]
    try:
        location = catalog_service.get_location(session, code)
    except UnknownLocation as exc:
        raise UnknownLocation(
            exc.message, details=[{"field": field, "rule": "must be a known location code"}]
        ) from None
    known[code] = (location.id, location.safety_stock)
    return known[code]


def variant_id_of(session: Session, sku: str) -> int:
    try:
        return catalog_service.get_variant(session, sku).id
    except UnknownSku as exc:
        raise UnknownSku(exc.message, details=[{"field": "sku", "rule": "must be a known SKU"}]) from None


def level_for(session: Session, sku: str, location: str, *, create: bool) -> StockLevel:
    """The level of sku at location, made empty on first use when create; unknown SKU or location raise."""
    level = repository.level_of(session, sku, location)
    if level is not None:
        return level
    location_id, _ = location_of(session, location)
    variant_id = variant_id_of(session, sku)
    if not create:
        raise NotEnoughStock(sku=sku, location=location, requested=0, available=0)
    repository.ensure_level(
        session,
        variant_id=variant_id,
        location_id=location_id,
        sku=sku,
        location_code=location,
        now=utc_now(),
    )
    created = repository.level_of(session, sku, location)
    assert created is not None  # just inserted, or inserted by a concurrent writer
    return created


def move(
    session: Session,
    level: StockLevel,
    *,
    delta: int,
    reason: str,
    reference: str,
    note: str,
    allocated: int = 0,
) -> None:
    """Change on-hand by delta as one movement, and append the stock-change events in the same transaction."""
    now = utc_now()
    watch = stock_events.BackInStockWatch.before(session, level.sku) if delta > 0 else None
    after = repository.move_on_hand(
        session, level_id=level.id, delta=delta, also_allocated=allocated, now=now
    )
    if after is None:
        session.refresh(level)
        raise NotEnoughStock(
            sku=level.sku,
            location=level.location_code,
            requested=-delta,
            available=level.on_hand - level.reserved - level.allocated,
        )
    session.add(
        StockMovement(
            stock_level_id=level.id,
            sku=level.sku,
            location_code=level.location_code,
            quantity=delta,
            reason=reason,
            reference=reference,
            note=note,
            at=now,
        )
    )
    session.flush()
    session.refresh(level)
    _, location_safety = location_of(session, level.location_code)
    stock_events.inventory_updated(
        session,
        sku=level.sku,
        location=level.location_code,
        on_hand=level.on_hand,
        available=free_units(
            on_hand=level.on_hand,
            reserved=level.reserved,
            allocated=level.allocated,
            safety_stock=level.safety_stock + location_safety,
        ),
        reason=reason,
        quantity=delta,
        reference=reference,
        at=now,
    )
    if watch is not None:
        watch.after(session)


def shortage(session: Session, sku: str, location: str, requested: int, safety: int) -> NotEnoughStock:
    level = repository.level_of(session, sku, location)
    if level is None:
        variant_id_of(session, sku)
        return NotEnoughStock(sku=sku, location=location, requested=requested, available=0)
    session.refresh(level)
    available = free_units(
        on_hand=level.on_hand,
        reserved=level.reserved,
        allocated=level.allocated,
        safety_stock=level.safety_stock + safety,
    )
    return NotEnoughStock(sku=sku, location=location, requested=requested, available=available)


@dataclass(frozen=True)
class Discrepancy:
    """A level whose numbers disagree with its movements or its open holds and order lines."""

    sku: str
    location: str
    field: str
    stored: int
    expected: int


def reconcile(session: Session) -> list[Discrepancy]:
    """Check every level against its ledger: on-hand = Σ movements, reserved and allocated = Σ open rows."""
    moved = repository.movement_totals(session)
    committed = repository.commitment_totals(session)
    found: list[Discrepancy] = []
    for level in session.scalars(select(StockLevel).order_by(StockLevel.sku, StockLevel.location_code)):
        held, taken = committed.get(level.id, (0, 0))
        for field, stored, expected in (
            ("on_hand", level.on_hand, moved.get(level.id, 0)),
            ("reserved", level.reserved, held),
            ("allocated", level.allocated, taken),
        ):
            if stored != expected:
                found.append(Discrepancy(level.sku, level.location_code, field, stored, expected))
    return found
