"""Returns anywhere: goods of any order taken back at any store, each item restocked, written off or sent on.

A return is idempotent by the client's key like an order. The refund is computed from the order's own
prices: the line's unit price times the units, less the line's share of the order's discount.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import Counter
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from omni.catalog import service as catalog_service
from omni.catalog.errors import UnknownLocation
from omni.inventory import returns as inventory_returns
from omni.kit.time import utc_now
from omni.orders import order_events, repository
from omni.orders.errors import IdempotencyKeyReused, OrderInvalid, ReturnTooLarge
from omni.orders.models import Order, OrderLine, OrderReturn, ReturnedItem
from omni.orders.schemas import OrderRead, ReturnCreate
from omni.orders.service import get_order, order_read, resolve_key

# Lines whose goods reached the customer; only these can come back.
DELIVERED_LINE_STATUSES = frozenset({"shipped", "handed_over"})


def _hash(data: ReturnCreate, order: Order) -> str:
    body = {"order": order.number, **data.model_dump(mode="json", exclude={"idempotency_key"})}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def returnable(line: OrderLine) -> int:
    """Units of the line that may still come back."""
    return line.quantity - line.returned_quantity if line.status in DELIVERED_LINE_STATUSES else 0


def line_refund(order: Order, line: OrderLine, quantity: int) -> int:
    """The refund for quantity units of line: its price less its share of the order discount, floored."""
    gross = line.unit_price_minor * quantity
    if not order.discount_minor or not order.subtotal_minor:
        return gross
    return gross - order.discount_minor * gross // order.subtotal_minor


def record_return(
    session: Session, ref: str | int, data: ReturnCreate, *, key: str | None, by: str
) -> tuple[OrderRead, bool]:
    """Take goods back at a store; answer (order, created). The same key again changes nothing."""
    key = resolve_key(key, data.idempotency_key) or f"return:{uuid.uuid4()}"
    repository.take_write_turn(session)
    order = get_order(session, ref, for_update=True)
    fingerprint = _hash(data, order)
    if (existing := repository.return_by_key(session, key)) is not None:
        if existing.request_hash != fingerprint:
            raise IdempotencyKeyReused(
                "the idempotency key was used for a different return",
                details=[{"field": "Idempotency-Key", "rule": "a key identifies one request; use a new key"}],
            )
        return order_read(session, get_order(session, existing.order_id)), False
    try:
        store = catalog_service.get_location(session, data.store)
    except UnknownLocation:
        raise OrderInvalid(
            f"no location has code {data.store!r}",
            details=[{"field": "store", "rule": "must be a known store"}],
        ) from None
    lines = {line.line_no: line for line in repository.lines_of(session, order.id)}
    wanted = Counter[int]()
    for item in data.items:
        wanted[item.line] += item.quantity
    problems: list[dict[str, Any]] = []
    for number, quantity in wanted.items():
        line = lines.get(number)
        if line is None:
            problems.append({"field": "items.line", "rule": f"the order has no line {number}"})
        elif quantity > returnable(line):
            problems.append(
                {
                    "field": "items.quantity",
                    "rule": f"at most {returnable(line)} of line {number} ({line.sku}) can be returned",
                    "line": number,
                    "requested": quantity,
                    "returnable": returnable(line),
                }
            )
    if problems:
        raise ReturnTooLarge(
            "the return asks for more than was bought and not yet returned", details=problems
        )
    now = utc_now()
    taken_back = OrderReturn(
        order_id=order.id,
        idempotency_key=key,
        request_hash=fingerprint,
        store_code=store.code,
        refund_minor=0,
        currency=order.currency,
        reason=data.reason,
        by=by,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(taken_back)
            session.flush()
    except IntegrityError:
        raise IdempotencyKeyReused(
            "a return with this idempotency key is being recorded",
            details=[{"field": "Idempotency-Key", "rule": "retry later"}],
        ) from None
    refund = 0
    products = []
    for index, item in enumerate(data.items):
        line = lines[item.line]
        amount = line_refund(order, line, item.quantity)
        refund += amount
        line.returned_quantity += item.quantity
        inventory_returns.accept_return(
            session,
            sku=line.sku,
            location=store.code,
            quantity=item.quantity,
            disposition=item.disposition.value,
            reference=f"return:{taken_back.id}:item:{index + 1}",
        )
        session.add(
            ReturnedItem(
                return_id=taken_back.id,
                line_no=line.line_no,
                sku=line.sku,
                quantity=item.quantity,
                disposition=item.disposition.value,
                refund_minor=amount,
            )
        )
        products.append(order_events.product_entry(line, item.quantity))
    taken_back.refund_minor = refund
    order.refunded_minor += refund
    order.updated_at = now
    session.flush()
    order_events.append(
        session,
        order,
        order_events.ORDER_REFUNDED,
        step=f"return:{taken_back.id}",
        at=now,
        properties={
            "total": refund / 100,
            "total_minor": refund,
            "return_store": store.code,
            "reason": data.reason,
            "products": products,
        },
    )
    return order_read(session, order), True
