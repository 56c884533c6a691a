"""The SQL of a batch of cart holds (the reservation desk's group commit): levels locked and holds stored in
a fixed number of statements per batch, whatever its size."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Row, Table, bindparam, select, text, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from omni.inventory.models import Reservation, StockLevel

_levels = cast(Table, StockLevel.__table__)
_reservations = cast(Table, Reservation.__table__)


_ADD_RESERVED = (
    update(_levels)
    .where(
        _levels.c.id == bindparam("b_id"),
        _levels.c.on_hand - _levels.c.reserved - _levels.c.allocated - _levels.c.safety_stock
        >= bindparam("b_quantity"),
    )
    .values(reserved=_levels.c.reserved + bindparam("b_quantity"), updated_at=bindparam("b_now"))
)


def lock_levels(
    session: Session, pairs: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], Row[int, str, str, int, int, int, int]]:
    """(id, sku, location, on_hand, reserved, allocated, safety_stock) per (sku, location), rows locked.

    Locked in id order, so two batches that share levels wait for each other instead of deadlocking.
    """
    query = (
        select(
            _levels.c.id,
            _levels.c.sku,
            _levels.c.location_code,
            _levels.c.on_hand,
            _levels.c.reserved,
            _levels.c.allocated,
            _levels.c.safety_stock,
        )
        .where(tuple_(_levels.c.sku, _levels.c.location_code).in_(pairs))
        .order_by(_levels.c.id)
        .with_for_update()
    )
    return {(row.sku, row.location_code): row for row in session.execute(query)}


# PostgreSQL: the levels of a batch named by two array parameters, so the statement's text is the same for
# every batch (psycopg prepares it once) however many levels the batch has.
_LOCK_LEVELS_PG = text(
    "SELECT id, sku, location_code, on_hand, reserved, allocated, safety_stock FROM stock_level "
    "WHERE (sku, location_code) IN "
    "(SELECT * FROM unnest(CAST(:skus AS varchar[]), CAST(:locations AS varchar[]))) "
    "ORDER BY id FOR UPDATE"
)


# PostgreSQL: a batch's winners stored by one statement, whatever its size: the levels' reserved units raised
# (each only while that many are free) and the reservation rows inserted (a reference already taken is
# skipped); answers how many levels changed (reference NULL) and the id of each reservation inserted.
_STORE_HOLDS_PG = text(
    "WITH taken AS ("
    " UPDATE stock_level AS level SET reserved = level.reserved + amount.quantity, updated_at = :now"
    " FROM unnest(CAST(:level_ids AS bigint[]), CAST(:amounts AS integer[]), CAST(:safeties AS integer[]))"
    " AS amount(id, quantity, safety)"
    " WHERE level.id = amount.id"
    " AND level.on_hand - level.reserved - level.allocated - level.safety_stock - amount.safety"
    " >= amount.quantity"
    " RETURNING level.id"
    "), stored AS ("
    " INSERT INTO stock_reservation"
    " (reference, stock_level_id, sku, location_code, quantity, status, expires_at, created_at)"
    " SELECT hold.reference, hold.level_id, hold.sku, hold.location_code, hold.quantity, 'held',"
    " hold.expires_at, :now"
    " FROM unnest(CAST(:references AS varchar[]), CAST(:hold_levels AS bigint[]), CAST(:skus AS varchar[]),"
    " CAST(:locations AS varchar[]), CAST(:quantities AS integer[]), CAST(:expires AS timestamptz[]))"
    " AS hold(reference, level_id, sku, location_code, quantity, expires_at)"
    " ON CONFLICT (reference) DO NOTHING"
    " RETURNING reference, id"
    ") SELECT NULL AS reference, count(*) AS id FROM taken"
    " UNION ALL SELECT reference, id FROM stored"
)


def is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def lock_levels_by_arrays(
    session: Session, pairs: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], Row[int, str, str, int, int, int, int]]:
    """lock_levels on PostgreSQL, in one prepared statement whatever the number of pairs."""
    result = session.execute(
        _LOCK_LEVELS_PG, {"skus": [sku for sku, _ in pairs], "locations": [loc for _, loc in pairs]}
    )
    return {(row.sku, row.location_code): cast(Row[int, str, str, int, int, int, int], row) for row in result}


def store_holds(
    session: Session,
    amounts: Sequence[tuple[int, int, int]],
    rows: Sequence[dict[str, object]],
    *,
    now: datetime,
) -> tuple[int, dict[str, int]]:
    """add_reserved and insert_new_reservations as one statement on PostgreSQL: (levels changed, stored).

    amounts are (level id, units, the location's safety stock): a level changes only while that many are free.
    """
    result = session.execute(
        _STORE_HOLDS_PG,
        {
            "now": now,
            "level_ids": [level_id for level_id, _, _ in amounts],
            "amounts": [units for _, units, _ in amounts],
            "safeties": [safety for _, _, safety in amounts],
            "references": [row["reference"] for row in rows],
            "hold_levels": [row["stock_level_id"] for row in rows],
            "skus": [row["sku"] for row in rows],
            "locations": [row["location_code"] for row in rows],
            "quantities": [row["quantity"] for row in rows],
            "expires": [row["expires_at"] for row in rows],
        },
    )
    changed = 0
    stored: dict[str, int] = {}
    for reference, value in result:
        if reference is None:
            changed = int(value)
        else:
            stored[reference] = int(value)
    return changed, stored


def levels_with_expired_holds(session: Session, level_ids: Sequence[int], *, now: datetime) -> set[int]:
    """Which of the levels have a hold whose time is up, in one query."""
    if not level_ids:
        return set()
    query = (
        select(Reservation.stock_level_id)
        .distinct()
        .where(
            Reservation.status == "held",
            Reservation.expires_at <= now,
            Reservation.stock_level_id.in_(list(level_ids)),
        )
    )
    return set(session.scalars(query))


def add_reserved(session: Session, amounts: Sequence[tuple[int, int]], *, now: datetime) -> int:
    """Add each (level id, units) to reserved, each only while that many are free; the levels changed."""
    result = session.execute(
        _ADD_RESERVED,
        [{"b_id": level_id, "b_quantity": units, "b_now": now} for level_id, units in amounts],
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def insert_new_reservations(session: Session, rows: Sequence[dict[str, object]]) -> dict[str, int]:
    """Insert reservation rows whose reference is not taken yet; reference -> id of those inserted."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(_reservations)
        .on_conflict_do_nothing(index_elements=["reference"])
        .returning(_reservations.c.reference, _reservations.c.id)
    )
    return {row.reference: row.id for row in session.execute(statement, list(rows))}
