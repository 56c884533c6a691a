"""Ready-made journeys: each is valid and publishable; the pickup notice runs, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from omni.demo.journeys import READY_MADE
from omni.events import service as events_service
from omni.journeys import definitions, examples
from omni.orders import transitions
from omni.orders.states import Action
from tests.journeys.builders import (
    NOON,
    journey,
    log_and_react,
    member,
    messages,
    path_of,
    react_since,
    runs,
    settings_for,
    step,
    track,
)
from tests.orders.builders import make_world, order_body, place

EXAMPLES: list[Callable[[], dict[str, Any]]] = [
    examples.cart_abandonment,
    examples.welcome_series,
    examples.pickup_ready,
    examples.birthday_offer,
    examples.post_purchase_cross_sell,
]


@pytest.mark.parametrize("make", EXAMPLES, ids=lambda make: make.__name__)
def test_each_ready_made_journey_is_valid_and_publishes(
    session: Session, make: Callable[[], dict[str, Any]]
) -> None:
    # given the definition, when it is parsed and published, then it is active with no problems
    definitions.parse(make())
    published = journey(session, make(), name=make.__name__)
    assert published.status == "active"


def test_the_demo_defines_every_ready_made_journey() -> None:
    assert [name for name, _, _ in READY_MADE] == [
        "Welcome series",
        "Ready for pickup",
        "Birthday offer",
        "Post-purchase cross-sell",
    ]


def test_pickup_ready_goes_on_line_or_sms_as_transactional_and_reminds_once(
    session: Session, tmp_path: Path
) -> None:
    # given Amy with a LINE id, and Bo with only a phone and no SMS marketing opt-in
    settings = settings_for(tmp_path)
    make_world(session, stock={"TEE-M": {"XINYI": 5}})
    amy = member(session, "c1", line_user_id="U" + "a" * 32)
    bo = member(session, "c2")
    pickup = journey(session, examples.pickup_ready(remind_after_days=2), name="Pickup")
    # when both their click & collect orders are ready (and a home delivery of Amy's lets nobody in)
    before = events_service.head_position(session)
    codes = {}
    for number, user_id in (("1001", "c1"), ("1002", "c2")):
        body = order_body("click_and_collect", store="XINYI", number=number, placed_at=NOON.isoformat())
        codes[number] = place(session, body | {"customer": {"user_id": user_id}}).pickup_code
        for action in (Action.PICK, Action.READY):
            transitions.take_step(session, number, action, by="test", now=NOON)
    react_since(session, before)
    log_and_react(session, track("Order Ready For Pickup", "r3", order_id="1003", fulfilment="ship_to_home"))
    step(session, settings, NOON)
    # then Amy is told on LINE and Bo by SMS, both transactional and due at once, with store and code
    assert [(m.profile_id, m.channel, m.purpose, m.status) for m in messages(session)] == [
        (amy, "line", "transactional", "queued"),
        (bo, "sms", "transactional", "queued"),
    ]
    assert messages(session)[1].content["text"] == (
        f"Amy，訂單 1002 已到XINYI 店可取貨，取貨碼 {codes['1002']}，請於 7 天內領取。"
    )
    # when Amy picks hers up and two days pass
    before = events_service.head_position(session)
    pick_up = NOON + timedelta(hours=5)
    transitions.take_step(session, "1001", Action.PICKUP, by="test", code=codes["1001"], now=pick_up)
    react_since(session, before, now=pick_up)
    step(session, settings, NOON + timedelta(days=2, minutes=1))
    # then Amy converted with no reminder, and Bo got one reminder by SMS naming his order's store and code
    amy_run, bo_run = runs(session, pickup.id)
    assert (amy_run.state, amy_run.converted_at is not None) == ("completed", True)
    bo_path = [node for node, _ in path_of(session, bo_run.id)]
    assert bo_path == ["ready", "wait_pickup", "wait_pickup", "remind", "done"]
    assert [(m.profile_id, m.channel) for m in messages(session)][2:] == [(bo, "sms")]
    assert messages(session)[2].content["text"] == (
        f"Amy，提醒您：訂單 1002 還在XINYI 店等您領取，取貨碼 {codes['1002']}。"
    )
