"""Consumers and periodic jobs of the orders domain.

Till sales arrive as `Order Completed` events from the stores' POS sources; the consumer records each as a
completed in-store order (once per order number) so the order list, returns anywhere and a customer's
orders cover the tills too. It appends nothing: the till's own event already is the sale on the log.
Stock is not moved here: a till sale's goods left the shelf before Omni heard of it, and the store's stock
reaches inventory through its own receipts and counts.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from omni.db.engine import Database
from omni.db.periodic import PeriodicJob
from omni.events.consumers import Consumer
from omni.events.models import LoggedEvent
from omni.orders import order_events, repository, transitions
from omni.orders.models import Order, OrderLine, OrderStateChange
from omni.orders.states import Fulfilment, OrderState
from omni.settings import Settings

log = logging.getLogger(__name__)


def _minor(properties: dict[str, Any], name: str, default: int = 0) -> int:
    exact = properties.get(f"{name}_minor")
    if isinstance(exact, int) and not isinstance(exact, bool):
        return exact
    value = properties.get(name)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return round(value * 100)
    return default


def _line(index: int, item: dict[str, Any]) -> OrderLine | None:
    sku = str(item.get("sku") or item.get("product_id") or "").strip()
    quantity = item.get("quantity", 1)
    if not sku or not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
        return None
    return OrderLine(
        line_no=index,
        sku=sku[:64],
        product_id=str(item.get("product_id") or "")[:64],
        name=str(item.get("name") or "")[:300],
        category=str(item.get("category") or "")[:200],
        quantity=quantity,
        unit_price_minor=max(_minor(item, "price"), 0),
        location_code=None,
        status="handed_over",
        returned_quantity=0,
    )


def is_till_sale(event: LoggedEvent) -> bool:
    """An Order Completed from a store's till, not one Omni's orders domain appended itself."""
    return (
        event.event == order_events.ORDER_COMPLETED
        and event.channel == "pos"
        and event.source != order_events.SOURCE
        and bool(event.properties.get("order_id"))
    )


def till_order(event: LoggedEvent) -> tuple[Order, list[OrderLine]] | None:
    """The completed in-store order a till's Order Completed describes; None if it names no goods."""
    properties = event.properties
    items = properties.get("products")
    raw = items if isinstance(items, list) else []
    lines = [
        line
        for i, item in enumerate(raw)
        if isinstance(item, dict) and (line := _line(i + 1, item)) is not None
    ]
    if not lines:
        return None
    for number, line in enumerate(lines, start=1):
        line.line_no = number
    subtotal = sum(line.unit_price_minor * line.quantity for line in lines)
    discount = min(max(_minor(properties, "discount"), 0), subtotal)
    store = properties.get("store_code") or event.context.get("store_code") or event.source.partition(":")[2]
    traits = event.traits or {}
    order = Order(
        number=str(properties["order_id"])[:64],
        idempotency_key=None,
        request_hash="",
        channel=event.source[:64],
        channel_kind="pos",
        fulfilment=Fulfilment.IN_STORE.value,
        state=OrderState.COMPLETED.value,
        store_code=str(store)[:64] or None,
        pickup_code=None,
        user_id=event.user_id,
        anonymous_id=event.anonymous_id,
        member_id=None,
        email=str(traits["email"])[:254] if traits.get("email") else None,
        phone=str(traits["phone"])[:32] if traits.get("phone") else None,
        ship_to={},
        currency=str(properties.get("currency") or "TWD")[:3],
        subtotal_minor=subtotal,
        discount_minor=discount,
        shipping_minor=max(_minor(properties, "shipping"), 0),
        total_minor=_minor(properties, "total", subtotal - discount),
        refunded_minor=0,
        sourcing={"rules": ["till sale"], "lines": [], "note": "sold and handed over at the till"},
        origin="log",
        placed_at=event.timestamp,
        updated_at=event.timestamp,
    )
    return order, lines


def record_till_sales(session: Session, batch: Sequence[LoggedEvent]) -> None:
    """Record each till sale of the batch as a completed in-store order, once per order number."""
    sales = [event for event in batch if is_till_sale(event)]
    if not sales:
        return
    known = repository.numbers_present(session, [str(e.properties["order_id"])[:64] for e in sales])
    for event in sales:
        made = till_order(event)
        if made is None or made[0].number in known:
            continue
        order, lines = made
        known.add(order.number)
        session.add(order)
        session.flush()
        for line in lines:
            line.order_id = order.id
        session.add_all(lines)
        session.add(
            OrderStateChange(
                order_id=order.id,
                from_state=None,
                to_state=order.state,
                action="till_sale",
                by=event.source,
                note="",
                at=event.timestamp,
            )
        )
    session.flush()


TILL_SALES = Consumer(
    name="orders.till_sales",
    handle=record_till_sales,
    description="Records the stores' till sales (POS Order Completed events) as completed orders",
    batch_size=2000,
)

CONSUMERS = [TILL_SALES]


def expire_uncollected_pickups(
    factory: sessionmaker[Session], now: datetime | None = None, *, days: int = 7
) -> int:
    """Cancel orders waiting for pickup longer than days, releasing their stock; count them."""
    total = 0
    while True:
        with factory() as session, session.begin():
            done = transitions.cancel_uncollected(session, days=days, now=now, limit=200)
        total += done
        if done < 200:
            break
    if total:
        log.info("cancelled %d uncollected pickup orders", total)
    return total


def _expire_uncollected(database: Database, settings: Settings) -> int:
    return expire_uncollected_pickups(database.sessions, days=settings.pickup_hold_days)


EXPIRE_UNCOLLECTED = PeriodicJob(
    name="orders.expire_uncollected",
    every_seconds=3600,
    run=_expire_uncollected,
    description="Cancels pickup orders not collected within pickup_hold_days and releases their stock",
)

JOBS = [EXPIRE_UNCOLLECTED]
