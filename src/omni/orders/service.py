"""Use cases of orders: place an order from any channel, source and allocate its lines, read it back.

Placing is idempotent by the client's key: the order row carries the key (unique) and a hash of the
request, so a retry answers with the stored order and a different request under the same key is refused.
Every write of one placement happens in the caller's transaction; a refusal anywhere leaves nothing.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from omni.catalog import service as catalog_service
from omni.catalog.errors import UnknownChannel, UnknownLocation
from omni.kit.time import as_utc, utc_now
from omni.orders import order_events, placement, repository
from omni.orders.errors import (
    IdempotencyKeyReused,
    OrderInvalid,
    OrderNotFound,
)
from omni.orders.models import Order, OrderLine, OrderStateChange
from omni.orders.schemas import (
    Customer,
    LineRead,
    OrderCreate,
    OrderFilter,
    OrderPage,
    OrderRead,
    OrderSummary,
    ReturnItemRead,
    ReturnRead,
    StateChangeRead,
)
from omni.orders.states import COLLECTED, Action, Fulfilment, OrderState, allowed_actions

PICKUP_CODE_DIGITS = 6


def request_hash(data: OrderCreate | Any) -> str:
    """A fingerprint of what was asked, to tell a retry from a different request under the same key."""
    body = data.model_dump(mode="json", exclude={"idempotency_key"})
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def resolve_key(header: str | None, body: str | None) -> str | None:
    """The idempotency key from the header or the body; both given must agree."""
    if header and body and header != body:
        raise OrderInvalid(
            "the Idempotency-Key header and idempotency_key differ",
            details=[{"field": "idempotency_key", "rule": "must equal the Idempotency-Key header"}],
        )
    key = header or body
    if key is not None and not (0 < len(key) <= 200):
        raise OrderInvalid(
            "the idempotency key must have 1 to 200 characters",
            details=[{"field": "Idempotency-Key", "rule": "1 to 200 characters"}],
        )
    return key


def record_step(
    session: Session, order: Order, *, to: OrderState, action: str, by: str, at: datetime, note: str = ""
) -> OrderStateChange:
    """Move the order to a state and write the step into its history."""
    change = OrderStateChange(
        order_id=order.id, from_state=order.state, to_state=to.value, action=action, by=by, note=note, at=at
    )
    order.state = to.value
    order.updated_at = at
    session.add(change)
    session.flush()
    return change


def place_order(session: Session, data: OrderCreate, *, key: str | None, by: str) -> tuple[OrderRead, bool]:
    """Place, source and allocate an order; answer (order, created). A same-key retry creates nothing."""
    key = resolve_key(key, data.idempotency_key)
    fingerprint = request_hash(data)
    repository.take_write_turn(session)
    if key is not None and (existing := repository.order_by_key(session, key)) is not None:
        return _replay(session, existing, fingerprint), False
    now = utc_now()
    placed_at = as_utc(data.placed_at) if data.placed_at else now
    try:
        channel = catalog_service.get_channel(session, data.channel)
    except UnknownChannel:
        raise OrderInvalid(
            f"no sales channel has code {data.channel!r}",
            details=[{"field": "channel", "rule": "must be known"}],
        ) from None
    fulfilment = Fulfilment(data.fulfilment)
    if fulfilment in COLLECTED:
        placement.pickup_store(session, data.store or "", placed_at)
    elif data.store:
        try:
            catalog_service.get_location(session, data.store)
        except UnknownLocation:
            raise OrderInvalid(
                f"no location has code {data.store!r}", details=[{"field": "store", "rule": "must be known"}]
            ) from None
    priced = placement.priced_lines(session, data)
    currency = next((c for *_, c, _ in priced if c), None) or "TWD"
    subtotal = sum(quantity * price for _, _, quantity, price, _, _ in priced)
    if data.number and repository.order_by_number(session, data.number) is not None:
        raise IdempotencyKeyReused(
            f"order number {data.number} is taken by another order",
            details=[{"field": "number", "rule": "must be unique"}],
        )
    order = Order(
        number=data.number or f"O{placed_at:%y%m%d}-{secrets.token_hex(4).upper()}",
        idempotency_key=key,
        request_hash=fingerprint,
        channel=channel.code,
        channel_kind=channel.kind,
        fulfilment=fulfilment.value,
        state=OrderState.PLACED.value,
        store_code=data.store,
        pickup_code=_pickup_code() if fulfilment in COLLECTED else None,
        user_id=data.customer.user_id,
        anonymous_id=data.customer.anonymous_id,
        member_id=data.customer.member_id,
        email=data.customer.email.strip().lower() if data.customer.email else None,
        phone=data.customer.phone,
        ship_to=data.ship_to.model_dump(mode="json") if data.ship_to else {},
        currency=currency,
        subtotal_minor=subtotal,
        discount_minor=min(data.discount_minor, subtotal),
        shipping_minor=data.shipping_minor,
        total_minor=subtotal - min(data.discount_minor, subtotal) + data.shipping_minor,
        refunded_minor=0,
        sourcing={},
        origin="api",
        placed_at=placed_at,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(order)
            session.flush()
    except IntegrityError:
        # A concurrent request with the same key (or number) committed first: answer as its retry.
        existing = repository.order_by_key(session, key) if key else None
        if existing is None:
            raise IdempotencyKeyReused(
                f"order number {data.number} is taken by another order",
                details=[{"field": "number", "rule": "must be unique"}],
            ) from None
        return _replay(session, existing, fingerprint), False
    lines = [
        OrderLine(
            order_id=order.id,
            line_no=line_no,
            sku=sku,
            product_id=facts.product_id,
            name=facts.name,
            category=facts.category,
            quantity=quantity,
            unit_price_minor=price,
            location_code=None,
            status="open",
            returned_quantity=0,
        )
        for line_no, sku, quantity, price, _, facts in priced
    ]
    session.add_all(lines)
    session.add(
        OrderStateChange(
            order_id=order.id,
            from_state=None,
            to_state=OrderState.PLACED.value,
            action="place",
            by=by,
            note="",
            at=placed_at,
        )
    )
    session.flush()
    placement.source_and_allocate(session, order, lines, data)
    record_step(session, order, to=OrderState.ALLOCATED, action=Action.ALLOCATE.value, by="sourcing", at=now)
    order_events.append(
        session,
        order,
        order_events.ORDER_COMPLETED,
        step="completed",
        at=placed_at,
        properties=order_events.order_properties(order, lines),
    )
    return order_read(session, order, with_pickup_code=True), True


def _pickup_code() -> str:
    return f"{secrets.randbelow(10**PICKUP_CODE_DIGITS):0{PICKUP_CODE_DIGITS}d}"


def _replay(session: Session, existing: Order, fingerprint: str) -> OrderRead:
    if existing.request_hash != fingerprint:
        raise IdempotencyKeyReused(
            f"the idempotency key was used for a different order ({existing.number})",
            details=[{"field": "Idempotency-Key", "rule": "a key identifies one request; use a new key"}],
        )
    return order_read(session, existing, with_pickup_code=True)


def get_order(session: Session, ref: str | int, *, for_update: bool = False) -> Order:
    """The order by id or number; OrderNotFound if there is none."""
    order = None
    if isinstance(ref, int) or ref.isdigit():
        order = repository.order_by_id(session, int(ref), for_update=for_update)
    if order is None:
        order = repository.order_by_number(session, str(ref), for_update=for_update)
    if order is None:
        raise OrderNotFound(f"no order has id or number {ref!r}")
    return order


def order_read(session: Session, order: Order, *, with_pickup_code: bool = False) -> OrderRead:
    """The order with its lines, history, returns and sourcing explanation."""
    returns = [
        ReturnRead(
            id=r.id,
            order_number=order.number,
            store_code=r.store_code,
            refund_minor=r.refund_minor,
            currency=r.currency,
            reason=r.reason,
            created_at=r.created_at,
            items=[ReturnItemRead.model_validate(i) for i in items],
        )
        for r, items in repository.returns_of(session, order.id)
    ]
    state, fulfilment = OrderState(order.state), Fulfilment(order.fulfilment)
    return OrderRead(
        id=order.id,
        number=order.number,
        channel=order.channel,
        fulfilment=fulfilment,
        state=state,
        store_code=order.store_code,
        customer=Customer(
            user_id=order.user_id,
            anonymous_id=order.anonymous_id,
            member_id=order.member_id,
            email=order.email,
            phone=order.phone,
        ),
        ship_to=order.ship_to,
        currency=order.currency,
        subtotal_minor=order.subtotal_minor,
        discount_minor=order.discount_minor,
        shipping_minor=order.shipping_minor,
        total_minor=order.total_minor,
        refunded_minor=order.refunded_minor,
        placed_at=order.placed_at,
        ready_at=order.ready_at,
        lines=[LineRead.model_validate(line) for line in repository.lines_of(session, order.id)],
        history=[StateChangeRead.model_validate(h) for h in repository.history_of(session, order.id)],
        returns=returns,
        sourcing=order.sourcing,
        allowed_actions=allowed_actions(state, fulfilment) if fulfilment is not Fulfilment.IN_STORE else [],
        pickup_code=order.pickup_code if with_pickup_code else None,
    )


def list_orders(session: Session, where: OrderFilter, *, limit: int = 50, offset: int = 0) -> OrderPage:
    """A page of orders matching the filter, newest first."""
    rows, total = repository.list_orders(session, where, limit=limit, offset=offset)
    counts = repository.item_counts(session, [o.id for o in rows])
    return OrderPage(
        items=[
            OrderSummary(
                id=o.id,
                number=o.number,
                channel=o.channel,
                fulfilment=o.fulfilment,
                state=o.state,
                store_code=o.store_code,
                total_minor=o.total_minor,
                currency=o.currency,
                placed_at=o.placed_at,
                items=counts.get(o.id, 0),
            )
            for o in rows
        ],
        total=total,
        limit=limit,
        offset=offset,
    )


def pickup_queue(session: Session, store: str) -> list[Order]:
    """The store's pickup orders not yet handed over, ready ones first (oldest first)."""
    return repository.pickup_queue(session, store)
