"""The order, cart, store and shop a message is about, as template variables, read when it is sent.

What a message is about comes from the caller: an API caller gives the values (MessageContent.data), a
journey gives its trigger event's properties (Segment e-commerce spec: order_id, cart_id, products[],
total or revenue, currency, store_code). An order is read from the orders service, so the message shows
the order as it is now, with its lines, pickup store and pickup code; a cart lives only on the log, so it
is the event's products. A namespace is read only when the message names it.

A value the message outputs that is not there at send time is never rendered blank: the rendering fails
(templates.render), and the caller records the message failed with the reason and the notes here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Any

from babel.numbers import get_currency_precision
from sqlalchemy.orm import Session

from omni.catalog import service as catalog_service
from omni.channels import templates
from omni.channels.errors import TemplateInvalid
from omni.events import service as events_service
from omni.identity import service as identity_service
from omni.orders import service as orders_service
from omni.orders import together
from omni.orders.errors import OrderNotFound
from omni.orders.schemas import OrderRead
from omni.settings import Settings

COMMERCE = templates.COMMERCE
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
RECOMMENDATIONS = 3


@dataclass
class Commerce:
    variables: dict[str, Any] = field(default_factory=dict)
    # Why a namespace the message names could not be filled: "order 1001 was not found".
    notes: list[str] = field(default_factory=list)


def money(minor: int, currency: str | None = None) -> str:
    """Minor units as the amount a customer reads: 129000 -> "1,290", 12950 -> "129.50" (a currency's own
    minor unit when given, e.g. JPY has none; two decimals otherwise)."""
    scale = 10 ** (get_currency_precision(currency) if currency else 2)
    major, cents = divmod(abs(minor), scale)
    sign = "-" if minor < 0 else ""
    width = len(str(scale)) - 1
    return f"{sign}{major:,}" + (f".{cents:0{width}d}" if cents else "")


def _amount(value: Any, currency: str | None) -> str | None:
    """A Segment amount (major units, a number) as text; None when absent or not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return money(round(value * 10 ** (get_currency_precision(currency) if currency else 2)), currency)


def opening_hours(hours: Mapping[str, Any]) -> str:
    """Opening hours as one line, runs of days with the same hours joined: "mon-fri 11:00-21:30, ..."."""
    spans = [(day, ", ".join(f"{start}-{end}" for start, end in hours.get(day) or [])) for day in DAYS]
    runs: list[tuple[str, str, str]] = []
    for day, text in spans:
        if runs and runs[-1][2] == text:
            runs[-1] = (runs[-1][0], day, text)
        else:
            runs.append((day, day, text))
    return "; ".join(
        f"{first}{'' if first == last else '-' + last} {text}" for first, last, text in runs if text
    )


def _item(entry: Mapping[str, Any], currency: str | None) -> dict[str, Any]:
    price = entry.get("price_minor")
    return {
        "name": entry.get("name"),
        "sku": entry.get("sku"),
        "quantity": entry.get("quantity"),
        "price": money(price, currency) if isinstance(price, int) else _amount(entry.get("price"), currency),
        "url": entry.get("url"),
        "image_url": entry.get("image_url"),
    }


def _order(session: Session, read: OrderRead, *, recommend: bool) -> dict[str, Any]:
    lines = [line for line in read.lines if line.status != "cancelled"]
    store = catalog_service.find_location(session, read.store_code) if read.store_code else None
    pickup = read.fulfilment.value in ("click_and_collect", "ship_to_store")
    found: dict[str, Any] = {
        "id": str(read.id),
        "number": read.number,
        "total": money(read.total_minor, read.currency),
        "currency": read.currency,
        "items": [
            _item({**line.model_dump(), "price_minor": line.unit_price_minor}, read.currency)
            for line in lines
        ],
        "pickup_store": store.name if store is not None and pickup else None,
        "pickup_code": read.pickup_code if pickup else None,
        "url": None,
    }
    if recommend:
        found["recommendations"] = [
            _item(
                {"name": r.name, "sku": r.sku, "quantity": 1, "price_minor": r.unit_price_minor},
                read.currency,
            )
            for r in together.bought_together(
                session, sorted({line.product_id for line in lines}), limit=RECOMMENDATIONS
            )
        ]
    return found


def _store(session: Session, code: str) -> dict[str, Any] | None:
    location = catalog_service.find_location(session, code)
    if location is None:
        return None
    return {
        "code": location.code,
        "name": location.name,
        "city": location.city,
        "address": location.address,
        "phone": None,
        "hours": opening_hours(location.opening_hours),
    }


def _cart(about: Mapping[str, Any]) -> dict[str, Any]:
    products = about.get("products")
    entries = [p for p in products if isinstance(p, Mapping)] if isinstance(products, list) else []
    currency = about["currency"] if isinstance(about.get("currency"), str) else None
    return {
        "id": str(about["cart_id"]),
        "total": _amount(about.get("total", about.get("value", about.get("revenue"))), currency),
        "currency": currency,
        "items": [_item(entry, currency) for entry in entries],
        "url": about.get("url"),
    }


def variables(
    session: Session,
    *,
    named: Iterable[Sequence[Any]],
    about: Mapping[str, Any] | None,
    given: Mapping[str, Any],
    settings: Settings,
) -> Commerce:
    """The commerce namespaces the message names (paths as segments), from given values or from about."""
    paths = [tuple(path) for path in named if path and path[0] in COMMERCE]
    roots = {path[0] for path in paths}
    about = about or {}
    found = Commerce({root: given[root] for root in roots if root in given})
    order_id = about.get("order_id")
    read: OrderRead | None = None
    if ({"order", "store"} & roots) - set(found.variables) and order_id not in (None, ""):
        try:
            read = orders_service.order_read(
                session, orders_service.get_order(session, str(order_id)), with_pickup_code=True
            )
        except OrderNotFound:
            found.notes.append(f"order {order_id} was not found")
    if "order" in roots and "order" not in found.variables:
        if read is not None:
            recommend = any(path[1:2] == ("recommendations",) for path in paths)
            found.variables["order"] = _order(session, read, recommend=recommend)
        elif order_id in (None, ""):
            found.notes.append("the message is about no order")
    if "store" in roots and "store" not in found.variables:
        code = (read.store_code if read else None) or about.get("store_code") or about.get("store")
        store = _store(session, str(code)) if code else None
        if store is not None:
            found.variables["store"] = store
        elif code:
            found.notes.append(f"store {code} was not found")
        elif read is not None or order_id in (None, ""):
            found.notes.append("the message is about no store")
    if "cart" in roots and "cart" not in found.variables:
        if about.get("cart_id") not in (None, ""):
            found.variables["cart"] = _cart(about)
        else:
            found.notes.append("the message is about no cart")
    if "shop" in roots and "shop" not in found.variables:
        found.variables["shop"] = {"name": parseaddr(settings.email_from)[0] or None, "url": None}
    return found


def fill_for_send(
    session: Session,
    parts: Mapping[str, str],
    person: Mapping[str, Any],
    *,
    about: Mapping[str, Any] | None,
    given: Mapping[str, Any],
    settings: Settings,
) -> tuple[dict[str, Any], list[str]]:
    """(the variables of a variant for one person, why a namespace it names could not be filled)."""
    found = variables(
        session, named=templates.named_paths(parts), about=about, given=given, settings=settings
    )
    return {**person, **given, **found.variables}, found.notes


def failure(exc: TemplateInvalid, notes: Sequence[str]) -> str:
    """Why a message could not be rendered for its person, with why the data was missing."""
    return exc.message + (f" ({'; '.join(notes)})" if notes else "")


CART_EVENTS = ("Checkout Started", "Cart Viewed", "Product Added", "Order Completed")


def latest_cart(session: Session, profile_id: int, about: Mapping[str, Any]) -> dict[str, Any]:
    """about with the person's latest event of its cart_id filled in (products, total, currency): a cart
    lives only on the log. about as given when it names no cart or already lists the products."""
    cart_id = about.get("cart_id")
    if cart_id in (None, "") or "products" in about:
        return dict(about)
    positions = identity_service.attributed_positions(session, profile_id)
    for event in events_service.events_among(session, positions, names=CART_EVENTS):
        if event.properties.get("cart_id") == cart_id and isinstance(event.properties.get("products"), list):
            return {**event.properties, **about}
    return dict(about)
