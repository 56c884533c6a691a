"""The SQL of the orders domain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, distinct, func, select, update
from sqlalchemy.orm import Session

from omni.orders.models import Order, OrderLine, OrderReturn, OrderStateChange, ReturnedItem
from omni.orders.schemas import OrderFilter
from omni.orders.states import COLLECTED, OrderState


def take_write_turn(session: Session) -> None:
    """On SQLite, take the database's write lock before this transaction reads anything.

    SQLite has one writer; a transaction that read a snapshot and then writes after another writer
    committed fails at once instead of waiting. A write statement that matches no row takes the lock now,
    and busy_timeout makes it wait its turn. PostgreSQL locks rows as the writes reach them.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(update(Order).where(Order.id < 0).values(state="placed"))


def order_by_key(session: Session, key: str) -> Order | None:
    return session.scalar(select(Order).where(Order.idempotency_key == key))


def order_by_number(session: Session, number: str, *, for_update: bool = False) -> Order | None:
    query = select(Order).where(Order.number == number)
    # The row lock serialises steps on one order (PostgreSQL); SQLite has one writer at a time anyway.
    return session.scalar(query.with_for_update() if for_update else query)


def order_by_id(session: Session, order_id: int, *, for_update: bool = False) -> Order | None:
    query = select(Order).where(Order.id == order_id)
    return session.scalar(query.with_for_update() if for_update else query)


def numbers_present(session: Session, numbers: Sequence[str]) -> set[str]:
    if not numbers:
        return set()
    return set(session.scalars(select(Order.number).where(Order.number.in_(numbers))).all())


def lines_of(session: Session, order_id: int) -> list[OrderLine]:
    return list(
        session.scalars(select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.line_no))
    )


def history_of(session: Session, order_id: int) -> list[OrderStateChange]:
    return list(
        session.scalars(
            select(OrderStateChange)
            .where(OrderStateChange.order_id == order_id)
            .order_by(OrderStateChange.id)
        )
    )


def returns_of(session: Session, order_id: int) -> list[tuple[OrderReturn, list[ReturnedItem]]]:
    returns = session.scalars(
        select(OrderReturn).where(OrderReturn.order_id == order_id).order_by(OrderReturn.id)
    ).all()
    if not returns:
        return []
    items = session.scalars(
        select(ReturnedItem)
        .where(ReturnedItem.return_id.in_([r.id for r in returns]))
        .order_by(ReturnedItem.id)
    ).all()
    return [(r, [i for i in items if i.return_id == r.id]) for r in returns]


def return_by_key(session: Session, key: str) -> OrderReturn | None:
    return session.scalar(select(OrderReturn).where(OrderReturn.idempotency_key == key))


def pickups_booked(session: Session, store: str, start: datetime, end: datetime) -> int:
    """Pickup orders for store placed in [start, end), cancelled ones not counted."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Order)
            .where(
                Order.store_code == store,
                Order.fulfilment.in_([f.value for f in COLLECTED]),
                Order.state != OrderState.CANCELLED.value,
                Order.placed_at >= start,
                Order.placed_at < end,
            )
        )
        or 0
    )


def orders_sourced_from(
    session: Session, locations: Sequence[str], start: datetime, end: datetime
) -> dict[str, int]:
    """How many orders placed in [start, end) each location fulfils lines of."""
    if not locations:
        return {}
    rows = session.execute(
        select(OrderLine.location_code, func.count(distinct(OrderLine.order_id)))
        .join(Order, Order.id == OrderLine.order_id)
        .where(
            OrderLine.location_code.in_(locations),
            Order.origin == "api",
            Order.placed_at >= start,
            Order.placed_at < end,
        )
        .group_by(OrderLine.location_code)
    ).all()
    return {code: int(count) for code, count in rows if code is not None}


def _filtered(query: Select[Any], where: OrderFilter) -> Select[Any]:
    if where.channel:
        query = query.where(Order.channel == where.channel)
    if where.store:
        query = query.where(Order.store_code == where.store)
    if where.state:
        query = query.where(Order.state == where.state)
    if where.fulfilment:
        query = query.where(Order.fulfilment == where.fulfilment)
    if where.placed_from:
        query = query.where(Order.placed_at >= where.placed_from)
    if where.placed_until:
        query = query.where(Order.placed_at < where.placed_until)
    if where.number:
        query = query.where(Order.number == where.number)
    return query


def list_orders(session: Session, where: OrderFilter, *, limit: int, offset: int) -> tuple[list[Order], int]:
    """A page of orders, newest first, and how many match."""
    total = session.scalar(_filtered(select(func.count()).select_from(Order), where))
    rows = session.scalars(
        _filtered(select(Order), where)
        .order_by(Order.placed_at.desc(), Order.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return [row for row in rows if isinstance(row, Order)], int(total or 0)


def item_counts(session: Session, order_ids: Sequence[int]) -> dict[int, int]:
    if not order_ids:
        return {}
    rows = session.execute(
        select(OrderLine.order_id, func.sum(OrderLine.quantity))
        .where(OrderLine.order_id.in_(order_ids))
        .group_by(OrderLine.order_id)
    ).all()
    return {order_id: int(count or 0) for order_id, count in rows}


def pickup_queue(session: Session, store: str) -> list[Order]:
    """The store's pickup orders still to hand over: being picked or waiting on the shelf."""
    return list(
        session.scalars(
            select(Order)
            .where(
                Order.store_code == store,
                Order.fulfilment.in_([f.value for f in COLLECTED]),
                Order.state.in_(
                    [OrderState.ALLOCATED.value, OrderState.PICKING.value, OrderState.READY_FOR_PICKUP.value]
                ),
            )
            .order_by(Order.ready_at.is_(None), Order.ready_at, Order.placed_at)
        )
    )


def uncollected(session: Session, ready_before: datetime, *, limit: int) -> list[Order]:
    """Orders ready for pickup since before ready_before, oldest first, locked for the caller."""
    return list(
        session.scalars(
            select(Order)
            .where(Order.state == OrderState.READY_FOR_PICKUP.value, Order.ready_at < ready_before)
            .order_by(Order.ready_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
