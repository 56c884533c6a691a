"""The order state machine, without a database."""

from __future__ import annotations

import pytest

from omni.orders.errors import IllegalTransition
from omni.orders.states import Action, Fulfilment, OrderState, after_shipping, allowed_actions, next_state

C_AND_C = Fulfilment.CLICK_AND_COLLECT
HOME = Fulfilment.SHIP_TO_HOME


def _walk(fulfilment: Fulfilment, actions: list[Action]) -> OrderState:
    state = OrderState.PLACED
    for action in actions:
        state = next_state(state, action, fulfilment)
    return state


def test_a_click_and_collect_order_goes_from_placed_to_completed_through_the_pickup_shelf() -> None:
    steps = [Action.ALLOCATE, Action.PICK, Action.READY, Action.PICKUP, Action.COMPLETE]
    assert _walk(C_AND_C, steps) is OrderState.COMPLETED
    assert _walk(C_AND_C, steps[:3]) is OrderState.READY_FOR_PICKUP


@pytest.mark.parametrize(
    "fulfilment", [Fulfilment.SHIP_TO_HOME, Fulfilment.SHIP_FROM_STORE, Fulfilment.ENDLESS_AISLE]
)
def test_a_delivered_order_goes_from_placed_to_completed_through_shipping(fulfilment: Fulfilment) -> None:
    steps = [Action.ALLOCATE, Action.PICK, Action.SHIP, Action.DELIVER, Action.COMPLETE]
    assert _walk(fulfilment, steps) is OrderState.COMPLETED


@pytest.mark.parametrize(
    ("state", "action", "fulfilment"),
    [
        pytest.param(OrderState.ALLOCATED, Action.SHIP, HOME, id="ship-before-pick"),
        pytest.param(OrderState.SHIPPED, Action.CANCEL, HOME, id="cancel-after-shipping"),
        pytest.param(OrderState.PICKED_UP, Action.CANCEL, C_AND_C, id="cancel-after-handover"),
        pytest.param(OrderState.PICKING, Action.PICKUP, C_AND_C, id="pickup-before-ready"),
        pytest.param(OrderState.COMPLETED, Action.PICK, HOME, id="pick-a-completed-order"),
        pytest.param(OrderState.CANCELLED, Action.READY, C_AND_C, id="ready-a-cancelled-order"),
    ],
)
def test_an_illegal_step_is_a_409_naming_the_current_state(
    state: OrderState, action: Action, fulfilment: Fulfilment
) -> None:
    with pytest.raises(IllegalTransition) as refused:
        next_state(state, action, fulfilment)
    assert refused.value.status_code == 409
    assert f"the order is {state.value}" in refused.value.message
    assert refused.value.details[0]["state"] == state.value


@pytest.mark.parametrize(
    ("fulfilment", "action"),
    [
        pytest.param(HOME, Action.READY, id="home-delivery-has-no-pickup-shelf"),
        pytest.param(HOME, Action.PICKUP, id="home-delivery-is-not-handed-over"),
        pytest.param(C_AND_C, Action.SHIP, id="click-and-collect-is-not-shipped"),
        pytest.param(Fulfilment.RESERVE_IN_STORE, Action.DELIVER, id="reservation-is-not-delivered"),
    ],
)
def test_a_step_of_another_way_of_fulfilling_is_refused(fulfilment: Fulfilment, action: Action) -> None:
    with pytest.raises(IllegalTransition) as refused:
        next_state(OrderState.PICKING, action, fulfilment)
    assert refused.value.message == f"a {fulfilment.value} order cannot {action.value}"


def test_allowed_actions_list_what_may_follow() -> None:
    assert allowed_actions(OrderState.ALLOCATED, C_AND_C) == [Action.PICK, Action.CANCEL]
    assert allowed_actions(OrderState.READY_FOR_PICKUP, C_AND_C) == [Action.PICKUP, Action.CANCEL]
    assert allowed_actions(OrderState.PARTIALLY_SHIPPED, HOME) == [Action.SHIP]
    assert allowed_actions(OrderState.CANCELLED, HOME) == []


def test_a_shipment_leaving_lines_behind_makes_the_order_partially_shipped() -> None:
    assert after_shipping(2) is OrderState.PARTIALLY_SHIPPED
    assert after_shipping(0) is OrderState.SHIPPED
