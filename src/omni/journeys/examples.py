"""Ready-made journey definitions: the dashboard's editor starts from one, the demo runs them."""

from __future__ import annotations

from typing import Any

CART_EMAIL = {
    "subject": "{{ profile.first_name }}，您的購物車還在等您",
    "text": "{{ profile.first_name }} 您好，您挑選的商品還在購物車裡，庫存有限，別錯過了！\n"
    "{% for item in cart.items %}- {{ item.name }} x{{ item.quantity }}\n{% endfor %}",
    "html": "<p>{{ profile.first_name }} 您好，您挑選的商品還在購物車裡：</p><ul>"
    "{% for item in cart.items %}<li>{{ item.name }} x{{ item.quantity }}</li>{% endfor %}</ul>",
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


WELCOME = {
    "email": {
        "subject": "歡迎加入會員，{{ profile.first_name }}",
        "text": "{{ profile.first_name }} 您好，歡迎加入！首次購物出示會員編號即享九折。",
    },
    "line": {"text": "{{ profile.first_name }}，歡迎加入會員！首次購物享九折。"},
    "sms": {"text": "{{ profile.first_name }}，歡迎加入會員！首次購物享九折。"},
}
WELCOME_NUDGE = {
    "email": {
        "subject": "{{ profile.first_name }}，您的新會員九折還沒用喔",
        "text": "{{ profile.first_name }} 您好，新會員九折優惠本週到期，門市與線上皆可使用。",
    },
    "line": {"text": "{{ profile.first_name }}，新會員九折優惠本週到期，別錯過！"},
    "sms": {"text": "{{ profile.first_name }}，新會員九折優惠本週到期。"},
}
# The person's first name, or a polite word when the shop does not know it.
NAME = "{{ profile.first_name | default: '顧客' }}"
PICKUP = {
    "line": {
        "text": NAME + " 您好，您的訂單 {{ order.number }} 已到{{ store.name }}，"
        "可以取貨了。取貨碼 {{ order.pickup_code }}，請於 7 天內到門市領取。\n地址：{{ store.address }}"
        # A store without opening hours on record: the notice leaves the line out rather than fail.
        "{% if store.hours %}\n營業時間：{{ store.hours }}{% endif %}"
    },
    "sms": {
        "text": NAME + "，訂單 {{ order.number }} 已到{{ store.name }}可取貨，"
        "取貨碼 {{ order.pickup_code }}，請於 7 天內領取。"
    },
}
PICKUP_REMINDER = {
    "line": {
        "text": NAME + "，提醒您：訂單 {{ order.number }} 還在{{ store.name }}等您領取，"
        "取貨碼 {{ order.pickup_code }}。"
    },
    "sms": {
        "text": NAME + "，提醒您：訂單 {{ order.number }} 還在{{ store.name }}等您領取，"
        "取貨碼 {{ order.pickup_code }}。"
    },
}
BIRTHDAY = {
    "email": {
        "subject": "生日快樂，{{ profile.first_name }}！送您一份生日禮",
        "text": "{{ profile.first_name }} 生日快樂！本週購物享生日八五折，門市與線上皆可使用。",
    },
    "line": {"text": "{{ profile.first_name }} 生日快樂！本週購物享生日八五折。"},
    "sms": {"text": "{{ profile.first_name }} 生日快樂！本週購物享八五折。"},
}
# Marketing goes on the channel the person engages with most; LINE and email are free, SMS costs.
MARKETING_CHANNELS = ["email", "line", "sms"]


def welcome_series(*, nudge_after_days: int = 3) -> dict[str, Any]:
    """A new member: welcome now on their best channel; no order within nudge_after_days: a reminder of
    the member offer at their best hour. Converts on a first order within 14 days."""
    return {
        "trigger": {
            "type": "event",
            "event": "Signed Up",
            "where": [{"property": "type", "op": "eq", "value": "membership"}],
        },
        "start": "welcome",
        "nodes": {
            "welcome": {
                "type": "send",
                "channel": "best",
                "channels": MARKETING_CHANNELS,
                "message": {"variants": WELCOME},
                "next": "wait_order",
            },
            "wait_order": {
                "type": "wait_event",
                "event": "Order Completed",
                "timeout": {"days": nudge_after_days},
                "next": "ordered",
                "timeout_next": "nudge",
            },
            "nudge": {
                "type": "send",
                "channel": "best",
                "channels": MARKETING_CHANNELS,
                "message": {"variants": WELCOME_NUDGE},
                "at_best_hour": True,
                "next": "done",
            },
            "ordered": {"type": "goal"},
            "done": {"type": "exit"},
        },
        "goal": {"event": "Order Completed", "within": {"days": 14}},
        "reentry": {"policy": "once"},
    }


def pickup_ready(*, remind_after_days: int = 2) -> dict[str, Any]:
    """A click & collect order is ready: tell the person on LINE or SMS (transactional, so no quiet hours
    or caps); not picked up within remind_after_days: remind once. Converts on the pickup."""
    channels = ["line", "sms"]
    return {
        "trigger": {
            "type": "event",
            "event": "Order Ready For Pickup",
            "where": [{"property": "fulfilment", "op": "eq", "value": "click_and_collect"}],
            "keys": ["order_id"],
        },
        "start": "ready",
        "nodes": {
            "ready": {
                "type": "send",
                "channel": "best",
                "channels": channels,
                "purpose": "transactional",
                "message": {"variants": PICKUP},
                "next": "wait_pickup",
            },
            "wait_pickup": {
                "type": "wait_event",
                "event": "Order Picked Up",
                "keys": ["order_id"],
                "timeout": {"days": remind_after_days},
                "next": "picked_up",
                "timeout_next": "remind",
            },
            "remind": {
                "type": "send",
                "channel": "best",
                "channels": channels,
                "purpose": "transactional",
                "message": {"variants": PICKUP_REMINDER},
                "next": "done",
            },
            "picked_up": {"type": "goal"},
            "done": {"type": "exit"},
        },
        "goal": {"event": "Order Picked Up", "keys": ["order_id"], "within": {"days": 7}},
        "reentry": {"policy": "always"},
    }


def birthday_offer(*, holdout_percent: int = 10) -> dict[str, Any]:
    """On the person's birthday: a birthday offer at their best hour on their best channel, a holdout
    kept out to measure it. Converts on an order within 7 days."""
    return {
        "trigger": {"type": "date_trait", "trait": "birthday", "annual": True},
        "start": "split",
        "nodes": {
            "split": {
                "type": "random_split",
                "branches": [
                    {"percent": 100 - holdout_percent, "next": "offer"},
                    {"percent": holdout_percent, "next": "done", "holdout": True},
                ],
            },
            "offer": {
                "type": "send",
                "channel": "best",
                "channels": MARKETING_CHANNELS,
                "message": {"variants": BIRTHDAY},
                "at_best_hour": True,
                "next": "done",
            },
            "done": {"type": "exit"},
        },
        "goal": {"event": "Order Completed", "within": {"days": 7}},
        "reentry": {"policy": "once_per", "days": 300},
    }


CROSS_SELL = {
    "email": {
        "subject": NAME + "，和您的 {{ order.items[0].name }} 最常一起買的是……",
        "text": NAME + " 您好，謝謝您的訂單 {{ order.number }}（{{ order.currency }} "
        "{{ order.total }}）。買了同樣商品的顧客也買了：\n"
        "{% for item in order.recommendations %}- {{ item.name }} {{ order.currency }} {{ item.price }}\n"
        "{% endfor %}",
        "html": "<p>{{ profile.first_name | default: '顧客' }} 您好，謝謝您的訂單 {{ order.number }}。"
        "買了同樣商品的顧客也買了：</p>"
        "<ul>{% for item in order.recommendations %}<li>{{ item.name }} {{ order.currency }} {{ item.price }}"
        "</li>{% endfor %}</ul>",
    },
    "line": {
        "text": NAME + "，買了 {{ order.items[0].name }} 的顧客也買了："
        "{% for item in order.recommendations %}{{ item.name }}{% unless forloop.last %}、{% endunless %}"
        "{% endfor %}"
    },
    "sms": {
        "text": NAME + "，買了 {{ order.items[0].name }} 的顧客也買了 "
        "{{ order.recommendations[0].name }}，會員再享九折。"
    },
}


def post_purchase_cross_sell(*, after_days: int = 3, holdout_percent: int = 10) -> dict[str, Any]:
    """Order Completed -> after_days later, on the person's best channel at their best hour, the products
    others bought with what they bought (a holdout kept out). Converts on a next order within 30 days."""
    split = {
        "type": "random_split",
        "branches": [
            {"percent": 100 - holdout_percent, "next": "recommend"},
            {"percent": holdout_percent, "next": "done", "holdout": True},
        ],
    }
    return {
        "trigger": {"type": "event", "event": "Order Completed", "keys": ["order_id"]},
        "start": "wait",
        "nodes": {
            "wait": {
                "type": "delay",
                "duration": {"days": after_days},
                "next": "split" if holdout_percent else "recommend",
            },
            **({"split": split} if holdout_percent else {}),
            "recommend": {
                "type": "send",
                "channel": "best",
                "channels": MARKETING_CHANNELS,
                "message": {"variants": CROSS_SELL},
                "at_best_hour": True,
                "next": "done",
            },
            "done": {"type": "exit"},
        },
        # Any later order of the person: the one that let them in is before their entry and does not count.
        "goal": {"event": "Order Completed", "within": {"days": 30}},
        "reentry": {"policy": "once_per", "days": 14},
    }


WIN_BACK_EMAIL = {
    "email": {
        "subject": "{{ profile.first_name }}，好久不見！送您一張回饋券",
        "text": "{{ profile.first_name }} 您好，好久不見。7 天內回來購物，全館享八五折，門市與線上皆可使用。",
        "html": "<p>{{ profile.first_name }} 您好，好久不見。</p><p>7 天內回來購物，全館享八五折。</p>",
    },
}
WIN_BACK_SMS = {
    "sms": {"text": "{{ profile.first_name }}，您的八五折回饋券再 3 天到期，門市與線上皆可使用。"},
}


def win_back(*, segment_id: int, wait_days: int = 7) -> dict[str, Any]:
    """A customer enters the lapsed segment: an email offer; no order within wait_days: an SMS reminder.
    Converts on an order within 30 days."""
    return {
        "trigger": {"type": "segment_entered", "segment_id": segment_id},
        "start": "offer",
        "nodes": {
            "offer": {
                "type": "send",
                "channel": "email",
                "message": {"variants": WIN_BACK_EMAIL},
                "next": "wait_order",
            },
            "wait_order": {
                "type": "wait_event",
                "event": "Order Completed",
                "timeout": {"days": wait_days},
                "next": "ordered",
                "timeout_next": "reminder",
            },
            "reminder": {
                "type": "send",
                "channel": "sms",
                "message": {"variants": WIN_BACK_SMS},
                "next": "done",
            },
            "ordered": {"type": "goal"},
            "done": {"type": "exit"},
        },
        "goal": {"event": "Order Completed", "within": {"days": 30}},
        "reentry": {"policy": "once_per", "days": 90},
    }
