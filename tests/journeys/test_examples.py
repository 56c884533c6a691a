"""Ready-made journeys: each is valid and publishable; the pickup notice runs, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from omni.demo.journeys import READY_MADE
from omni.journeys import definitions, examples
from tests.journeys.builders import (
    NOON,
    journey,
    log_and_react,
    member,
    messages,
    path_of,
    runs,
    settings_for,
    step,
    track,
)

EXAMPLES: list[Callable[[], dict[str, Any]]] = [
    examples.cart_abandonment,
    examples.welcome_series,
    examples.pickup_ready,
    examples.birthday_offer,
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
    assert [name for name, _, _ in READY_MADE] == ["Welcome series", "Ready for pickup", "Birthday offer"]


def test_pickup_ready_goes_on_line_or_sms_as_transactional_and_reminds_once(
    session: Session, tmp_path: Path
) -> None:
    # given Amy with a LINE id, and Bo with only a phone and no SMS marketing opt-in
    settings = settings_for(tmp_path)
    amy = member(session, "c1", line_user_id="U" + "a" * 32)
    bo = member(session, "c2")
    pickup = journey(session, examples.pickup_ready(remind_after_days=2), name="Pickup")
    # when both their click & collect orders are ready (and a home delivery of Amy's lets nobody in)
    ready = {"fulfilment": "click_and_collect"}
    log_and_react(
        session,
        track("Order Ready For Pickup", "r1", order_id="1001", **ready),
        track("Order Ready For Pickup", "r2", user_id="c2", order_id="1002", **ready),
        track("Order Ready For Pickup", "r3", order_id="1003", fulfilment="ship_to_home"),
    )
    step(session, settings, NOON)
    # then Amy is told on LINE and Bo by SMS, both transactional and due at once
    assert [(m.profile_id, m.channel, m.purpose, m.status) for m in messages(session)] == [
        (amy, "line", "transactional", "queued"),
        (bo, "sms", "transactional", "queued"),
    ]
    # when Amy picks hers up and two days pass
    log_and_react(session, track("Order Picked Up", "p1", order_id="1001", at=NOON + timedelta(hours=5)))
    step(session, settings, NOON + timedelta(days=2, minutes=1))
    # then Amy converted with no reminder, and Bo got one reminder by SMS
    amy_run, bo_run = runs(session, pickup.id)
    assert (amy_run.state, amy_run.converted_at is not None) == ("completed", True)
    bo_path = [node for node, _ in path_of(session, bo_run.id)]
    assert bo_path == ["ready", "wait_pickup", "wait_pickup", "remind", "done"]
    assert [(m.profile_id, m.channel) for m in messages(session)][2:] == [(bo, "sms")]
