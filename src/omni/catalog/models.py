"""Tables of the catalog domain: locations, sales channels, categories, products, variants and prices."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from omni.db.base import Base
from omni.db.types import JSONDocument, UTCDateTime


class Location(Base):
    """A place that holds stock or serves customers: a store, a warehouse, or an online shop."""

    __tablename__ = "location"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(300))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    timezone: Mapped[str] = mapped_column(String(64))
    # {"mon": [["11:00", "21:30"]], ...}; a missing day means closed.
    opening_hours: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    click_and_collect: Mapped[bool] = mapped_column(Boolean, default=False)
    daily_pickup_capacity: Mapped[int] = mapped_column(Integer, default=0)
    # Units of every SKU kept back here (display pieces, damage allowance); not promised to any channel.
    safety_stock: Mapped[int] = mapped_column(Integer, default=0)


class SalesChannel(Base):
    """Where an order is taken: the web shop, the app, a store's till, a marketplace."""

    __tablename__ = "sales_channel"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # web | app | pos | marketplace
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    # The tracking source name that this channel's events carry (e.g. "pos:TPE-XINYI").
    source: Mapped[str] = mapped_column(String(100))
    # The till's own store, for a POS channel.
    store_id: Mapped[int | None] = mapped_column(ForeignKey("location.id"))
    # Units per SKU held back from this channel's available-to-promise (e.g. 2 for a marketplace).
    stock_buffer: Mapped[int] = mapped_column(Integer, default=0)


class ChannelLocation(Base):
    """A location that may fulfil a channel's orders; ATP of the channel sums over these."""

    __tablename__ = "sales_channel_location"

    channel_id: Mapped[int] = mapped_column(ForeignKey("sales_channel.id"), primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"), primary_key=True)


class Category(Base):
    __tablename__ = "category"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("category.id"))


class Product(Base):
    __tablename__ = "product"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300))
    brand: Mapped[str] = mapped_column(String(100))
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"))
    description: Mapped[str] = mapped_column(String(4000), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Variant(Base):
    """A sellable item (SKU): one size and colour of a product; stock is counted per variant."""

    __tablename__ = "variant"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    barcode: Mapped[str | None] = mapped_column(String(32), unique=True)
    size: Mapped[str] = mapped_column(String(32), default="")
    colour: Mapped[str] = mapped_column(String(64), default="")
    colour_en: Mapped[str] = mapped_column(String(64), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Price(Base):
    """The price of a variant on one channel, in integer minor units of its currency (TWD: 1/100)."""

    __tablename__ = "price"
    __table_args__ = (UniqueConstraint("variant_id", "channel_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("variant.id"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("sales_channel.id"))
    amount_minor: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
