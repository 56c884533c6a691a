"""Journey definitions are checked at save time, each problem named by its JSON path."""

from __future__ import annotations

from typing import Any

import pytest

from omni.journeys import definitions
from omni.journeys.errors import JourneyInvalid
from tests.journeys.builders import CART, cart


def _problems(raw: dict[str, Any]) -> list[dict[str, Any]]:
    with pytest.raises(JourneyInvalid) as caught:
        definitions.parse(raw)
    assert caught.value.status_code == 422
    return caught.value.details


def test_the_cart_abandonment_journey_is_valid() -> None:
    # when the cart journey is parsed
    parsed = definitions.parse(CART)
    # then its nodes, trigger keys and goal are as written
    assert list(parsed.nodes) == ["wait_order", "email", "day", "split", "sms", "bought", "done"]
    assert definitions.trigger_keys(parsed) == ["cart_id"]
    assert parsed.goal is not None
    assert parsed.goal.within.delta.days == 3


def test_an_unknown_node_id_is_named_by_its_path() -> None:
    raw = cart()
    raw["nodes"]["email"]["next"] = "dya"
    assert _problems(raw) == [{"field": "nodes.email.next", "rule": "unknown node dya"}]


def test_an_unknown_start_and_branch_target_are_named() -> None:
    raw = cart(start="nowhere")
    raw["nodes"]["split"]["branches"][1]["next"] = "gone"
    assert _problems(raw) == [
        {"field": "start", "rule": "unknown node nowhere"},
        {"field": "nodes.split.branches.1.next", "rule": "unknown node gone"},
    ]


def test_an_unreachable_node_is_named() -> None:
    raw = cart()
    raw["nodes"]["orphan"] = {"type": "exit"}
    assert _problems(raw) == [{"field": "nodes.orphan", "rule": "unreachable: no path from start leads here"}]


def test_a_loop_without_a_wait_is_refused() -> None:
    # given a condition that sends and comes back to itself without waiting
    raw = cart(start="check")
    raw["nodes"]["check"] = {
        "type": "condition",
        "if": {"trait": "vip", "value": True},
        "then": "nag",
        "else": "wait_order",
    }
    raw["nodes"]["nag"] = {
        "type": "send",
        "channel": "email",
        "message": {"variants": {"email": {}}},
        "next": "check",
    }
    # then the loop is named from its first node
    assert _problems(raw) == [{"field": "nodes.check", "rule": "loop without a wait: check -> nag -> check"}]


def test_a_loop_through_a_delay_is_allowed() -> None:
    # given the weekly reminder loops back through a one-day delay
    raw = cart()
    raw["nodes"]["sms"]["next"] = "day"
    # then it is a valid journey
    assert definitions.parse(raw).nodes["sms"].next == "day"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("percents", "rule"),
    [
        pytest.param([90, 5], "percentages sum to 95, not 100", id="short"),
        pytest.param([90, 20], "percentages sum to 110, not 100", id="over"),
    ],
)
def test_split_percentages_must_sum_to_100(percents: list[int], rule: str) -> None:
    raw = cart()
    for branch, percent in zip(raw["nodes"]["split"]["branches"], percents, strict=True):
        branch["percent"] = percent
    assert _problems(raw) == [{"field": "nodes.split.branches", "rule": rule}]


def test_a_wait_keyed_to_something_the_trigger_lacks_is_refused() -> None:
    raw = cart()
    raw["nodes"]["wait_order"]["keys"] = ["order_id"]
    assert _problems(raw) == [
        {"field": "nodes.wait_order.keys", "rule": "order_id is not a key of the trigger (keys: cart_id)"}
    ]


def test_shape_errors_name_the_field_without_the_node_type() -> None:
    raw = cart()
    raw["nodes"]["day"] = {"type": "delay", "next": "split"}
    raw["nodes"]["email"]["channel"] = "fax"
    raw["reentry"] = {"policy": "once_per"}
    fields = sorted(problem["field"] for problem in _problems(raw))
    assert fields == ["nodes.day", "nodes.email.channel", "reentry"]


def test_delay_until_takes_a_time_of_day() -> None:
    raw = cart()
    raw["nodes"]["day"] = {"type": "delay", "until": "25:00", "next": "split"}
    assert _problems(raw) == [{"field": "nodes.day", "rule": "Value error, until is a time of day, HH:MM"}]
