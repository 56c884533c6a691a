"""Ready-made journey definitions: the dashboard's editor starts from one, the demo runs them."""

from __future__ import annotations

from typing import Any

CART_EMAIL = {
    "subject": "{{ profile.first_name }}，您的購物車還在等您",
    "text": "{{ profile.first_name }} 您好，您挑選的商品還在購物車裡，庫存有限，別錯過了！",
    "html": "<p>{{ profile.first_name }} 您好，您挑選的商品還在購物車裡。</p>",
}
CART_SMS = {"text": "{{ profile.first_name }}，您的購物車還在等您，今天結帳享免運。"}


def cart_abandonment(*, wait_hours: int = 1, holdout_percent: int = 10) -> dict[str, Any]:
    """Checkout Started -> wait for the same cart's order -> email -> 1 day -> SMS, with a holdout."""
    return {
        "trigger": {"type": "event", "event": "Checkout Started", "keys": ["cart_id"]},
        "start": "wait_order",
        "nodes": {
            "wait_order": {
                "type": "wait_event",
                "event": "Order Completed",
                "keys": ["cart_id"],
                "timeout": {"hours": wait_hours},
                "next": "ordered",
                "timeout_next": "email",
            },
            "email": {
                "type": "send",
                "channel": "email",
                "message": {"variants": {"email": CART_EMAIL}},
                "next": "one_day",
            },
            "one_day": {"type": "delay", "duration": {"days": 1}, "next": "split"},
            "split": {
                "type": "random_split",
                "branches": [
                    {"percent": 100 - holdout_percent, "next": "sms"},
                    {"percent": holdout_percent, "next": "done", "holdout": True},
                ],
            },
            "sms": {
                "type": "send",
                "channel": "sms",
                "message": {"variants": {"sms": CART_SMS}},
                "next": "done",
            },
            "ordered": {"type": "goal"},
            "done": {"type": "exit"},
        },
        "goal": {"event": "Order Completed", "keys": ["cart_id"], "within": {"days": 3}},
        "reentry": {"policy": "once_per", "days": 1},
    }
