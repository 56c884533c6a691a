"""Omnichannel against single-channel customers, measured on the retailer's own orders.

A customer is omnichannel when their orders in the period came through two or more channels. Per group:
spend per customer, orders per customer, and the 6-month repeat rate: of the customers whose first order
in the period is at least 183 days before its end, the share who ordered again within 183 days of it.
Note that buying on two channels takes two orders, so the groups differ in order count by construction;
the repeat rate is the fairer comparison.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from omni.analytics.purchases import amount_minor, half_up, in_currency
from omni.analytics.repository import PersonEvent

REPEAT_WINDOW = timedelta(days=183)
GROUPS = ("omnichannel", "single_channel")
COLUMNS = [
    "group",
    "customers",
    "orders",
    "revenue_minor",
    "spend_per_customer_minor",
    "orders_per_customer",
    "repeat_eligible",
    "repeated_6m",
    "repeat_rate_6m",
]


@dataclass
class Customer:
    first: datetime
    times: list[datetime] = field(default_factory=list)
    channels: set[str] = field(default_factory=set)
    spend_minor: int = 0


def customers(orders: Iterable[PersonEvent], *, currency: str) -> dict[int, Customer]:
    """Each customer's orders in the period (person then time order)."""
    found: dict[int, Customer] = {}
    for order in orders:
        customer = found.setdefault(order.person, Customer(first=order.at))
        customer.times.append(order.at)
        customer.channels.add(order.channel)
        amount = amount_minor(order.properties) if in_currency(order.properties, currency) else None
        customer.spend_minor += amount or 0
    return found


def compare(found: dict[int, Customer], *, as_of: datetime) -> list[list[str | int | float]]:
    """Rows per group as COLUMNS name them, omnichannel first."""
    rows: list[list[str | int | float]] = []
    for group in GROUPS:
        members = [c for c in found.values() if (len(c.channels) >= 2) == (group == "omnichannel")]
        n = len(members)
        orders = sum(len(c.times) for c in members)
        revenue = sum(c.spend_minor for c in members)
        eligible = [c for c in members if c.first <= as_of - REPEAT_WINDOW]
        repeated = sum(1 for c in eligible if any(c.first < t <= c.first + REPEAT_WINDOW for t in c.times))
        rows.append(
            [
                group,
                n,
                orders,
                revenue,
                half_up(revenue, n),
                round(orders / n, 2) if n else 0.0,
                len(eligible),
                repeated,
                round(repeated / len(eligible), 4) if eligible else 0.0,
            ]
        )
    return rows
