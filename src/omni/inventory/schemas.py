"""Shapes of stock as the API takes and gives it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

SKU = Field(min_length=1, max_length=64, description="The variant's SKU.")
LOCATION = Field(min_length=1, max_length=64, description="The location's code.")
NOTE = Field("", max_length=500)
REFERENCE = Field("", max_length=200, description="The document behind the change: a PO, a transfer note.")


class StockReceipt(BaseModel):
    sku: str = SKU
    location: str = LOCATION
    quantity: int = Field(gt=0, le=1_000_000, strict=True)
    note: str = NOTE
    reference: str = REFERENCE


class StockAdjustment(BaseModel):
    """A signed correction of on-hand stock (found, lost, damaged on the shelf)."""

    sku: str = SKU
    location: str = LOCATION
    delta: int = Field(ge=-1_000_000, le=1_000_000, strict=True, description="Units added (+), removed (-).")
    note: str = NOTE
    reference: str = REFERENCE


class StockCount(BaseModel):
    sku: str = SKU
    location: str = LOCATION
    counted: int = Field(ge=0, le=1_000_000, strict=True, description="Units found on the shelf.")
    note: str = NOTE


class StockTransfer(BaseModel):
    sku: str = SKU
    from_location: str = LOCATION
    to_location: str = LOCATION
    quantity: int = Field(gt=0, le=1_000_000, strict=True)
    note: str = NOTE
    reference: str = REFERENCE


class ReservationCreate(BaseModel):
    """A cart's hold on units for ttl_seconds."""

    sku: str = SKU
    location: str = LOCATION
    quantity: int = Field(gt=0, le=10_000, strict=True)
    ttl_seconds: int = Field(900, gt=0, le=7 * 24 * 3600, description="How long the hold lasts.")
    reference: str = Field(min_length=1, max_length=200, description="The cart's key for this hold; unique.")


class ReservationRead(BaseModel):
    id: int
    reference: str
    sku: str
    location: str
    quantity: int
    expires_at: datetime


class ReservationReleased(BaseModel):
    reference: str
    released: int


class StockLevelRead(BaseModel):
    sku: str
    location: str
    on_hand: int
    reserved: int
    allocated: int
    safety_stock: int
    available: int
    updated_at: datetime


class StockMovementRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    sku: str
    location: str = Field(validation_alias="location_code")
    quantity: int
    reason: str
    reference: str
    note: str
    at: datetime


class StoreAvailability(BaseModel):
    location: str
    name: str
    distance_km: float
    available: int
    click_and_collect: bool


class AvailabilityRead(BaseModel):
    sku: str
    channel: str | None
    available_to_promise: int | None = Field(description="The channel's ATP, when a channel was asked for.")
    stores: list[StoreAvailability] = Field(description="Nearby stores, nearest first.")


class FeedItem(BaseModel):
    sku: str
    quantity: int


class StockFeed(BaseModel):
    channel: str
    generated_at: datetime
    stock_buffer: int
    items: list[FeedItem]
