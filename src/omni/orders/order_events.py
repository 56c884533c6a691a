"""The Segment e-commerce events an order's steps append to the log, keyed to the customer.

Each step's messageId is derived from the order number and the step, so a step replayed after a crash or a
retried request can never put a second copy on the log (the log stores each messageId once).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from omni.events import service as events_service
from omni.orders.models import Order, OrderLine

SOURCE = "omni:orders"
ORDER_COMPLETED = "Order Completed"
ORDER_UPDATED = "Order Updated"
ORDER_CANCELLED = "Order Cancelled"
ORDER_REFUNDED = "Order Refunded"
ORDER_READY = "Order Ready For Pickup"
ORDER_PICKED_UP = "Order Picked Up"


def _major(minor: int) -> float:
    return minor / 100


def product_entry(line: OrderLine, quantity: int | None = None) -> dict[str, Any]:
    """One products[] entry of the e-commerce spec."""
    return {
        "product_id": line.product_id,
        "sku": line.sku,
        "name": line.name,
        "category": line.category,
        "price": _major(line.unit_price_minor),
        "price_minor": line.unit_price_minor,
        "quantity": line.quantity if quantity is None else quantity,
    }


def identity_of(order: Order) -> dict[str, Any]:
    """userId, anonymousId and traits so the event joins the customer's profile through stitching."""
    fields: dict[str, Any] = {}
    user_id = order.user_id or order.member_id
    if user_id:
        fields["userId"] = user_id
    # Without any identifier of the person the order itself is the anonymous visitor, and the traits
    # (email, phone) let identity resolution find the person.
    fields["anonymousId"] = order.anonymous_id or f"order:{order.number}"
    traits = {k: v for k, v in (("email", order.email), ("phone", order.phone)) if v}
    if order.member_id:
        traits["member_id"] = order.member_id
    return {"identity": fields, "traits": traits}


def _payload(
    order: Order, event: str, message_id: str, at: datetime, properties: dict[str, Any]
) -> dict[str, Any]:
    who = identity_of(order)
    context: dict[str, Any] = {"channel": order.channel_kind, "source": SOURCE}
    if order.store_code:
        context["store_code"] = order.store_code
    if who["traits"]:
        context["traits"] = who["traits"]
    return {
        "type": "track",
        "event": event,
        "messageId": message_id,
        **who["identity"],
        "timestamp": at.isoformat(),
        "context": context,
        "properties": {
            "order_id": order.number,
            "channel": order.channel,
            "fulfilment": order.fulfilment,
            "store_code": order.store_code,
            "currency": order.currency,
            **properties,
        },
    }


def order_properties(order: Order, lines: Sequence[OrderLine]) -> dict[str, Any]:
    revenue = order.subtotal_minor - order.discount_minor
    return {
        "status": order.state,
        "subtotal": _major(order.subtotal_minor),
        "discount": _major(order.discount_minor),
        "shipping": _major(order.shipping_minor),
        "total": _major(order.total_minor),
        "revenue": _major(revenue),
        "total_minor": order.total_minor,
        "revenue_minor": revenue,
        "products": [product_entry(line) for line in lines if line.status != "cancelled"],
    }


def append(
    session: Session,
    order: Order,
    event: str,
    *,
    step: str,
    at: datetime,
    properties: dict[str, Any],
) -> None:
    """Append one event of the order's step in the caller's transaction."""
    message_id = f"omni-order:{order.number}:{step}"
    records = events_service.build_records(
        [_payload(order, event, message_id, at, properties)],
        source=SOURCE,
        default_channel=order.channel_kind,
    )
    events_service.append_events(session, records)
