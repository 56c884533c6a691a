"""The segments every retailer starts with, created once (by key) on first start and left to edit after."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from omni.segments import service
from omni.segments.schemas import SegmentCreate

ORDERED = "Order Completed"


def _event(name: str, days: int, **more: Any) -> dict[str, Any]:
    return {"event": name, "within_days": days, **more}


def _never(name: str, days: int) -> dict[str, Any]:
    return {"not": _event(name, days)}


_REACHABLE = [{"reachable": channel} for channel in ("email", "sms", "whatsapp", "line", "push")]

PREDEFINED: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
    ("cart_abandoners", "Cart abandoners", "Added to cart in the last 7 days and did not order.",
     {"all": [_event("Product Added", 7), _never(ORDERED, 7)]}),
    ("browse_abandoners", "Browse abandoners", "Viewed 2+ products in 7 days, added none, ordered nothing.",
     {"all": [_event("Product Viewed", 7, min_times=2), _never("Product Added", 7), _never(ORDERED, 7)]}),
    ("first_time_buyers", "First-time buyers", "Exactly one order so far.",
     {"orders": "count", "op": "eq", "value": 1}),
    ("repeat_buyers", "Repeat buyers", "Two or more orders.", {"orders": "count", "op": "gte", "value": 2}),
    ("lapsed_customers", "Lapsed customers", "Bought before, but not in the last 90 days.",
     {"all": [{"orders": "count", "op": "gte", "value": 1},
              {"orders": "last_days", "op": "gte", "value": 90}]}),
    ("vip", "VIP", "Top 5 percent by revenue in the last 12 months.",
     {"orders": "revenue_top_percent", "op": "lte", "value": 5, "within_days": 365}),
    ("app_users", "App users", "Opened the app in the last 90 days.", _event("Application Opened", 90)),
    ("omnichannel_shoppers", "Omnichannel shoppers", "Bought on two or more channels.",
     {"orders": "channels", "op": "gte", "value": 2}),
    ("single_channel_shoppers", "Single-channel shoppers", "Bought, always on the same channel.",
     {"orders": "channels", "op": "eq", "value": 1}),
    ("channel_engagers", "Channel engagers", "Opened or clicked a message on any channel in 30 days.",
     {"any": [_event(name, 30) for name in ("Email Opened", "Email Link Clicked", "SMS Link Clicked",
                                             "Push Notification Opened")]}),
    ("unreachable", "Unreachable", "No channel with both a contact and a marketing yes.",
     {"not": {"any": _REACHABLE}}),
    ("rfm_champions", "RFM: champions", "Recent, frequent, high spenders (R 4-5, F 4-5, M 4-5).",
     {"rfm": {"r": [4, 5], "f": [4, 5], "m": [4, 5]}, "within_days": 730}),
    ("rfm_loyal", "RFM: loyal", "Buy often (F 4-5), recently enough (R 3-5).",
     {"rfm": {"r": [3, 5], "f": [4, 5]}, "within_days": 730}),
    ("rfm_new", "RFM: new customers", "Bought recently (R 5), for the first time (F 1).",
     {"rfm": {"r": [5, 5], "f": [1, 1]}, "within_days": 730}),
    ("rfm_at_risk", "RFM: at risk", "Used to buy often (F 3-5), not lately (R 1-2).",
     {"rfm": {"r": [1, 2], "f": [3, 5]}, "within_days": 730}),
    ("rfm_hibernating", "RFM: hibernating", "Few orders (F 1-2), long ago (R 1-2).",
     {"rfm": {"r": [1, 2], "f": [1, 2]}, "within_days": 730}),
)  # fmt: skip

# The names and descriptions the dashboard translates.
LABELS = tuple(text for _, name, description, _ in PREDEFINED for text in (name, description))


def ensure(session: Session) -> list[str]:
    """Create the predefined segments that do not exist yet; return the keys created."""
    created = []
    for key, name, description, definition in PREDEFINED:
        if service.by_key(session, key) is None:
            body = SegmentCreate(key=key, name=name, description=description, definition=definition)
            service.create(session, body, by="omni", predefined=True)
            created.append(key)
    return created
