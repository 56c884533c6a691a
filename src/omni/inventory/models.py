"""Tables of inventory: stock levels, the movements they are reconciled with, reservations and allocations.

Rows carry the SKU and location code beside the catalogue ids: codes are the retailer's stable names, and the
hot path (a cart hold) becomes one conditional UPDATE keyed by them, with no lookup first.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from omni.db.base import Base
from omni.db.types import BigIntKey, UTCDateTime


class StockLevel(Base):
    """Units of one SKU at one location: on hand, held by carts, taken by order lines."""

    __tablename__ = "stock_level"
    __table_args__ = (
        UniqueConstraint("sku", "location_code"),
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        CheckConstraint("reserved >= 0 AND allocated >= 0", name="commitments_not_negative"),
        # The promise the product makes: nothing held or taken that is not on the shelf.
        CheckConstraint("reserved + allocated <= on_hand", name="never_oversold"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("variant.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    location_code: Mapped[str] = mapped_column(String(64))
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    allocated: Mapped[int] = mapped_column(Integer, default=0)
    # Units of this SKU kept back here on top of the location's own safety stock.
    safety_stock: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StockMovement(Base):
    """One change of on-hand stock, never updated or deleted: the level is the sum of these."""

    __tablename__ = "stock_movement"
    __table_args__ = (
        Index("ix_stock_movement_level_at", "stock_level_id", "id"),
        Index("ix_stock_movement_reference", "reference"),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    stock_level_id: Mapped[int] = mapped_column(ForeignKey("stock_level.id"))
    sku: Mapped[str] = mapped_column(String(64))
    location_code: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer)  # signed: + in, - out
    # receipt | sale | transfer_in | transfer_out | adjustment | count | return | write_off
    reason: Mapped[str] = mapped_column(String(16))
    reference: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(String(500), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class Reservation(Base):
    """A cart's hold on units until it expires or is released."""

    __tablename__ = "stock_reservation"
    __table_args__ = (Index("ix_stock_reservation_held_until", "status", "expires_at"),)

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    reference: Mapped[str] = mapped_column(String(200), unique=True)
    stock_level_id: Mapped[int] = mapped_column(ForeignKey("stock_level.id"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    location_code: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="held")  # held | released | expired
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Allocation(Base):
    """Units taken by one order line until they leave the location or the line is cancelled."""

    __tablename__ = "stock_allocation"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    reference: Mapped[str] = mapped_column(String(200), unique=True)
    stock_level_id: Mapped[int] = mapped_column(ForeignKey("stock_level.id"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    location_code: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="allocated")  # allocated | released | fulfilled
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
