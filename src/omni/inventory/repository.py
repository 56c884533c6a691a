"""The SQL of inventory: the conditional updates that keep stock from being oversold live here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Row, Table, Update, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from omni.inventory.models import Allocation, Reservation, StockLevel, StockMovement

_LEVEL_COLUMNS = (
    StockLevel.id,
    StockLevel.on_hand,
    StockLevel.reserved,
    StockLevel.allocated,
    StockLevel.safety_stock,
)


def ensure_level(
    session: Session, *, variant_id: int, location_id: int, sku: str, location_code: str, now: datetime
) -> None:
    """Create the empty level of sku at the location unless it exists; safe when two writers race."""
    values = {
        "variant_id": variant_id,
        "location_id": location_id,
        "sku": sku,
        "location_code": location_code,
        "on_hand": 0,
        "reserved": 0,
        "allocated": 0,
        "safety_stock": 0,
        "updated_at": now,
    }
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(StockLevel).values(values).on_conflict_do_nothing()
    session.execute(statement)


def level_of(session: Session, sku: str, location_code: str) -> StockLevel | None:
    return session.scalar(
        select(StockLevel)
        .execution_options(populate_existing=True)
        .where(StockLevel.sku == sku, StockLevel.location_code == location_code)
    )


def levels_of(session: Session, sku: str, location_codes: Sequence[str]) -> Sequence[StockLevel]:
    return session.scalars(
        select(StockLevel)
        .execution_options(populate_existing=True)
        .where(StockLevel.sku == sku, StockLevel.location_code.in_(location_codes))
    ).all()


_levels = cast(Table, StockLevel.__table__)
_reservations = cast(Table, Reservation.__table__)


def _take_statement(column: str) -> Update:
    # Built once: the hot path then pays for binding parameters only, not for building the statement.
    free = (
        _levels.c.on_hand
        - _levels.c.reserved
        - _levels.c.allocated
        - _levels.c.safety_stock
        - bindparam("b_location_safety")
    )
    return (
        update(_levels)
        .where(
            _levels.c.sku == bindparam("b_sku"),
            _levels.c.location_code == bindparam("b_location"),
            free >= bindparam("b_quantity"),
        )
        .values({column: _levels.c[column] + bindparam("b_quantity"), "updated_at": bindparam("b_now")})
        .returning(_levels.c.id)
    )


_TAKE = {column: _take_statement(column) for column in ("reserved", "allocated")}
_RESERVATION_EXISTS = select(_reservations.c.id).where(_reservations.c.reference == bindparam("b_reference"))
_INSERT_RESERVATION = insert(_reservations).returning(_reservations.c.id)


def take_units(
    session: Session,
    *,
    column: str,
    sku: str,
    location_code: str,
    quantity: int,
    location_safety: int,
    now: datetime,
) -> int | None:
    """Add quantity to the reserved or allocated units if that many are free; the level id, or None if not.

    One conditional UPDATE: PostgreSQL re-checks the WHERE clause on the locked row after a concurrent writer
    commits, and SQLite runs one writer at a time, so two buyers can never both take the last unit.
    """
    parameters = {
        "b_sku": sku,
        "b_location": location_code,
        "b_quantity": quantity,
        "b_location_safety": location_safety,
        "b_now": now,
    }
    return session.execute(_TAKE[column], parameters).scalar_one_or_none()


def reservation_exists(session: Session, reference: str) -> bool:
    return session.execute(_RESERVATION_EXISTS, {"b_reference": reference}).first() is not None


def insert_reservations(session: Session, rows: Sequence[dict[str, object]]) -> list[int]:
    """Insert reservation rows; their ids in the same order."""
    if len(rows) == 1:
        return [session.execute(_INSERT_RESERVATION, rows[0]).scalar_one()]
    result = session.execute(
        insert(_reservations).returning(_reservations.c.id, sort_by_parameter_order=True), list(rows)
    )
    return list(result.scalars())


def give_back_units(session: Session, *, column: str, level_id: int, quantity: int, now: datetime) -> None:
    """Return quantity units from reserved or allocated to the free stock."""
    target = StockLevel.reserved if column == "reserved" else StockLevel.allocated
    session.execute(
        update(StockLevel)
        .where(StockLevel.id == level_id)
        .values({target: target - quantity, StockLevel.updated_at: now}),
        execution_options={"synchronize_session": False},
    )


def move_on_hand(
    session: Session, *, level_id: int, delta: int, also_allocated: int = 0, now: datetime
) -> Row[int, int, int, int, int] | None:
    """Change on-hand by delta (and allocated by also_allocated) unless that leaves less than is committed.

    Answers the level after the change, or None when the change would break on_hand >= reserved + allocated.
    """
    statement = (
        update(StockLevel)
        .where(
            StockLevel.id == level_id,
            StockLevel.on_hand + delta >= StockLevel.reserved + StockLevel.allocated + also_allocated,
        )
        .values(
            {
                StockLevel.on_hand: StockLevel.on_hand + delta,
                StockLevel.allocated: StockLevel.allocated + also_allocated,
                StockLevel.updated_at: now,
            }
        )
        .returning(*_LEVEL_COLUMNS)
    )
    return session.execute(statement, execution_options={"synchronize_session": False}).one_or_none()


def close_reservation(
    session: Session, *, reference: str, status: str, now: datetime
) -> Row[int, int] | None:
    """Mark a held reservation closed; (level id, quantity) if this call closed it, else None."""
    statement = (
        update(Reservation)
        .where(Reservation.reference == reference, Reservation.status == "held")
        .values(status=status, closed_at=now)
        .returning(Reservation.stock_level_id, Reservation.quantity)
    )
    return session.execute(statement, execution_options={"synchronize_session": False}).one_or_none()


def close_allocation(
    session: Session, *, reference: str, status: str, now: datetime
) -> Row[int, int, str, str] | None:
    """Mark an open allocation closed; (level id, quantity, sku, location) if this call closed it."""
    statement = (
        update(Allocation)
        .where(Allocation.reference == reference, Allocation.status == "allocated")
        .values(status=status, closed_at=now)
        .returning(Allocation.stock_level_id, Allocation.quantity, Allocation.sku, Allocation.location_code)
    )
    return session.execute(statement, execution_options={"synchronize_session": False}).one_or_none()


def expired_references(
    session: Session, *, now: datetime, level_id: int | None = None, limit: int = 500
) -> Sequence[str]:
    query = (
        select(Reservation.reference)
        .where(Reservation.status == "held", Reservation.expires_at <= now)
        .order_by(Reservation.expires_at)
        .limit(limit)
    )
    if level_id is not None:
        query = query.where(Reservation.stock_level_id == level_id)
    return session.scalars(query).all()


def movement_totals(session: Session, level_ids: Sequence[int] | None = None) -> dict[int, int]:
    """Sum of movements per level id."""
    query = select(StockMovement.stock_level_id, func.sum(StockMovement.quantity)).group_by(
        StockMovement.stock_level_id
    )
    if level_ids is not None:
        query = query.where(StockMovement.stock_level_id.in_(level_ids))
    return {level_id: int(total) for level_id, total in session.execute(query).all()}


def commitment_totals(session: Session) -> dict[int, tuple[int, int]]:
    """Open reservation and allocation units per level id."""
    totals: dict[int, tuple[int, int]] = {}
    held = session.execute(
        select(Reservation.stock_level_id, func.sum(Reservation.quantity))
        .where(Reservation.status == "held")
        .group_by(Reservation.stock_level_id)
    ).all()
    for level_id, quantity in held:
        totals[level_id] = (int(quantity), 0)
    taken = session.execute(
        select(Allocation.stock_level_id, func.sum(Allocation.quantity))
        .where(Allocation.status == "allocated")
        .group_by(Allocation.stock_level_id)
    ).all()
    for level_id, quantity in taken:
        totals[level_id] = (totals.get(level_id, (0, 0))[0], int(quantity))
    return totals


def all_levels_of(session: Session, sku: str) -> Sequence[StockLevel]:
    return session.scalars(
        select(StockLevel).execution_options(populate_existing=True).where(StockLevel.sku == sku)
    ).all()


_WRITE_TURN = update(_levels).where(_levels.c.id < 0).values(on_hand=0)


def take_write_turn(session: Session) -> None:
    """On SQLite, take the database's write lock before this transaction reads anything.

    SQLite has one writer: a transaction that read a snapshot and then writes after another writer committed
    fails at once instead of waiting. A write that matches no row takes the lock now, and busy_timeout makes
    it wait its turn. PostgreSQL needs nothing: the conditional UPDATE locks the one row it changes.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(_WRITE_TURN)


def levels_where(
    session: Session, *, sku: str | None, location: str | None, limit: int
) -> Sequence[StockLevel]:
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


def levels_at(session: Session, location_codes: Sequence[str]) -> Sequence[StockLevel]:
    return session.scalars(
        select(StockLevel)
        .where(StockLevel.location_code.in_(location_codes))
        .order_by(StockLevel.sku, StockLevel.location_code)
    ).all()


def existing_levels(session: Session, skus: set[str]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    ordered = sorted(skus)
    for start in range(0, len(ordered), 500):
        query = select(_levels.c.sku, _levels.c.location_code).where(
            _levels.c.sku.in_(ordered[start : start + 500])
        )
        found.update((row.sku, row.location_code) for row in session.execute(query))
    return found


def insert_opening_levels(session: Session, levels: Sequence[dict[str, object]], *, now: datetime) -> None:
    """Insert levels with their on-hand units and one receipt movement each, in bulk."""
    if not levels:
        return
    inserted = session.execute(
        insert(_levels).returning(_levels.c.id, _levels.c.on_hand, _levels.c.sku, _levels.c.location_code),
        list(levels),
    )
    movements = [
        {
            "stock_level_id": row.id,
            "sku": row.sku,
            "location_code": row.location_code,
            "quantity": row.on_hand,
            "reason": "receipt",
            "reference": "opening-stock",
            "note": "opening stock",
            "at": now,
        }
        for row in inserted
    ]
    session.execute(insert(cast(Table, StockMovement.__table__)), movements)
