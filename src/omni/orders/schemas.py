"""Shapes of orders, their steps and returns as the API takes and gives them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from omni.orders.states import Action, Fulfilment, OrderState

CODE_PATTERN = r"^[A-Za-z0-9_.:-]+$"


class OrderLineCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(gt=0, le=10_000, description="Units ordered; at least 1.")
    unit_price_minor: int | None = Field(
        None, ge=0, description="Price per unit in minor units; the channel's catalogue price when left out."
    )


class Address(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field("", max_length=200)
    line1: str = Field("", max_length=300)
    city: str = Field("", max_length=100)
    postal_code: str = Field("", max_length=16)
    country: str = Field("TW", min_length=2, max_length=2)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)


class Customer(BaseModel):
    """Who ordered, as the tracking spec carries them, so the order's events reach their profile."""

    model_config = ConfigDict(extra="forbid")

    user_id: str | None = Field(None, min_length=1, max_length=200)
    anonymous_id: str | None = Field(None, min_length=1, max_length=200)
    member_id: str | None = Field(None, min_length=1, max_length=64)
    email: str | None = Field(None, min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    phone: str | None = Field(None, min_length=4, max_length=32)


PICKUP_FULFILMENTS = (Fulfilment.CLICK_AND_COLLECT, Fulfilment.RESERVE_IN_STORE)
DELIVERED_FULFILMENTS = (Fulfilment.SHIP_TO_HOME, Fulfilment.SHIP_FROM_STORE, Fulfilment.ENDLESS_AISLE)


class OrderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: str = Field(min_length=1, max_length=64, pattern=CODE_PATTERN, description="Sales channel code.")
    fulfilment: Literal[
        "ship_to_home", "click_and_collect", "ship_from_store", "endless_aisle", "reserve_in_store"
    ]
    lines: list[OrderLineCreate] = Field(min_length=1, max_length=200)
    customer: Customer = Field(default_factory=Customer)
    store: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        description="Pickup store (click & collect, reserve in store) or the store ordered in (aisle).",
    )
    ship_to: Address | None = None
    number: str | None = Field(
        None, min_length=1, max_length=64, pattern=CODE_PATTERN, description="The shop's own order number."
    )
    idempotency_key: str | None = Field(
        None, min_length=1, max_length=200, description="Same as the Idempotency-Key header."
    )
    shipping_minor: int = Field(0, ge=0)
    discount_minor: int = Field(0, ge=0)
    placed_at: datetime | None = Field(None, description="When the customer ordered; now when left out.")

    @model_validator(mode="after")
    def _where(self) -> OrderCreate:
        kind = Fulfilment(self.fulfilment)
        if kind in PICKUP_FULFILMENTS and not self.store:
            raise ValueError(f"store: a {kind.value} order needs the pickup store")
        if kind in DELIVERED_FULFILMENTS and self.ship_to is None:
            raise ValueError(f"ship_to: a {kind.value} order needs the delivery address")
        if kind is Fulfilment.ENDLESS_AISLE and not self.store:
            raise ValueError("store: an endless aisle order needs the store it was ordered in")
        if self.placed_at is not None and self.placed_at.tzinfo is None:
            raise ValueError("placed_at: give a time zone offset")
        return self


class LineRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    line_no: int
    sku: str
    product_id: str
    name: str
    category: str
    quantity: int
    unit_price_minor: int
    location_code: str | None
    status: str
    returned_quantity: int


class StateChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_state: str | None
    to_state: str
    action: str
    by: str
    note: str
    at: datetime


class ReturnItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    line_no: int
    sku: str
    quantity: int
    disposition: str
    refund_minor: int


class ReturnRead(BaseModel):
    id: int
    order_number: str
    store_code: str
    refund_minor: int
    currency: str
    reason: str
    created_at: datetime
    items: list[ReturnItemRead]


class OrderRead(BaseModel):
    id: int
    number: str
    channel: str
    fulfilment: Fulfilment
    state: OrderState
    store_code: str | None
    customer: Customer
    ship_to: dict[str, Any]
    currency: str
    subtotal_minor: int
    discount_minor: int
    shipping_minor: int
    total_minor: int
    refunded_minor: int
    placed_at: datetime
    ready_at: datetime | None
    lines: list[LineRead]
    history: list[StateChangeRead]
    returns: list[ReturnRead]
    sourcing: dict[str, Any]
    allowed_actions: list[Action]
    pickup_code: str | None = Field(
        None, description="Only in the answer to the order's creation: the code the customer shows in store."
    )


class LineSelection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lines: list[int] | None = Field(
        None, min_length=1, description="Line numbers to ship or cancel; every open line when left out."
    )
    note: str = Field("", max_length=500)


class PickupHandover(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=16, description="The pickup code the customer shows.")


class Transition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Action
    lines: list[int] | None = Field(None, min_length=1)
    code: str | None = Field(None, min_length=1, max_length=16)
    note: str = Field("", max_length=500)


class Disposition(StrEnum):
    RESTOCK = "restock"
    DAMAGED = "damaged"
    TO_WAREHOUSE = "to_warehouse"


class ReturnItemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line: int = Field(gt=0, description="The order line's number.")
    quantity: int = Field(gt=0, le=10_000)
    disposition: Disposition


class ReturnCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    store: str = Field(min_length=1, max_length=64, description="The store that takes the goods back.")
    items: list[ReturnItemCreate] = Field(min_length=1, max_length=200)
    reason: str = Field("", max_length=200)
    idempotency_key: str | None = Field(None, min_length=1, max_length=200)


class OrderSummary(BaseModel):
    """One row of the order list."""

    id: int
    number: str
    channel: str
    fulfilment: str
    state: str
    store_code: str | None
    total_minor: int
    currency: str
    placed_at: datetime
    items: int


class OrderPage(BaseModel):
    items: list[OrderSummary]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class OrderFilter:
    """Which orders a list shows: every field given must match (placed_from inclusive, until exclusive)."""

    channel: str | None = None
    store: str | None = None
    state: str | None = None
    fulfilment: str | None = None
    placed_from: datetime | None = None
    placed_until: datetime | None = None
    number: str | None = None
