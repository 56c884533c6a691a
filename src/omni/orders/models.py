"""Tables of the orders domain: orders, their lines, their state history, returns and returned items.

Other domains are referred to by their codes (location code, SKU, channel code), which the catalog keeps
unique and stable.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from omni.db.base import Base
from omni.db.types import BigIntKey, JSONDocument, UTCDateTime


class Order(Base):
    """A customer's order on one channel; the number is what the customer and the log call it."""

    __tablename__ = "customer_order"
    __table_args__ = (
        Index("ix_customer_order_placed_at", "placed_at"),
        Index("ix_customer_order_store_state", "store_code", "state"),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    # The client's key for this order: a retry with the same key answers with this order.
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(64))
    channel_kind: Mapped[str] = mapped_column(String(16))
    fulfilment: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(32))
    # The pickup store (click & collect, reserve in store) or the store it was ordered in (till, aisle).
    store_code: Mapped[str | None] = mapped_column(String(64))
    pickup_code: Mapped[str | None] = mapped_column(String(16))
    user_id: Mapped[str | None] = mapped_column(String(200))
    anonymous_id: Mapped[str | None] = mapped_column(String(200))
    member_id: Mapped[str | None] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    ship_to: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    currency: Mapped[str] = mapped_column(String(3))
    subtotal_minor: Mapped[int] = mapped_column(BigIntKey)
    discount_minor: Mapped[int] = mapped_column(BigIntKey, default=0)
    shipping_minor: Mapped[int] = mapped_column(BigIntKey, default=0)
    total_minor: Mapped[int] = mapped_column(BigIntKey)
    refunded_minor: Mapped[int] = mapped_column(BigIntKey, default=0)
    # Where each line is fulfilled from, the candidates weighed and why (sourcing.plan_sourcing).
    sourcing: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    # "api" for orders placed through Omni, "log" for till sales recorded from the event log.
    origin: Mapped[str] = mapped_column(String(16))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OrderLine(Base):
    __tablename__ = "customer_order_line"
    __table_args__ = (UniqueConstraint("order_id", "line_no"),)

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(BigIntKey, ForeignKey("customer_order.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    sku: Mapped[str] = mapped_column(String(64))
    product_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_minor: Mapped[int] = mapped_column(BigIntKey)
    # The location that fulfils the line; None for a till sale's line recorded without stock.
    location_code: Mapped[str | None] = mapped_column(String(64))
    # open | shipped | handed_over | cancelled
    status: Mapped[str] = mapped_column(String(16))
    returned_quantity: Mapped[int] = mapped_column(Integer, default=0)


class OrderStateChange(Base):
    """One step of an order's history."""

    __tablename__ = "customer_order_state_change"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(BigIntKey, ForeignKey("customer_order.id"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32))
    by: Mapped[str] = mapped_column(String(254))
    note: Mapped[str] = mapped_column(String(500), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class OrderReturn(Base):
    """Goods brought back, at any store, against one order; idempotent by the client's key."""

    __tablename__ = "customer_order_return"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(BigIntKey, ForeignKey("customer_order.id"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    store_code: Mapped[str] = mapped_column(String(64))
    refund_minor: Mapped[int] = mapped_column(BigIntKey)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(200), default="")
    by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReturnedItem(Base):
    __tablename__ = "customer_order_return_item"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    return_id: Mapped[int] = mapped_column(BigIntKey, ForeignKey("customer_order_return.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    sku: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer)
    # restock | damaged | to_warehouse
    disposition: Mapped[str] = mapped_column(String(16))
    refund_minor: Mapped[int] = mapped_column(BigIntKey)
