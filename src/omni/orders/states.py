"""The order's life as a pure state machine: which step may follow which, for each way of fulfilling.

placed → allocated → picking → ready_for_pickup → picked_up → completed   (click & collect, reserve in store)
placed → allocated → picking → [partially_shipped →] shipped → delivered → completed   (shipped to a person)
A till sale is completed when it is recorded. Any order not yet handed over or fully shipped may be cancelled;
cancelling some of its lines leaves the order where it was, with those lines cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from omni.orders.errors import IllegalTransition


class Fulfilment(StrEnum):
    SHIP_TO_HOME = "ship_to_home"
    CLICK_AND_COLLECT = "click_and_collect"
    SHIP_FROM_STORE = "ship_from_store"
    ENDLESS_AISLE = "endless_aisle"
    RESERVE_IN_STORE = "reserve_in_store"
    IN_STORE = "in_store"  # a till sale: the goods left the store with the customer


class OrderState(StrEnum):
    PLACED = "placed"
    ALLOCATED = "allocated"
    PICKING = "picking"
    READY_FOR_PICKUP = "ready_for_pickup"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    PICKED_UP = "picked_up"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Action(StrEnum):
    ALLOCATE = "allocate"
    PICK = "pick"
    READY = "ready"
    SHIP = "ship"
    DELIVER = "deliver"
    PICKUP = "pickup"
    COMPLETE = "complete"
    CANCEL = "cancel"


# Collected in a store: the customer comes for the goods.
COLLECTED = frozenset({Fulfilment.CLICK_AND_COLLECT, Fulfilment.RESERVE_IN_STORE})
# Carried to the customer's address.
SHIPPED = frozenset({Fulfilment.SHIP_TO_HOME, Fulfilment.SHIP_FROM_STORE, Fulfilment.ENDLESS_AISLE})
OPEN_STATES = frozenset(
    {OrderState.PLACED, OrderState.ALLOCATED, OrderState.PICKING, OrderState.READY_FOR_PICKUP}
)
FINAL_STATES = frozenset({OrderState.COMPLETED, OrderState.CANCELLED})


@dataclass(frozen=True)
class Step:
    action: Action
    sources: frozenset[OrderState]
    target: OrderState
    fulfilments: frozenset[Fulfilment]


STEPS: dict[Action, Step] = {
    step.action: step
    for step in (
        Step(Action.ALLOCATE, frozenset({OrderState.PLACED}), OrderState.ALLOCATED, COLLECTED | SHIPPED),
        Step(Action.PICK, frozenset({OrderState.ALLOCATED}), OrderState.PICKING, COLLECTED | SHIPPED),
        Step(Action.READY, frozenset({OrderState.PICKING}), OrderState.READY_FOR_PICKUP, COLLECTED),
        Step(
            Action.SHIP,
            frozenset({OrderState.PICKING, OrderState.PARTIALLY_SHIPPED}),
            OrderState.SHIPPED,
            SHIPPED,
        ),
        Step(Action.DELIVER, frozenset({OrderState.SHIPPED}), OrderState.DELIVERED, SHIPPED),
        Step(Action.PICKUP, frozenset({OrderState.READY_FOR_PICKUP}), OrderState.PICKED_UP, COLLECTED),
        Step(
            Action.COMPLETE,
            frozenset({OrderState.PICKED_UP, OrderState.DELIVERED}),
            OrderState.COMPLETED,
            COLLECTED | SHIPPED,
        ),
        Step(Action.CANCEL, OPEN_STATES, OrderState.CANCELLED, COLLECTED | SHIPPED),
    )
}


def next_state(current: OrderState, action: Action, fulfilment: Fulfilment) -> OrderState:
    """The state action leads to from current; IllegalTransition (409) naming current when it may not."""
    step = STEPS[action]
    if fulfilment not in step.fulfilments:
        raise IllegalTransition(
            f"a {fulfilment.value} order cannot {action.value}",
            details=[
                {"field": "action", "rule": f"not a step of {fulfilment.value} orders", "state": current}
            ],
        )
    if current not in step.sources:
        allowed = ", ".join(sorted(a.value for a in allowed_actions(current, fulfilment))) or "none"
        raise IllegalTransition(
            f"the order is {current.value}; it cannot {action.value} (allowed: {allowed})",
            details=[
                {
                    "field": "state",
                    "rule": f"{action.value} needs one of {', '.join(sorted(s.value for s in step.sources))}",
                    "state": current.value,
                }
            ],
        )
    return step.target


def allowed_actions(current: OrderState, fulfilment: Fulfilment) -> list[Action]:
    """The actions that may follow current for an order fulfilled this way, in the order of the enum."""
    return [
        step.action for step in STEPS.values() if current in step.sources and fulfilment in step.fulfilments
    ]


def after_shipping(lines_still_open: int) -> OrderState:
    """The order's state after a shipment that leaves lines_still_open lines to send."""
    return OrderState.PARTIALLY_SHIPPED if lines_still_open else OrderState.SHIPPED
