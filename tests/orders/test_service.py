"""Placing orders, their steps and returns, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from omni.events.models import LoggedEvent
from omni.inventory import service as inventory_service
from omni.kit.errors import OmniError
from omni.kit.time import utc_now
from omni.orders import returns, service, transitions
from omni.orders.errors import (
    CannotSource,
    IdempotencyKeyReused,
    IllegalTransition,
    OrderInvalid,
    PickupUnavailable,
    ReturnTooLarge,
    WrongPickupCode,
)
from omni.orders.models import Order
from omni.orders.schemas import OrderCreate, ReturnCreate
from omni.orders.states import Action
from tests.orders.builders import NEAR_BANQIAO, PRICE, free, make_world, order_body, place


def _events(session: Session, order_number: str) -> list[LoggedEvent]:
    rows = session.scalars(select(LoggedEvent).order_by(LoggedEvent.position))
    return [row for row in rows if row.properties.get("order_id") == order_number]


def _orders(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Order)) or 0)


def _step(session: Session, number: str, action: Action, **kwargs: Any) -> str:
    return transitions.take_step(session, number, action, by="clerk", **kwargs).state.value


def test_a_home_delivery_is_sourced_near_the_customer_and_logged_as_order_completed(session: Session) -> None:
    # given stock in both stores and the warehouse
    make_world(session, stock={"TEE-M": {"XINYI": 5, "BANQIAO": 5, "TAOYUAN-DC": 5}})
    # when a customer in Banqiao orders two
    order = place(session, order_body(lines=[{"sku": "TEE-M", "quantity": 2}], ship_to=NEAR_BANQIAO))
    # then Banqiao sends them, its free stock drops, and the order explains why
    assert order.state == "allocated"
    assert [(line.location_code, line.unit_price_minor) for line in order.lines] == [("BANQIAO", PRICE)]
    assert free(session, "TEE-M", "XINYI", "BANQIAO") == {"XINYI": 5, "BANQIAO": 3}
    assert order.sourcing["lines"][0]["chosen"] == "BANQIAO"
    assert {c["location"] for c in order.sourcing["lines"][0]["candidates"]} == {
        "XINYI",
        "BANQIAO",
        "TAOYUAN-DC",
    }
    assert [h.to_state for h in order.history] == ["placed", "allocated"]
    (event,) = _events(session, order.number)
    assert (event.event, event.user_id, event.source, event.channel) == (
        "Order Completed",
        "u-42",
        "omni:orders",
        "web",
    )
    assert event.message_id == f"omni-order:{order.number}:completed"
    assert event.context["traits"] == {"email": "mei@example.com"}
    assert event.properties["revenue"] == 2580.0
    assert event.properties["products"] == [
        {
            "product_id": "TEE",
            "sku": "TEE-M",
            "name": "棉質 T 恤",
            "category": "tees",
            "price": 1290.0,
            "price_minor": PRICE,
            "quantity": 2,
        }
    ]


def test_a_retry_with_the_same_key_returns_the_same_order_and_changes_nothing(session: Session) -> None:
    make_world(session, stock={"TEE-M": {"XINYI": 5}})
    first = place(session, order_body("click_and_collect", store="XINYI"), key="k-1")
    events_before = session.scalar(select(func.count()).select_from(LoggedEvent))
    # when
    again, created = service.place_order(
        session, OrderCreate.model_validate(order_body("click_and_collect", store="XINYI")), key="k-1", by="t"
    )
    # then
    assert created is False
    assert (again.id, again.number, again.pickup_code) == (first.id, first.number, first.pickup_code)
    assert _orders(session) == 1
    assert free(session, "TEE-M", "XINYI") == {"XINYI": 4}
    assert session.scalar(select(func.count()).select_from(LoggedEvent)) == events_before


def test_the_same_key_with_a_different_order_is_refused(session: Session) -> None:
    make_world(session, stock={"TEE-M": {"XINYI": 5}})
    place(session, order_body(), key="k-1")
    with pytest.raises(IdempotencyKeyReused) as refused:
        place(session, order_body(lines=[{"sku": "TEE-M", "quantity": 2}]), key="k-1")
    assert refused.value.status_code == 409
    assert _orders(session) == 1


@pytest.mark.parametrize(
    ("body", "error", "field"),
    [
        pytest.param(
            order_body(lines=[{"sku": "NOPE", "quantity": 1}]), OrderInvalid, "lines.0.sku", id="unknown-sku"
        ),
        pytest.param(order_body(channel="nowhere"), OrderInvalid, "channel", id="unknown-channel"),
        pytest.param(
            order_body("click_and_collect", store="MARS"), OrderInvalid, "store", id="unknown-store"
        ),
        pytest.param(
            order_body(lines=[{"sku": "TEE-M", "quantity": 1}, {"sku": "TEE-M", "quantity": 9}]),
            CannotSource,
            "lines.1.quantity",
            id="not-enough-stock",
        ),
        pytest.param(
            order_body("click_and_collect", store="XINYI"),
            PickupUnavailable,
            "store",
            id="click-and-collect-off",
        ),
    ],
)
def test_bad_orders_are_refused_naming_the_field_and_nothing_is_written(
    session: Session, body: dict[str, Any], error: type[OmniError], field: str
) -> None:
    make_world(session, stock={"TEE-M": {"XINYI": 3, "BANQIAO": 3}}, xinyi_click_and_collect=False)
    with session.begin_nested() as attempt:
        with pytest.raises(error) as refused:
            place(session, body)
        attempt.rollback()
    assert refused.value.details[0]["field"] == field
    assert 400 <= refused.value.status_code < 500
    assert _orders(session) == 0
    assert free(session, "TEE-M", "XINYI", "BANQIAO") == {"XINYI": 3, "BANQIAO": 3}


def test_a_store_s_pickups_stop_when_its_daily_capacity_is_used(session: Session) -> None:
    make_world(session, stock={"TEE-M": {"XINYI": 9}}, capacity=2)
    for _ in range(2):
        place(session, order_body("click_and_collect", store="XINYI"))
    with pytest.raises(PickupUnavailable) as refused:
        place(session, order_body("click_and_collect", store="XINYI"))
    assert refused.value.message == "XINYI has no pickup capacity left today (2 of 2 booked)"


def test_click_and_collect_is_picked_readied_and_handed_over_with_the_code(session: Session) -> None:
    make_world(session, stock={"TEE-M": {"XINYI": 5}})
    order = place(session, order_body("click_and_collect", store="XINYI"))
    assert order.pickup_code is not None
    assert len(order.pickup_code) == 6
    assert _step(session, order.number, Action.PICK) == "picking"
    assert _step(session, order.number, Action.READY) == "ready_for_pickup"
    # a wrong code hands nothing over
    wrong = "000000" if order.pickup_code != "000000" else "111111"
    with pytest.raises(WrongPickupCode):
        _step(session, order.number, Action.PICKUP, code=wrong)
    assert service.get_order(session, order.number).state == "ready_for_pickup"
    # the right one does: the goods leave the store's on-hand
    assert _step(session, order.number, Action.PICKUP, code=order.pickup_code) == "picked_up"
    (level,) = inventory_service.level_rows(session, sku="TEE-M", location="XINYI")
    assert (level.on_hand, level.allocated) == (4, 0)
    names = [e.event for e in _events(session, order.number)]
    assert names == ["Order Completed", "Order Updated", "Order Ready For Pickup", "Order Picked Up"]
    assert _step(session, order.number, Action.COMPLETE) == "completed"


def test_an_illegal_step_is_refused_naming_the_current_state(session: Session) -> None:
    make_world(session, stock={"TEE-M": {"XINYI": 5}})
    order = place(session, order_body("click_and_collect", store="XINYI"))
    with pytest.raises(IllegalTransition) as refused:
        _step(session, order.number, Action.PICKUP, code=order.pickup_code)
    assert refused.value.message.startswith("the order is allocated; it cannot pickup")


def test_cancelling_releases_the_stock_and_logs_order_cancelled(session: Session) -> None:
    make_world(session, stock={"TEE-M": {"XINYI": 5}})
    order = place(session, order_body(lines=[{"sku": "TEE-M", "quantity": 3}]))
    assert free(session, "TEE-M", "XINYI") == {"XINYI": 2}
    assert _step(session, order.number, Action.CANCEL, note="changed mind") == "cancelled"
    assert free(session, "TEE-M", "XINYI") == {"XINYI": 5}
    last = _events(session, order.number)[-1]
    assert (last.event, last.properties["reason"]) == ("Order Cancelled", "changed mind")


def test_lines_can_ship_and_be_cancelled_apart(session: Session) -> None:
    # given a two-line order
    make_world(session, stock={"TEE-M": {"XINYI": 5}, "TEE-L": {"XINYI": 5}})
    order = place(
        session, order_body(lines=[{"sku": "TEE-M", "quantity": 1}, {"sku": "TEE-L", "quantity": 2}])
    )
    _step(session, order.number, Action.PICK)
    # when line 1 ships, then line 2 is cancelled
    assert _step(session, order.number, Action.SHIP, lines=[1]) == "partially_shipped"
    assert _step(session, order.number, Action.CANCEL, lines=[2]) == "shipped"
    # then
    read = service.order_read(session, service.get_order(session, order.number))
    assert [line.status for line in read.lines] == ["shipped", "cancelled"]
    assert free(session, "TEE-L", "XINYI") == {"XINYI": 5}
    (level,) = inventory_service.level_rows(session, sku="TEE-M", location="XINYI")
    assert level.on_hand == 4


def test_an_uncollected_order_is_cancelled_after_the_hold_and_its_stock_released(session: Session) -> None:
    make_world(session, stock={"TEE-M": {"XINYI": 5}})
    order = place(session, order_body("click_and_collect", store="XINYI"))
    _step(session, order.number, Action.PICK)
    _step(session, order.number, Action.READY)
    assert transitions.cancel_uncollected(session, days=7, now=utc_now() + timedelta(days=6)) == 0
    assert transitions.cancel_uncollected(session, days=7, now=utc_now() + timedelta(days=8)) == 1
    assert service.get_order(session, order.number).state == "cancelled"
    assert free(session, "TEE-M", "XINYI") == {"XINYI": 5}
    assert _events(session, order.number)[-1].properties["reason"] == "not_collected"


def _delivered(session: Session) -> str:
    make_world(session, stock={"TEE-M": {"TAOYUAN-DC": 5}, "TEE-L": {"TAOYUAN-DC": 5}})
    order = place(
        session, order_body(lines=[{"sku": "TEE-M", "quantity": 2}, {"sku": "TEE-L", "quantity": 1}])
    )
    for action in (Action.PICK, Action.SHIP, Action.DELIVER):
        _step(session, order.number, action)
    return order.number


def _return(items: list[dict[str, Any]], store: str = "XINYI") -> ReturnCreate:
    return ReturnCreate.model_validate({"store": store, "items": items})


def test_an_online_order_returned_in_a_store_is_sellable_there_at_once_and_refunded(session: Session) -> None:
    number = _delivered(session)
    body = _return(
        [
            {"line": 1, "quantity": 1, "disposition": "restock"},
            {"line": 2, "quantity": 1, "disposition": "damaged"},
        ]
    )
    order, created = returns.record_return(session, number, body, key="r-1", by="clerk")
    assert created is True
    assert order.refunded_minor == 2 * PRICE
    assert [line.returned_quantity for line in order.lines] == [1, 1]
    assert free(session, "TEE-M", "XINYI") == {"XINYI": 1}
    assert free(session, "TEE-L", "XINYI") == {"XINYI": 0}
    refund = _events(session, number)[-1]
    assert (refund.event, refund.properties["total_minor"]) == ("Order Refunded", 2 * PRICE)
    assert [p["sku"] for p in refund.properties["products"]] == ["TEE-M", "TEE-L"]


def test_a_retried_return_changes_nothing(session: Session) -> None:
    number = _delivered(session)
    body = _return([{"line": 1, "quantity": 1, "disposition": "restock"}])
    returns.record_return(session, number, body, key="r-1", by="clerk")
    events_before = session.scalar(select(func.count()).select_from(LoggedEvent))
    order, created = returns.record_return(session, number, body, key="r-1", by="clerk")
    assert created is False
    assert (order.refunded_minor, len(order.returns)) == (PRICE, 1)
    assert free(session, "TEE-M", "XINYI") == {"XINYI": 1}
    assert session.scalar(select(func.count()).select_from(LoggedEvent)) == events_before


def test_returning_more_than_was_bought_says_how_many_may_come_back(session: Session) -> None:
    number = _delivered(session)
    returns.record_return(
        session,
        number,
        _return([{"line": 1, "quantity": 1, "disposition": "restock"}]),
        key="r-1",
        by="clerk",
    )
    with pytest.raises(ReturnTooLarge) as refused:
        returns.record_return(
            session,
            number,
            _return([{"line": 1, "quantity": 2, "disposition": "restock"}]),
            key="r-2",
            by="clerk",
        )
    assert refused.value.status_code == 422
    assert refused.value.details[0]["returnable"] == 1
    assert refused.value.details[0]["rule"] == "at most 1 of line 1 (TEE-M) can be returned"
