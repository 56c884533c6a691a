"""Purchases at a till and on the marketplace, and what follows orders: pickups, cancellations, refunds."""

from __future__ import annotations

import heapq
from typing import Any

from omni.demo.journey import SECOND_MS, Journey
from omni.demo.people import JUNK_PHONE, typed_name, written_phone
from omni.demo.retail_calendar import DAY_MS
from omni.demo.touchpoints import MARKETPLACE_INTEGRATION

STORE_PAYMENTS = ("credit_card", "cash", "line_pay", "easycard", "jko_pay")
MARKETPLACE_PAYMENTS = ("shopee_pay", "credit_card", "cash_on_delivery")
MARKETPLACE_SHIPPING_MINOR = 6_000
FOLLOW_UP_EVENTS = {
    "ready": "Order Ready For Pickup",
    "picked_up": "Order Picked Up",
    "cancelled": "Order Cancelled",
    "refund": "Order Refunded",
}


def run_follow_up(journey: Journey) -> None:
    """Run the earliest scheduled follow-up of an order."""
    at, _, kind, details = heapq.heappop(journey.pending)
    follow_up(journey, at, kind, details)


def follow_up(journey: Journey, at: int, kind: str, details: dict[str, Any]) -> None:
    """A click & collect order gets ready, is picked up or cancelled; or an order is refunded.

    Steps at a store come from its till; a refund of an order shipped to the customer comes from the
    channel the order was placed on.
    """
    rng = journey.rng
    store = details.get("store")
    if store:
        context = journey.store_context(store)
    else:
        context = {"channel": details["channel"], "source": details["source"]}
    order_id = details["order_id"]
    properties: dict[str, Any] = {"order_id": order_id}
    if kind in ("ready", "picked_up"):
        properties |= {"store_code": store, "fulfilment": "click_and_collect"}
    elif kind == "cancelled":
        total = details["total_minor"]
        properties |= {
            "reason": "not_collected",
            "total": total / 100,
            "total_minor": total,
            "currency": "TWD",
        }
    else:
        line = rng.choice(details["products"])
        refunded = line["price_minor"] * line["quantity"]
        properties |= {
            "total": refunded / 100,
            "total_minor": refunded,
            "currency": "TWD",
            "products": [line],
        }
    user_id, anonymous_id = details.get("user_id"), details.get("anonymous_id")
    event = FOLLOW_UP_EVENTS[kind]
    journey.emit(
        at, "track", context, user_id=user_id, anonymous_id=anonymous_id, event=event, properties=properties
    )
    if kind == "ready" and store:
        if rng.random() < 0.04:
            journey.later(at + 7 * DAY_MS, "cancelled", details)
        elif (day := at // DAY_MS + rng.randint(1, 4)) < journey.calendar.days:
            journey.later(journey.store_time(store, day), "picked_up", details)
    elif kind == "picked_up" and rng.random() < 0.06:
        journey.later(at + rng.randint(1, 10) * DAY_MS, "refund", details)


def after_order(journey: Journey, at: int, details: dict[str, Any], *, return_rate: float) -> None:
    """Schedule what follows an order: pickup for click & collect, and sometimes a return."""
    rng = journey.rng
    store = details.get("store")
    if store and details["fulfilment"] == "click_and_collect":
        day = at // DAY_MS + rng.randint(1, 2)
        if day < journey.calendar.days:
            journey.later(journey.store_time(store, day), "ready", details)
    elif store:
        if rng.random() < return_rate and (day := at // DAY_MS + rng.randint(1, 14)) < journey.calendar.days:
            journey.later(journey.store_time(store, day), "refund", details)
    elif rng.random() < return_rate:
        journey.later(at + rng.randint(4, 16) * DAY_MS, "refund", details)


def store_order(journey: Journey, at: int, store: str) -> None:
    """A purchase at a till: a member shows their card or phone, others stay an anonymous receipt."""
    rng, person = journey.rng, journey.person
    context = journey.store_context(store)
    order_id = journey.order_id(store.split("-")[0], at)
    user_id = anonymous_id = None
    if journey.member_joined and person.member_id and rng.random() < 0.85:
        user_id = person.member_id
        if journey.app and journey.app.logged_in and rng.random() < 0.3:
            journey.app_screen(at - 40 * SECOND_MS, "Member Card")
        elif rng.random() < 0.12:
            context["traits"] = {"phone": written_phone(rng, person.phone)}
    else:
        anonymous_id = f"receipt:{order_id}"
        if rng.random() < 0.2:
            phone = JUNK_PHONE if rng.random() < 0.05 else written_phone(rng, person.phone)
            context["traits"] = {"name": typed_name(rng, person), "phone": phone}
    lines = journey.basket()
    properties = {
        "order_id": order_id,
        "affiliation": store,
        "store_code": store,
        "fulfilment": "in_store",
        "payment_method": rng.choice(STORE_PAYMENTS),
        **journey.amounts(lines, at, 0),
        "products": lines,
    }
    journey.emit(at, "track", context, user_id=user_id, anonymous_id=anonymous_id, event="Order Completed",
                 properties=properties)  # fmt: skip
    details = {"order_id": order_id, "store": store, "fulfilment": "in_store", "products": lines,
               "user_id": user_id, "anonymous_id": anonymous_id}  # fmt: skip
    after_order(journey, at, details, return_rate=0.04)


def marketplace_order(journey: Journey, at: int) -> None:
    """An order on Shopee: the buyer is a marketplace handle, often with the recipient's name and phone."""
    rng, person = journey.rng, journey.person
    context: dict[str, Any] = {
        "channel": "marketplace",
        "source": "marketplace:shopee",
        "integration": MARKETPLACE_INTEGRATION,
    }
    if rng.random() < 0.7:
        name = person.name if rng.random() < 0.9 else typed_name(rng, person)
        context["traits"] = {"name": name, "phone": written_phone(rng, person.phone)}
    order_id = journey.order_id("SP", at)
    lines = journey.basket()
    properties = {
        "order_id": order_id,
        "affiliation": "shopee",
        "fulfilment": "ship",
        "payment_method": rng.choice(MARKETPLACE_PAYMENTS),
        **journey.amounts(lines, at, MARKETPLACE_SHIPPING_MINOR),
        "products": lines,
    }
    anonymous_id = f"shopee:{person.marketplace_handle}"
    journey.emit(
        at, "track", context, anonymous_id=anonymous_id, event="Order Completed", properties=properties
    )
    details = {
        "order_id": order_id,
        "fulfilment": "ship",
        "channel": "marketplace",
        "source": "marketplace:shopee",
        "anonymous_id": anonymous_id,
        "products": lines,
        "total_minor": properties["total_minor"],
    }
    after_order(journey, at, details, return_rate=0.07)
