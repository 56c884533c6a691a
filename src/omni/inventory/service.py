"""Use cases of inventory: stock comes in and goes out as movements; carts hold it, order lines take it.

Every write that takes stock is one conditional UPDATE per SKU × location (see repository.take_units), so no
interleaving of buyers on SQLite or PostgreSQL can promise a unit twice. Services never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from omni.catalog import service as catalog_service
from omni.inventory import ledger, repository, stock_events
from omni.inventory.availability import channel_atp, free_units
from omni.inventory.errors import (
    AllocationClosed,
    InventoryError,
    UnknownAllocation,
)
from omni.inventory.models import Allocation, StockLevel, StockMovement
from omni.kit.time import utc_now

INBOUND_REASONS = frozenset({"receipt", "transfer_in", "adjustment", "count", "return"})


def receive_stock(
    session: Session,
    *,
    sku: str,
    location: str,
    quantity: int,
    reason: str = "receipt",
    note: str = "",
    reference: str = "",
) -> None:
    """Add quantity units of sku to the location's on-hand stock as one movement."""
    repository.take_write_turn(session)
    ledger.check_positive(quantity)
    if reason not in INBOUND_REASONS:
        raise InventoryError(
            f"reason must be one of {', '.join(sorted(INBOUND_REASONS))}, got {reason!r}",
            details=[{"field": "reason", "rule": f"one of {', '.join(sorted(INBOUND_REASONS))}"}],
        )
    level = ledger.level_for(session, sku, location, create=True)
    ledger.move(session, level, delta=quantity, reason=reason, reference=reference, note=note)


def adjust_stock(
    session: Session, *, sku: str, location: str, delta: int, note: str = "", reference: str = ""
) -> None:
    """Correct on-hand by a signed delta; never below what carts and order lines hold."""
    repository.take_write_turn(session)
    if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0:
        raise InventoryError(
            "delta must be a non-zero whole number", details=[{"field": "delta", "rule": "must not be 0"}]
        )
    level = ledger.level_for(session, sku, location, create=delta > 0)
    ledger.move(session, level, delta=delta, reason="adjustment", reference=reference, note=note)


def count_stock(session: Session, *, sku: str, location: str, counted: int, note: str = "") -> int:
    """Set on-hand to what a stock count found; the difference is a count movement. Returns the difference."""
    repository.take_write_turn(session)
    if isinstance(counted, bool) or not isinstance(counted, int) or counted < 0:
        raise InventoryError(
            "counted must be a whole number of 0 or more",
            details=[{"field": "counted", "rule": "must be >= 0"}],
        )
    level = ledger.level_for(session, sku, location, create=True)
    delta = counted - level.on_hand
    if delta != 0:
        ledger.move(session, level, delta=delta, reason="count", reference="", note=note)
    return delta


def write_off(
    session: Session, *, sku: str, location: str, quantity: int, note: str = "", reference: str = ""
) -> None:
    """Remove damaged or lost units from on-hand stock."""
    repository.take_write_turn(session)
    ledger.check_positive(quantity)
    level = ledger.level_for(session, sku, location, create=False)
    ledger.move(session, level, delta=-quantity, reason="write_off", reference=reference, note=note)


def transfer_stock(
    session: Session,
    *,
    sku: str,
    from_location: str,
    to_location: str,
    quantity: int,
    reference: str = "",
    note: str = "",
) -> None:
    """Move units between locations: a transfer_out here and a transfer_in there, in one transaction."""
    repository.take_write_turn(session)
    ledger.check_positive(quantity)
    if from_location == to_location:
        raise InventoryError(
            "a transfer needs two different locations",
            details=[{"field": "to_location", "rule": "must differ from from_location"}],
        )
    ledger.location_of(session, to_location, "to_location")
    source = ledger.level_for(session, sku, from_location, create=False)
    ledger.move(session, source, delta=-quantity, reason="transfer_out", reference=reference, note=note)
    target = ledger.level_for(session, sku, to_location, create=True)
    ledger.move(session, target, delta=quantity, reason="transfer_in", reference=reference, note=note)


def _take(session: Session, *, column: str, sku: str, location: str, quantity: int, safety: int) -> int:
    """Take units by the conditional update; expired holds on the level are released lazily first."""
    now = utc_now()
    taken = repository.take_units(
        session,
        column=column,
        sku=sku,
        location_code=location,
        quantity=quantity,
        location_safety=safety,
        now=now,
    )
    if taken is None:
        level = repository.level_of(session, sku, location)
        if level is not None and expire_reservations(session, now=now, level_id=level.id):
            taken = repository.take_units(
                session,
                column=column,
                sku=sku,
                location_code=location,
                quantity=quantity,
                location_safety=safety,
                now=now,
            )
    if taken is None:
        raise ledger.shortage(session, sku, location, quantity, safety)
    return taken


def reserve(
    session: Session, *, sku: str, location: str, quantity: int, expires_at: datetime, reference: str
) -> int:
    """Hold quantity units for a cart until expires_at; the reservation id. NotEnoughStock if short."""
    repository.take_write_turn(session)
    ledger.check_positive(quantity)
    ledger.check_reference(reference)
    if expires_at.tzinfo is None:
        raise InventoryError(
            "expires_at must carry a time zone", details=[{"field": "expires_at", "rule": "aware"}]
        )
    now = utc_now()
    if expires_at <= now:
        raise InventoryError(
            "expires_at must be in the future",
            details=[{"field": "expires_at", "rule": "must be in the future"}],
        )
    if repository.reservation_exists(session, reference):
        raise InventoryError(
            f"reservation {reference!r} already exists",
            details=[{"field": "reference", "rule": "must be unique"}],
        )
    _, safety = ledger.location_of(session, location)
    level_id = _take(session, column="reserved", sku=sku, location=location, quantity=quantity, safety=safety)
    row = {
        "reference": reference,
        "stock_level_id": level_id,
        "sku": sku,
        "location_code": location,
        "quantity": quantity,
        "status": "held",
        "expires_at": expires_at,
        "created_at": now,
    }
    return repository.insert_reservations(session, [row])[0]


def _release_reservation(session: Session, reference: str, *, status: str, now: datetime) -> int:
    closed = repository.close_reservation(session, reference=reference, status=status, now=now)
    if closed is None:
        return 0
    level_id, quantity = closed
    sku = session.scalar(select(StockLevel.sku).where(StockLevel.id == level_id))
    assert sku is not None
    watch = stock_events.BackInStockWatch.before(session, sku)
    repository.give_back_units(session, column="reserved", level_id=level_id, quantity=quantity, now=now)
    watch.after(session)
    return int(quantity)


def release_reservation(session: Session, *, reference: str) -> int:
    """Release a cart's hold; returns the units released (0 when it was already released or expired)."""
    repository.take_write_turn(session)
    return _release_reservation(session, reference, status="released", now=utc_now())


def expire_reservations(
    session: Session, *, now: datetime | None = None, level_id: int | None = None, limit: int = 500
) -> int:
    """Release holds whose time is up; returns how many were expired."""
    repository.take_write_turn(session)
    moment = now or utc_now()
    references = repository.expired_references(session, now=moment, level_id=level_id, limit=limit)
    return sum(
        1
        for reference in references
        if _release_reservation(session, reference, status="expired", now=moment)
    )


def allocate(session: Session, *, sku: str, location: str, quantity: int, reference: str) -> None:
    """Take quantity units for an order line; the same reference twice is a no-op. NotEnoughStock if short."""
    repository.take_write_turn(session)
    ledger.check_positive(quantity)
    ledger.check_reference(reference)
    if session.scalar(select(Allocation.id).where(Allocation.reference == reference)) is not None:
        return
    _, safety = ledger.location_of(session, location)
    level_id = _take(
        session, column="allocated", sku=sku, location=location, quantity=quantity, safety=safety
    )
    session.add(
        Allocation(
            reference=reference,
            stock_level_id=level_id,
            sku=sku,
            location_code=location,
            quantity=quantity,
            status="allocated",
            created_at=utc_now(),
        )
    )
    session.flush()


def release_allocation(session: Session, *, reference: str) -> int:
    """Give a cancelled order line's units back to free stock; returns the units released (0 if not open)."""
    repository.take_write_turn(session)
    now = utc_now()
    closed = repository.close_allocation(session, reference=reference, status="released", now=now)
    if closed is None:
        return 0
    level_id, quantity, sku, _ = closed
    watch = stock_events.BackInStockWatch.before(session, sku)
    repository.give_back_units(session, column="allocated", level_id=level_id, quantity=quantity, now=now)
    watch.after(session)
    return int(quantity)


def fulfil_allocation(session: Session, *, reference: str) -> None:
    """The line's goods leave the location: on-hand and the allocation go down together as a sale."""
    repository.take_write_turn(session)
    status = session.scalar(select(Allocation.status).where(Allocation.reference == reference))
    if status is None:
        raise UnknownAllocation(
            f"no allocation has reference {reference!r}",
            details=[{"field": "reference", "rule": "must exist"}],
        )
    if status == "fulfilled":
        return
    if status == "released":
        raise AllocationClosed(
            f"allocation {reference!r} was released and cannot be fulfilled",
            details=[{"field": "reference", "rule": "must be open"}],
        )
    closed = repository.close_allocation(session, reference=reference, status="fulfilled", now=utc_now())
    if closed is None:  # closed by a concurrent writer between the read and the update
        return
    level_id, quantity, _, _ = closed
    level = session.get(StockLevel, level_id)
    assert level is not None
    ledger.move(
        session, level, delta=-quantity, reason="sale", reference=reference, note="", allocated=-quantity
    )


def available_at(session: Session, *, sku: str, locations: Sequence[str]) -> dict[str, int]:
    """Free units of sku per location code (0 where it was never stocked)."""
    answer = dict.fromkeys(locations, 0)
    safety = {code: ledger.location_of(session, code)[1] for code in answer}
    for level in repository.levels_of(session, sku, list(answer)):
        answer[level.location_code] = free_units(
            on_hand=level.on_hand,
            reserved=level.reserved,
            allocated=level.allocated,
            safety_stock=level.safety_stock + safety[level.location_code],
        )
    return answer


def available_to_promise(session: Session, *, sku: str, channel: str) -> int:
    """Units of sku the channel may promise: its locations' free units less the channel's buffer."""
    buffer = catalog_service.get_channel(session, channel).stock_buffer
    codes = [location.code for location in catalog_service.fulfilling_locations(session, channel)]
    return channel_atp(available_at(session, sku=sku, locations=codes).values(), stock_buffer=buffer)


def level_rows(
    session: Session, *, sku: str | None = None, location: str | None = None, limit: int = 500
) -> Sequence[StockLevel]:
    """Stock levels, by SKU then location, optionally of one SKU or location."""
    query = (
        select(StockLevel)
        .execution_options(populate_existing=True)
        .order_by(StockLevel.sku, StockLevel.location_code)
        .limit(limit)
    )
    if sku:
        query = query.where(StockLevel.sku == sku)
    if location:
        query = query.where(StockLevel.location_code == location)
    return session.scalars(query).all()


def movements(
    session: Session, *, sku: str | None = None, location: str | None = None, limit: int = 100
) -> Sequence[StockMovement]:
    """The newest movements first, optionally of one SKU or location."""
    query = select(StockMovement).order_by(StockMovement.id.desc()).limit(limit)
    if sku:
        query = query.where(StockMovement.sku == sku)
    if location:
        query = query.where(StockMovement.location_code == location)
    return session.scalars(query).all()


def set_safety_stock(session: Session, *, sku: str, location: str, quantity: int) -> None:
    """Keep quantity units of sku back at the location, on top of the location's own safety stock."""
    repository.take_write_turn(session)
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
        raise InventoryError(
            "safety stock must be 0 or more", details=[{"field": "safety_stock", "rule": "must be >= 0"}]
        )
    level = ledger.level_for(session, sku, location, create=True)
    level.safety_stock = quantity
    level.updated_at = utc_now()
    session.flush()


def reconcile(session: Session) -> list[ledger.Discrepancy]:
    """Levels that disagree with their movements or their open holds and order lines; empty when all agree."""
    return ledger.reconcile(session)


def open_stock(session: Session, lines: Sequence[tuple[str, str, int]]) -> int:
    """Give SKUs their opening stock, (sku, location, units) each, as receipts; levels that exist are kept.

    Made for loading a whole catalogue at once: levels and movements go in as two bulk inserts, and no
    stock-change events are told, as an opening balance is not news to anyone waiting for a SKU.
    """
    repository.take_write_turn(session)
    now = utc_now()
    wanted = [(sku, location, units) for sku, location, units in lines if units > 0]
    existing = repository.existing_levels(session, {sku for sku, _, _ in wanted})
    variant_ids: dict[str, int] = {}
    levels = []
    for sku, location, units in wanted:
        if (sku, location) in existing:
            continue
        if sku not in variant_ids:
            variant_ids[sku] = ledger.variant_id_of(session, sku)
        existing.add((sku, location))
        location_id, _ = ledger.location_of(session, location)
        levels.append(
            {
                "variant_id": variant_ids[sku],
                "location_id": location_id,
                "sku": sku,
                "location_code": location,
                "on_hand": units,
                "reserved": 0,
                "allocated": 0,
                "safety_stock": 0,
                "updated_at": now,
            }
        )
    repository.insert_opening_levels(session, levels, now=now)
    return len(levels)
