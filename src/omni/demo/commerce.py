"""The demo's recent online orders go through the orders service, not the tracking API.

The simulator writes a web or app order, its pickup steps and its refunds as tracking events. For the last
weeks of the simulation those events are held back from the tracking stream (`withhold`), and after the
history is loaded `place_orders` replays them as the shop would: place the order (the orders domain
appends `Order Completed`), pick and ready it, hand it over with its pickup code, cancel it, take goods
back at a store. So each of these orders reaches the log once, from the orders domain, and the pickup
queues show click & collect orders moving. Older history stays as tracking events, which keeps the demo
fast; an order the stock cannot serve keeps its original events.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import ValidationError

from omni.db.engine import Database
from omni.demo.touchpoints import SimulatedEvent
from omni.demo.world import World
from omni.events import service as events_service
from omni.kit.errors import OmniError
from omni.kit.time import as_utc
from omni.orders import returns as orders_returns
from omni.orders import service as orders_service
from omni.orders import transitions as orders_transitions
from omni.orders.schemas import OrderCreate, ReturnCreate
from omni.orders.states import Action

ONLINE_SOURCES = frozenset({"web", "app"})
FOLLOW_UPS = frozenset({"Order Ready For Pickup", "Order Picked Up", "Order Cancelled", "Order Refunded"})
BY = "demo:shop"
# Where online orders are delivered when the simulation gives no address: central Taipei.
DEFAULT_DESTINATION = {"city": "台北市", "latitude": 25.0418, "longitude": 121.5436}


@dataclass
class Withheld:
    """One online order and its follow-up events, in time order."""

    order: dict[str, Any]
    follow_ups: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class CommerceSummary:
    placed: int = 0
    handed_over: int = 0
    cancelled: int = 0
    returned: int = 0
    kept_as_events: int = 0


def _when(event: dict[str, Any]) -> datetime:
    return as_utc(datetime.fromisoformat(str(event["timestamp"]).replace("Z", "+00:00")))


class OnlineOrders:
    """Holds back the recent online orders of a simulated stream, then places them through the service."""

    def __init__(self, *, since: datetime, warehouse: str) -> None:
        self.since = since
        # Goods of a shipped order come back to the warehouse when no store took them.
        self.warehouse = warehouse
        self.orders: dict[str, Withheld] = {}

    def withhold(self, events: Iterable[SimulatedEvent]) -> Iterator[SimulatedEvent]:
        """The stream without the recent online orders and their follow-ups, which are kept here."""
        for event in events:
            properties = event.get("properties") or {}
            order_id = properties.get("order_id") if isinstance(properties, dict) else None
            name = event.get("event")
            if (
                name == "Order Completed"
                and event.get("source") in ONLINE_SOURCES
                and properties.get("fulfilment") in ("ship", "click_and_collect")
                and _when(dict(event)) >= self.since
            ):
                self.orders[str(order_id)] = Withheld(dict(event))
                continue
            if name in FOLLOW_UPS and order_id in self.orders:
                self.orders[str(order_id)].follow_ups.append(dict(event))
                continue
            yield event

    def place_orders(self, database: Database) -> CommerceSummary:
        """Place every withheld order and take its steps, oldest first."""
        summary = CommerceSummary()
        steps: list[tuple[datetime, int, str, dict[str, Any]]] = []
        for order_id, held in self.orders.items():
            if self._place(database, held):
                summary.placed += 1
                follow_ups = list(held.follow_ups)
                if held.order["properties"]["fulfilment"] == "ship":
                    # The simulator does not log the parcel's journey; the warehouse ships the next day.
                    placed = _when(held.order)
                    follow_ups += [
                        {"event": "_ship", "timestamp": (placed + timedelta(days=1)).isoformat()},
                        {"event": "_deliver", "timestamp": (placed + timedelta(days=3)).isoformat()},
                    ]
                steps.extend((_when(e), len(steps), order_id, e) for e in follow_ups)
            else:
                summary.kept_as_events += 1
        codes: dict[str, str] = {}
        for _, _, order_id, event in sorted(steps, key=lambda item: (item[0], item[1])):
            self._follow_up(database, order_id, event, codes, summary)
        return summary

    def _body(self, held: Withheld) -> OrderCreate:
        event = held.order
        properties = event["properties"]
        traits = (event.get("context") or {}).get("traits") or event.get("traits") or {}
        collect = properties["fulfilment"] == "click_and_collect"
        customer = {"user_id": event.get("userId"), "anonymous_id": event.get("anonymousId")}
        if isinstance(traits.get("email"), str) and "@" in traits["email"]:
            customer["email"] = traits["email"].strip()
        if isinstance(traits.get("phone"), str):
            customer["phone"] = traits["phone"][:32]
        return OrderCreate.model_validate(
            {
                "channel": event["source"],
                "fulfilment": "click_and_collect" if collect else "ship_to_home",
                "store": properties.get("pickup_store") if collect else None,
                "ship_to": None if collect else DEFAULT_DESTINATION,
                "number": properties["order_id"],
                "customer": {k: v for k, v in customer.items() if v},
                "lines": [
                    {"sku": p["sku"], "quantity": p["quantity"], "unit_price_minor": p["price_minor"]}
                    for p in properties["products"]
                ],
                "shipping_minor": round(float(properties.get("shipping", 0)) * 100),
                "discount_minor": int(properties.get("discount_minor", 0)),
                "placed_at": _when(event).isoformat(),
            }
        )

    def _place(self, database: Database, held: Withheld) -> bool:
        try:
            body = self._body(held)
            with database.unit_of_work() as session:
                orders_service.place_order(session, body, key=f"demo:{body.number}", by=BY)
            return True
        except (OmniError, ValidationError, KeyError):
            # Not enough stock (or a store without pickups): the order stays what the simulator said.
            self._keep_as_events(database, [held.order, *held.follow_ups])
            return False

    @staticmethod
    def _keep_as_events(database: Database, events: list[dict[str, Any]]) -> None:
        with database.unit_of_work() as session:
            for event in events:
                message = {
                    k: v for k, v in event.items() if k not in ("source", "truth_person", "truth_person_id")
                }
                records = events_service.build_records(
                    [message], source=str(event["source"]), default_channel=str(event.get("channel") or "web")
                )
                events_service.append_events(session, records)

    def _follow_up(
        self,
        database: Database,
        order_id: str,
        event: dict[str, Any],
        codes: dict[str, str],
        summary: CommerceSummary,
    ) -> None:
        name, at = event["event"], _when(event)
        try:
            with database.unit_of_work() as session:
                order = orders_service.get_order(session, order_id)
                if name == "_ship":
                    for action in (Action.PICK, Action.SHIP):
                        orders_transitions.take_step(session, order.id, action, by=BY, now=at)
                elif name == "_deliver":
                    orders_transitions.take_step(session, order.id, Action.DELIVER, by=BY, now=at)
                elif name == "Order Ready For Pickup":
                    for action in (Action.PICK, Action.READY):
                        orders_transitions.take_step(session, order.id, action, by=BY, now=at)
                    codes[order_id] = order.pickup_code or ""
                elif name == "Order Picked Up":
                    orders_transitions.take_step(
                        session, order.id, Action.PICKUP, by=BY, code=codes.get(order_id), now=at
                    )
                    summary.handed_over += 1
                elif name == "Order Cancelled":
                    orders_transitions.take_step(
                        session, order.id, Action.CANCEL, by=BY, note="not_collected", now=at
                    )
                    summary.cancelled += 1
                elif name == "Order Refunded":
                    self._refund(session, order, event, summary)
        except OmniError:
            return  # a step the order's real state no longer allows (e.g. refund of an unshipped order)

    def _refund(self, session: Any, order: Any, event: dict[str, Any], summary: CommerceSummary) -> None:
        lines = {line.sku: line.line_no for line in orders_service.order_read(session, order).lines}
        items = [
            {"line": lines[p["sku"]], "quantity": p["quantity"], "disposition": "restock"}
            for p in event["properties"].get("products", [])
            if p.get("sku") in lines
        ]
        store = (event.get("context") or {}).get("store_code") or order.store_code or self.warehouse
        if not items:
            return
        body = ReturnCreate.model_validate({"store": store, "items": items, "reason": "demo"})
        orders_returns.record_return(session, order.id, body, key=f"demo:{event['messageId']}", by=BY)
        summary.returned += 1


def recent_online_orders(world: World, *, end: date, weeks: int = 4) -> OnlineOrders:
    """Online orders of the simulation's last weeks before end, to be placed through the orders service."""
    since = datetime.combine(end - timedelta(weeks=weeks), time(), tzinfo=UTC)
    return OnlineOrders(since=since, warehouse=world.warehouse.code)
