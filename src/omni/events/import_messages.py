"""How a row of an export, or the lines of one order, become a Segment message with a stable messageId.

A messageId is derived from the source, the kind and a natural key, so importing the same file again adds
nothing: a customer is keyed by id and content (a corrected row is a new identify, the latest traits win), an
order by its order_id alone (an order is final once in the log; a correction is a refund or a new order),
an event by its own messageId or else its content.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal
from functools import lru_cache
from typing import Any

import orjson
from babel.numbers import is_currency

from omni.events import import_values as values
from omni.events.import_mapping import (
    ID_FIELDS,
    ORDER_LEVEL,
    PATH_ROOTS,
    ColumnPlan,
    Kind,
    default_user_field,
)
from omni.events.import_values import CellError, clean, text


@dataclass(frozen=True)
class MessageOptions:
    """What every message of one import shares."""

    kind: Kind
    source: str
    channel: str
    currency: str
    local: tzinfo
    now: datetime
    user_field: str | None
    file_name: str

    @property
    def default_store(self) -> str | None:
        """The store of a pos:STORE source, for exports that do not repeat it on every line."""
        kind, _, name = self.source.partition(":")
        return name if kind == "pos" and name else None


@dataclass(frozen=True)
class Unit:
    """One message and the rows of the file it was made from."""

    payload: dict[str, Any]
    rows: tuple[int, ...]


class RowsRejected(Exception):
    """Rows of one order that cannot be imported, each with its reason."""

    def __init__(self, rejections: list[tuple[int, str]]) -> None:
        super().__init__(f"{len(rejections)} row(s) rejected")
        self.rejections = rejections


def _digest(value: Any) -> str:
    try:
        data = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:  # integers beyond 64 bits
        data = repr(value).encode()
    return hashlib.sha256(data).hexdigest()


def message_id(source: str, kind: Kind, key: str) -> str:
    """A messageId that the same source, kind and natural key always get, so a re-run adds nothing twice."""
    return f"import-{kind}-{_digest([source, kind, key])[:32]}"


def _set_path(document: dict[str, Any], path: Sequence[str], value: Any) -> None:
    for part in path[:-1]:
        child = document.setdefault(part, {})
        if not isinstance(child, dict):
            raise CellError(".".join(path), f"cannot go inside {part}, which holds {child!r}")
        document = child
    document[path[-1]] = value


def _pass_through(plan: ColumnPlan, row: Sequence[Any], payload: dict[str, Any]) -> None:
    for path, index in plan.paths:
        value = clean(row[index]) if index < len(row) else None
        if value is not None:
            _set_path(payload, path, values.spec_value(".".join(path), value))


def _finish(payload: dict[str, Any], options: MessageOptions, key: str, rows: Sequence[int]) -> Unit:
    payload["messageId"] = payload.get("messageId") or message_id(options.source, options.kind, key)
    # Added after the messageId is derived: where a row sat in the file is no part of what it says.
    where = (
        {"file": options.file_name, "row": rows[0]}
        if len(rows) == 1
        else {"file": options.file_name, "rows": list(rows)}
    )
    payload["context"] = {**payload.get("context", {}), "import": where}
    return Unit(payload=payload, rows=tuple(rows))


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def check_row(plan: ColumnPlan, row: Sequence[Any]) -> None:
    """Refuse a row with cells beyond the header or with the NUL character (PostgreSQL cannot hold it)."""
    width = len(plan.header)
    if len(row) > width and any(clean(cell) is not None for cell in row[width:]):
        raise CellError(
            f"column {width + 1}",
            f"the row has {len(row)} cells but the header {width}; "
            "a value holding the delimiter needs quotes",
        )
    for index, cell in enumerate(row):
        if _has_nul(cell):
            column = plan.header[index] if index < width else f"column {index + 1}"
            raise CellError(column, "contains the NUL character (\\u0000)")


def customer_message(plan: ColumnPlan, options: MessageOptions, number: int, row: Sequence[Any]) -> Unit:
    """An identify with the customer's traits; its messageId changes when the row's content does."""
    check_row(plan, row)
    get = plan.cells(row).get
    user_field = options.user_field or default_user_field("customers", plan.fields) or "customer_id"
    if get(user_field) is None:
        raise CellError(user_field, "is empty; every customer needs one (it becomes the userId)")
    traits: dict[str, Any] = {}
    identifiers = {f: v for f in ID_FIELDS if (v := get(f)) is not None}
    for field, value in identifiers.items():
        if field == "email":
            traits["email"] = values.parse_email(field, value)
        elif field == "phone":
            traits["phone"] = values.parse_phone(field, value)
        elif field == "member_id" or field != user_field:
            traits[field] = text(value)
    for field, trait in (("name", "name"), ("first_name", "firstName"), ("last_name", "lastName")):
        if (value := get(field)) is not None:
            traits[trait] = text(value)
    if (value := get("birthday")) is not None:
        traits["birthday"] = values.parse_date("birthday", value, today=options.now.date()).isoformat()
    if (value := get("gender")) is not None:
        traits["gender"] = values.parse_gender(value)
    address = {
        k: text(v)
        for f, k in (("address", "street"), ("city", "city"), ("postal_code", "postalCode"))
        if (v := get(f)) is not None
    }
    if address:
        traits["address"] = address
    if (value := get("store_code")) is not None:
        traits["store_code"] = text(value)
    for field in ("opted_in_email", "opted_in_sms"):
        if (value := get(field)) is not None:
            traits[field] = values.parse_bool(field, value)
    if (value := get("created_at")) is not None:
        traits["createdAt"] = values.parse_timestamp(
            "created_at", value, local=options.local, now=options.now
        ).isoformat()
    user_id = traits.get(user_field) if user_field in ("email", "phone") else text(identifiers[user_field])
    payload: dict[str, Any] = {
        "type": "identify",
        "userId": user_id,
        "traits": traits,
        "context": {"channel": options.channel},
    }
    if (value := get("updated_at")) is not None:
        payload["timestamp"] = values.parse_timestamp(
            "updated_at", value, local=options.local, now=options.now
        )
    _pass_through(plan, row, payload)
    return _finish(payload, options, f"{user_id}\x1f{_digest(payload)}", [number])


def event_message(plan: ColumnPlan, options: MessageOptions, number: int, row: Sequence[Any]) -> Unit:
    """The row as the Segment message it describes; without a messageId, one derived from its content."""
    check_row(plan, row)
    get = plan.cells(row).get
    payload: dict[str, Any] = {"type": text(get("type") or "track").lower()}
    for field in ("event", "name", "userId", "anonymousId", "groupId", "previousId", "messageId", "channel"):
        if (value := get(field)) is not None:
            payload[field] = text(value)
    if (value := get("timestamp")) is not None:
        payload["timestamp"] = values.parse_timestamp(
            "timestamp", value, local=options.local, now=options.now
        )
    for root in PATH_ROOTS:
        if (value := get(root)) is None:
            continue
        document = values.spec_value(root, value)
        if not isinstance(document, dict):
            raise CellError(root, "must be a JSON object")
        payload[root] = document
    _pass_through(plan, row, payload)
    return _finish(payload, options, _digest(payload), [number])


@lru_cache(maxsize=64)
def _known_currency(code: str) -> bool:
    return len(code) == 3 and bool(is_currency(code))


def parse_currency(field: str, value: Any) -> str:
    """An ISO 4217 currency code such as TWD."""
    code = text(value).strip().upper()
    if not _known_currency(code):
        raise CellError(field, f"{value!r} is not an ISO 4217 currency code such as TWD")
    return code


def _order_field(field: str, value: Any, options: MessageOptions) -> Any:
    if field == "ordered_at":
        return values.parse_timestamp(field, value, local=options.local, now=options.now)
    if field == "currency":
        return parse_currency(field, value)
    if field == "email":
        return values.parse_email(field, value)
    if field == "phone":
        return values.parse_phone(field, value)
    if field == "total":
        return values.parse_money(field, value)
    return text(value)


def _order_level(
    options: MessageOptions, cells: dict[str, Any], seen: dict[tuple[str, str], Any]
) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for field in ORDER_LEVEL:
        if (value := cells.get(field)) is None:
            continue
        if not isinstance(value, str):
            parsed[field] = _order_field(field, value, options)
            continue
        # Lines of one order repeat its time, customer and store: parse each written value once.
        if (field, value) not in seen:
            seen[field, value] = _order_field(field, value, options)
        parsed[field] = seen[field, value]
    return parsed


def _product(plan: ColumnPlan, cells: dict[str, Any]) -> tuple[dict[str, Any], Decimal, int]:
    product = {
        f: text(v) for f in ("product_id", "sku", "name", "category") if (v := cells.get(f)) is not None
    }
    if not {"product_id", "sku", "name"} & product.keys():
        raise CellError("sku", "is empty; an order line needs a sku, product_id or product name")
    price = cells.get("price")
    if price is None:
        raise CellError("price", "is empty; an order line needs its unit price")
    amount = values.parse_money("price", price)
    if "quantity" not in plan.fields:
        return product, amount, 1
    if (quantity := cells.get("quantity")) is None:
        raise CellError("quantity", "is empty; an order line needs how many were sold")
    return product, amount, values.parse_quantity("quantity", quantity)


def _read_lines(
    plan: ColumnPlan, options: MessageOptions, lines: Sequence[tuple[int, Sequence[Any]]], order_id: str
) -> tuple[dict[str, tuple[int, Any]], list[tuple[int, dict[str, Any], Decimal, int]]]:
    rejected: list[tuple[int, str]] = []
    stated: dict[str, tuple[int, Any]] = {}
    items: list[tuple[int, dict[str, Any], Decimal, int]] = []
    seen: dict[tuple[str, str], Any] = {}
    for number, row in lines:
        try:
            check_row(plan, row)
            cells = plan.cells(row)
            level = _order_level(options, cells, seen)
            product, price, quantity = _product(plan, cells)
        except CellError as exc:
            rejected.append((number, plan.reason(exc)))
            continue
        for field, value in level.items():
            first_row, first = stated.setdefault(field, (number, value))
            if first != value:
                reason = (
                    f"{_shown(value)} differs from {_shown(first)} on row {first_row} of order {order_id}"
                )
                rejected.append((number, f"{plan.describe(field)}: {reason}"))
        items.append((number, product, price, quantity))
    if "ordered_at" not in stated and not rejected:
        rejected.append((lines[0][0], f"{plan.describe('ordered_at')}: is empty on every line of the order"))
    if rejected:
        raise RowsRejected(rejected)
    return stated, items


def _amounts(
    plan: ColumnPlan,
    stated: dict[str, tuple[int, Any]],
    items: list[tuple[int, dict[str, Any], Decimal, int]],
    currency: str,
) -> dict[str, Any]:
    rejected: list[tuple[int, str]] = []
    products: list[dict[str, Any]] = []
    revenue, revenue_minor = Decimal(0), 0
    for number, product, price, quantity in items:
        try:
            minor = values.to_minor("price", price, currency)
        except CellError as exc:
            rejected.append((number, plan.reason(exc)))
            continue
        products.append(
            {**product, "price": values.as_number(price), "price_minor": minor, "quantity": quantity}
        )
        revenue += price * quantity
        revenue_minor += minor * quantity
    amounts: dict[str, Any] = {"products": products, "revenue": values.as_number(revenue)}
    amounts |= {"revenue_minor": revenue_minor, "currency": currency}
    if "total" in stated:
        number, total = stated["total"]
        try:
            amounts |= {
                "total": values.as_number(total),
                "total_minor": values.to_minor("total", total, currency),
            }
        except CellError as exc:
            rejected.append((number, plan.reason(exc)))
    if rejected:
        raise RowsRejected(rejected)
    return amounts


def order_message(
    plan: ColumnPlan, options: MessageOptions, lines: Sequence[tuple[int, Sequence[Any]]]
) -> Unit:
    """One Order Completed (Segment e-commerce v2) from an order's lines; its messageId is the order's id.

    Order-level cells (customer, time, store, currency, total) may be left empty on all lines but one;
    lines that state different values are rejected, since the order could not say which is right.
    """
    order_id = text(plan.cells(lines[0][1])["order_id"])
    stated, items = _read_lines(plan, options, lines, order_id)
    header = {field: value for field, (_, value) in stated.items()}
    properties = {
        "order_id": order_id,
        **_amounts(plan, stated, items, header.get("currency", options.currency)),
    }
    store = header.get("store_code", options.default_store)
    context: dict[str, Any] = {"channel": header.get("channel", options.channel)}
    if store:
        properties["store_code"] = context["store_code"] = store
    user_field = options.user_field or default_user_field("orders", plan.fields)
    traits = {f: header[f] for f in ID_FIELDS if f in header and (f != user_field or f == "member_id")}
    if traits:
        context["traits"] = traits
    payload: dict[str, Any] = {"type": "track", "event": "Order Completed", "timestamp": header["ordered_at"]}
    if user_field and user_field in header:
        payload["userId"] = header[user_field]
    else:
        # A walk-in sale names no customer: its receipt is the anonymous buyer, as a till's SDK would send.
        payload["anonymousId"] = f"receipt:{store}:{order_id}" if store else f"receipt:{order_id}"
    payload |= {"properties": properties, "context": context}
    try:
        _pass_through(plan, lines[0][1], payload)
    except CellError as exc:
        raise RowsRejected([(lines[0][0], plan.reason(exc))]) from None
    return _finish(payload, options, order_id, [number for number, _ in lines])


def _shown(value: Any) -> str:
    return repr(value.isoformat() if isinstance(value, datetime) else str(value))
