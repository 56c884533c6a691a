"""The steps of an order after it is placed: pick, ready, ship, deliver, hand over, complete, cancel.

Each step locks the order row, checks the pure state machine (states.py), moves stock through inventory
(goods leaving fulfil the line's allocation; cancelled lines release it), writes the step into the
history and appends its event, all in the caller's transaction.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from omni.inventory import service as inventory_service
from omni.kit.time import utc_now
from omni.orders import order_events, repository
from omni.orders.errors import IllegalTransition, OrderInvalid, WrongPickupCode
from omni.orders.models import Order, OrderLine
from omni.orders.placement import line_reference
from omni.orders.schemas import OrderRead
from omni.orders.service import get_order, order_read, record_step
from omni.orders.states import (
    OPEN_STATES,
    Action,
    Fulfilment,
    OrderState,
    after_shipping,
    next_state,
)

CANCELLABLE_LINES = OPEN_STATES | {OrderState.PARTIALLY_SHIPPED}


def _selected(lines: Sequence[OrderLine], numbers: Sequence[int] | None) -> list[OrderLine]:
    """The open lines chosen by number (every open line when none are named); unknown or closed -> 422."""
    open_lines = [line for line in lines if line.status == "open"]
    if numbers is None:
        return open_lines
    by_no = {line.line_no: line for line in lines}
    problems = []
    for number in numbers:
        line = by_no.get(number)
        if line is None:
            problems.append({"field": "lines", "rule": f"the order has no line {number}"})
        elif line.status != "open":
            problems.append({"field": "lines", "rule": f"line {number} is already {line.status}"})
    if problems:
        raise OrderInvalid("some lines cannot take this step", details=problems)
    return [by_no[number] for number in dict.fromkeys(numbers)]


def _event_for(action: Action) -> str:
    return {
        Action.READY: order_events.ORDER_READY,
        Action.PICKUP: order_events.ORDER_PICKED_UP,
        Action.CANCEL: order_events.ORDER_CANCELLED,
    }.get(action, order_events.ORDER_UPDATED)


def _log(
    session: Session,
    order: Order,
    lines: Sequence[OrderLine],
    action: Action,
    step: int,
    at: datetime,
    **extra: object,
) -> None:
    properties = {**order_events.order_properties(order, lines), "action": action.value, **extra}
    order_events.append(
        session, order, _event_for(action), step=f"{step}:{action.value}", at=at, properties=properties
    )


def take_step(
    session: Session,
    ref: str | int,
    action: Action,
    *,
    by: str,
    lines: Sequence[int] | None = None,
    code: str | None = None,
    note: str = "",
    now: datetime | None = None,
) -> OrderRead:
    """Take one step of the order's life; 409 naming the current state when it does not follow."""
    repository.take_write_turn(session)
    order = get_order(session, ref, for_update=True)
    at = now or utc_now()
    state, fulfilment = OrderState(order.state), Fulfilment(order.fulfilment)
    if fulfilment is Fulfilment.IN_STORE:
        raise IllegalTransition(
            "a till sale is complete when it is recorded; it takes no further steps",
            details=[{"field": "state", "rule": "till sales are final", "state": state.value}],
        )
    all_lines = repository.lines_of(session, order.id)
    if action is Action.CANCEL and lines is not None:
        return _cancel_lines(session, order, all_lines, lines, by=by, note=note, at=at)
    target = next_state(state, action, fulfilment)
    # Compared in constant time; a wrong code hands nothing over and changes nothing.
    if action is Action.PICKUP and not (
        code and order.pickup_code and hmac.compare_digest(code.strip(), order.pickup_code)
    ):
        raise WrongPickupCode(
            "the pickup code does not match this order; nothing was handed over",
            details=[{"field": "code", "rule": "must be the code sent to the customer"}],
        )
    if action is Action.SHIP:
        chosen = _selected(all_lines, lines)
        for line in chosen:
            inventory_service.fulfil_allocation(session, reference=line_reference(order, line.line_no))
            line.status = "shipped"
        target = after_shipping(sum(1 for line in all_lines if line.status == "open"))
    elif action is Action.PICKUP:
        for line in all_lines:
            if line.status == "open":
                inventory_service.fulfil_allocation(session, reference=line_reference(order, line.line_no))
                line.status = "handed_over"
    elif action is Action.CANCEL:
        for line in all_lines:
            if line.status == "open":
                inventory_service.release_allocation(session, reference=line_reference(order, line.line_no))
                line.status = "cancelled"
    if action is Action.READY:
        order.ready_at = at
    change = record_step(session, order, to=target, action=action.value, by=by, at=at, note=note)
    extra: dict[str, object] = {"reason": note} if action is Action.CANCEL and note else {}
    _log(session, order, all_lines, action, change.id, at, **extra)
    return order_read(session, order)


def _cancel_lines(
    session: Session,
    order: Order,
    all_lines: Sequence[OrderLine],
    numbers: Sequence[int],
    *,
    by: str,
    note: str,
    at: datetime,
) -> OrderRead:
    """Cancel some lines; cancelling every open line of an order not yet shipped cancels the order."""
    state = OrderState(order.state)
    if state not in CANCELLABLE_LINES:
        raise IllegalTransition(
            f"the order is {state.value}; its lines can no longer be cancelled",
            details=[
                {"field": "state", "rule": "lines are cancelled before they leave", "state": state.value}
            ],
        )
    chosen = _selected(all_lines, numbers)
    cancelled = []
    for line in chosen:
        inventory_service.release_allocation(session, reference=line_reference(order, line.line_no))
        line.status = "cancelled"
        cancelled.append(order_events.product_entry(line))
    open_left = [line for line in all_lines if line.status == "open"]
    shipped = [line for line in all_lines if line.status == "shipped"]
    # Nothing left to send: what already left makes the order shipped, else it is cancelled.
    target = state if open_left else OrderState.SHIPPED if shipped else OrderState.CANCELLED
    label = "cancel" if target is OrderState.CANCELLED else "cancel_lines"
    change = record_step(session, order, to=target, action=label, by=by, at=at, note=note)
    event = order_events.ORDER_CANCELLED if target is OrderState.CANCELLED else order_events.ORDER_UPDATED
    properties = {
        **order_events.order_properties(order, all_lines),
        "action": label,
        "cancelled_products": cancelled,
        **({"reason": note} if note else {}),
    }
    order_events.append(session, order, event, step=f"{change.id}:{label}", at=at, properties=properties)
    return order_read(session, order)


def cancel_uncollected(session: Session, *, days: int, now: datetime | None = None, limit: int = 500) -> int:
    """Cancel orders left on the pickup shelf for more than days and release their stock; count them."""
    moment = now or utc_now()
    repository.take_write_turn(session)
    expired = repository.uncollected(session, moment - timedelta(days=days), limit=limit)
    for order in expired:
        take_step(session, order.id, Action.CANCEL, by="omni:pickup-expiry", note="not_collected", now=moment)
    return len(expired)
