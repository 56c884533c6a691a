"""Live orders for the demo's journeys: a few customers order again now, through the orders service.

The simulated history ends before today, and trigger events older than a day let nobody into a journey.
So some of the customers whose recent online orders the demo placed order the same goods again now: each
order logs Order Completed (the post-purchase cross-sell lets them in), and the click & collect ones are
picked and readied at once, logging Order Ready For Pickup (the pickup notice names store and code).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from omni.db.engine import Database
from omni.kit.errors import OmniError
from omni.kit.time import utc_now
from omni.orders import service as orders_service
from omni.orders import transitions as orders_transitions
from omni.orders.schemas import OrderCreate, OrderFilter
from omni.orders.states import Action

BY = "demo:shop"


@dataclass
class LiveOrders:
    placed: list[str] = field(default_factory=list)
    ready_for_pickup: list[str] = field(default_factory=list)
    # products[] entries (Segment e-commerce spec) of the goods ordered, for the demo's live carts
    products: list[list[dict[str, Any]]] = field(default_factory=list)
    # order number -> (identifier kind, value) of its customer
    customers: dict[str, tuple[str, str]] = field(default_factory=dict)


def _again(order: Any, number: str) -> OrderCreate:
    read = order
    lines = [line for line in read.lines if line.status != "cancelled"]
    return OrderCreate.model_validate(
        {
            "channel": read.channel,
            "fulfilment": read.fulfilment.value,
            "store": read.store_code,
            "ship_to": read.ship_to or None,
            "number": number,
            "customer": read.customer.model_dump(exclude_none=True),
            "lines": [
                {"sku": line.sku, "quantity": line.quantity, "unit_price_minor": line.unit_price_minor}
                for line in lines
            ],
        }
    )


def place_live_orders(database: Database, *, count: int, stamp: str) -> LiveOrders:
    """count customers of the last weeks' online orders order the same again now; pickups are readied."""
    live = LiveOrders()
    with database.unit_of_work() as session:
        since = utc_now() - timedelta(days=60)
        recent = orders_service.list_orders(session, OrderFilter(placed_from=since), limit=count * 4).items
        # Pickups first: they show the store and pickup code; then home deliveries.
        recent.sort(key=lambda o: o.fulfilment != "click_and_collect")
        reads = [orders_service.order_read(session, orders_service.get_order(session, o.id)) for o in recent]
    for n, read in enumerate(reads):
        if len(live.placed) >= count:
            break
        if not (read.customer.user_id or read.customer.email or read.customer.phone):
            continue
        number = f"live-{stamp}-{n}"
        try:
            with database.unit_of_work() as session:
                orders_service.place_order(session, _again(read, number), key=f"demo:{number}", by=BY)
                if read.fulfilment.value == "click_and_collect":
                    for action in (Action.PICK, Action.READY):
                        orders_transitions.take_step(session, number, action, by=BY)
                    live.ready_for_pickup.append(number)
        except (OmniError, ValueError):
            continue  # the goods are no longer in stock there: this customer does not order again
        live.placed.append(number)
        customer = read.customer
        kind, value = next(
            (k, v)
            for k, v in (("user_id", customer.user_id), ("email", customer.email), ("phone", customer.phone))
            if v
        )
        live.customers[number] = (kind, value)
        live.products.append(
            [
                {
                    "product_id": line.product_id,
                    "sku": line.sku,
                    "name": line.name,
                    "price": line.unit_price_minor / 100,
                    "price_minor": line.unit_price_minor,
                    "quantity": line.quantity,
                }
                for line in read.lines
            ]
        )
    return live
