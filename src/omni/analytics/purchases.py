"""Purchase behaviour from Order Completed events: what sells, when people buy, and baskets per channel.

Amounts are integer minor units of the shop's currency; an order in another currency is counted as an
order but left out of the money figures (a note says how many were).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from omni.analytics.repository import PersonEvent

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _minor(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int((Decimal(str(value)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    except InvalidOperation:
        return None


def amount_minor(properties: Mapping[str, Any]) -> int | None:
    """What the order cost the customer in minor units: total_minor, else revenue_minor, else total or
    revenue in major units (as the e-commerce spec sends them)."""
    for name in ("total_minor", "revenue_minor"):
        value = properties.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    for name in ("total", "revenue"):
        found = _minor(properties.get(name))
        if found is not None:
            return found
    return None


def lines(properties: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    products = properties.get("products")
    return [line for line in products if isinstance(line, Mapping)] if isinstance(products, list) else []


def quantity(line: Mapping[str, Any]) -> int:
    value = line.get("quantity", 1)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 1


def line_minor(line: Mapping[str, Any]) -> int:
    price = line.get("price_minor")
    if not isinstance(price, int) or isinstance(price, bool):
        price = _minor(line.get("price")) or 0
    return price * quantity(line)


def items(properties: Mapping[str, Any]) -> int:
    """Units in the order's basket."""
    return sum(quantity(line) for line in lines(properties))


def in_currency(properties: Mapping[str, Any], currency: str) -> bool:
    return str(properties.get("currency") or currency).upper() == currency


@dataclass
class Seller:
    key: str
    name: str
    units: int = 0
    revenue_minor: int = 0
    orders: int = 0


def top_sellers(orders: Iterable[PersonEvent], *, by: str, limit: int, currency: str) -> list[list[Any]]:
    """Rows of key, name, units, revenue (minor), orders; best revenue first, then units, then key."""
    sellers: dict[str, Seller] = {}
    for order in orders:
        counted: set[str] = set()
        money = in_currency(order.properties, currency)
        for line in lines(order.properties):
            if by == "category":
                key = name = str(line.get("category") or "—")
            else:
                key = str(line.get("product_id") or line.get("sku") or line.get("name") or "—")
                name = str(line.get("name") or key)
            seller = sellers.setdefault(key, Seller(key, name))
            seller.units += quantity(line)
            seller.revenue_minor += line_minor(line) if money else 0
            if key not in counted:
                seller.orders += 1
                counted.add(key)
    ranked = sorted(sellers.values(), key=lambda s: (-s.revenue_minor, -s.units, s.key))[:limit]
    return [[s.key, s.name, s.units, s.revenue_minor, s.orders] for s in ranked]


def heatmap(orders: Iterable[PersonEvent], zone: ZoneInfo) -> list[list[Any]]:
    """Rows of weekday (mon..sun), hour (0-23), orders: every cell, in the store's local time."""
    cells = [[0] * 24 for _ in WEEKDAYS]
    for order in orders:
        local = order.at.astimezone(zone)
        cells[local.weekday()][local.hour] += 1
    return [[WEEKDAYS[day], hour, cells[day][hour]] for day in range(7) for hour in range(24)]


def half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator) if denominator else 0


def by_channel(orders: Iterable[PersonEvent], *, currency: str) -> tuple[list[list[Any]], int]:
    """Rows of channel, orders, revenue (minor), average order value (minor), items, basket size; and
    how many orders were left out of the money figures (other currency, or no amount)."""
    totals: dict[str, list[int]] = {}
    left_out = 0
    for order in orders:
        row = totals.setdefault(order.channel, [0, 0, 0, 0])  # orders, priced orders, revenue, items
        row[0] += 1
        row[3] += items(order.properties)
        amount = amount_minor(order.properties) if in_currency(order.properties, currency) else None
        if amount is None:
            left_out += 1
        else:
            row[1] += 1
            row[2] += amount
    rows = [
        [channel, n, revenue, half_up(revenue, priced), units, round(units / n, 2)]
        for channel, (n, priced, revenue, units) in sorted(totals.items())
    ]
    return rows, left_out
