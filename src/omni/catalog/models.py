"""Tables of the catalog domain."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from omni.db.base import Base
from omni.db.types import JSONDocument


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
