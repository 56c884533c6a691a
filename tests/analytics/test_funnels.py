"""Funnel matching on one person's events, without a database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omni.analytics import funnels
from omni.analytics.funnels import Funnel, Step, Touch
from omni.kit.errors import ValidationFailed

T0 = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)


def touches(*events: tuple[float, str] | tuple[float, str, dict[str, Any]]) -> list[Touch]:
    """Touches at hours after T0."""
    return [Touch(T0 + timedelta(hours=e[0]), e[1], e[2] if len(e) > 2 else {}) for e in events]


def done_hours(attempt: funnels.Attempt) -> list[float | None]:
    return [None if d is None else (d - T0).total_seconds() / 3600 for d in attempt.done]


VIEW, ADD, BUY = Step("Product Viewed"), Step("Product Added"), Step("Order Completed")


def test_steps_must_come_in_order_within_the_window() -> None:
    # given a buy before the view, then a view, an add and a buy 10 days later
    funnel = Funnel((VIEW, ADD, BUY), window=timedelta(days=7))
    events = touches(
        (0, "Order Completed"), (1, "Product Viewed"), (2, "Product Added"), (240, "Order Completed")
    )
    # when matched
    [attempt] = funnels.attempts_of(funnel, 1, events)
    # then the early buy does not count and the late one is outside the window
    assert done_hours(attempt) == [1, 2, None]


def test_the_furthest_attempt_counts_when_a_later_start_gets_further() -> None:
    funnel = Funnel((VIEW, ADD, BUY), window=timedelta(hours=5))
    events = touches(
        (0, "Product Viewed"), (10, "Product Viewed"), (11, "Product Added"), (12, "Order Completed")
    )
    [attempt] = funnels.attempts_of(funnel, 1, events)
    assert done_hours(attempt) == [10, 11, 12]


def test_an_optional_step_is_counted_when_done_and_skipped_when_not() -> None:
    funnel = Funnel((VIEW, Step("Product Added", optional=True), BUY))
    with_add = funnels.attempts_of(
        funnel, 1, touches((0, "Product Viewed"), (1, "Product Added"), (2, "Order Completed"))
    )
    without = funnels.attempts_of(funnel, 2, touches((0, "Product Viewed"), (2, "Order Completed")))
    assert [done_hours(a) for a in with_add + without] == [[0, 1, 2], [0, None, 2]]


def test_an_optional_step_after_the_next_one_is_skipped_rather_than_losing_the_conversion() -> None:
    funnel = Funnel((VIEW, Step("Product Added", optional=True), BUY))
    [attempt] = funnels.attempts_of(
        funnel, 1, touches((0, "Product Viewed"), (1, "Order Completed"), (2, "Product Added"))
    )
    assert done_hours(attempt) == [0, None, 1]


def test_a_step_time_limit_picks_the_occurrence_that_keeps_the_next_step_in_time() -> None:
    # given adds at 1 h and 10 h and a buy at 11 h that must follow the add within 2 h
    funnel = Funnel((VIEW, ADD, Step("Order Completed", within=timedelta(hours=2))))
    events = touches(
        (0, "Product Viewed"), (1, "Product Added"), (10, "Product Added"), (11, "Order Completed")
    )
    [attempt] = funnels.attempts_of(funnel, 1, events)
    # then the later add is the one matched
    assert done_hours(attempt) == [0, 10, 11]


def test_a_step_past_its_time_limit_is_not_reached() -> None:
    funnel = Funnel((VIEW, Step("Order Completed", within=timedelta(hours=2))))
    [attempt] = funnels.attempts_of(funnel, 1, touches((0, "Product Viewed"), (3, "Order Completed")))
    assert done_hours(attempt) == [0, None]


def test_repeat_conversions_count_every_attempt_after_the_previous_one() -> None:
    funnel = Funnel((VIEW, BUY), repeat=True)
    events = touches(
        (0, "Product Viewed"),
        (1, "Product Viewed"),
        (2, "Order Completed"),
        (5, "Product Viewed"),
        (6, "Order Completed"),
        (9, "Product Viewed"),
    )
    attempts = funnels.attempts_of(funnel, 1, events)
    assert [done_hours(a) for a in attempts] == [[0, 2], [5, 6], [9, None]]


@pytest.mark.parametrize(
    ("where", "properties", "matches"),
    [
        ({"category": "鞋"}, {"category": "鞋"}, True),
        ({"category": "鞋"}, {"category": "上衣"}, False),
        ({"price": {"gte": 1000}}, {"price": 1290}, True),
        ({"price": {"gte": 1000}}, {"price": "1290"}, False),
        ({"size": {"in": ["M", "L"]}}, {"size": "L"}, True),
        ({"name": {"contains": "牛仔"}}, {"name": "格紋牛仔褲"}, True),
        ({"category": {"ne": "鞋"}}, {}, True),
    ],
    ids=["eq", "eq-other", "gte", "gte-text", "in", "contains", "ne-missing"],
)
def test_property_filters(where: dict[str, Any], properties: dict[str, Any], matches: bool) -> None:
    [step, _] = funnels.parse_steps(
        f'[{{"event": "Product Viewed", "where": {_json(where)}}}, "Order Completed"]', window_hours=24
    )
    assert funnels.step_matches(step, "Product Viewed", properties) is matches


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def test_counts_and_drop_off_per_step() -> None:
    funnel = Funnel((VIEW, ADD, BUY))
    attempts = [
        *funnels.attempts_of(
            funnel, 1, touches((0, "Product Viewed"), (1, "Product Added"), (2, "Order Completed"))
        ),
        *funnels.attempts_of(funnel, 2, touches((0, "Product Viewed"), (1, "Product Added"))),
        *funnels.attempts_of(funnel, 3, touches((0, "Product Viewed"))),
    ]
    [(group, counts)] = funnels.count(funnel, attempts).items()
    assert (group, counts.people, counts.dropped) == ("", [3, 2, 1], [0, 1, 1])
    assert counts.seconds[2] == [7200.0]


@pytest.mark.parametrize(
    ("steps", "field"),
    [
        ("Product Viewed", "steps"),
        ('[{"event": "A"}, {"event": "B", "optional": true}]', "steps[1].optional"),
        ('[{"event": "A"}, {"event": "B", "within_hours": 0}]', "steps[1].within_hours"),
        ('[{"event": "A"}, {"event": "B", "within_hours": 999}]', "steps[1].within_hours"),
        ('[{"event": "A"}, {"event": "B", "colour": 1}]', "steps[1].colour"),
        ('[{"event": "A", "where": {"x": {"like": 1}}}, "B"]', "steps[0].where.x"),
        ('[{"event": ""}, "B"]', "steps[0].event"),
        ("[1, 2", "steps"),
    ],
    ids=[
        "one-step",
        "optional-last",
        "zero-limit",
        "limit-beyond-window",
        "unknown-field",
        "bad-op",
        "no-name",
        "bad-json",
    ],
)
def test_bad_steps_are_refused_naming_the_field(steps: str, field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        funnels.parse_steps(steps, window_hours=168)
    assert refused.value.details[0]["field"] == field


@given(
    st.lists(
        st.tuples(
            st.integers(0, 200), st.sampled_from(["Product Viewed", "Product Added", "Order Completed"])
        ),
        max_size=25,
    )
)
def test_step_counts_never_grow_down_the_funnel_and_steps_keep_their_order(
    raw: list[tuple[int, str]],
) -> None:
    # invariant: with required steps, each step's count is at most the one before, and done times ascend
    funnel = Funnel((VIEW, ADD, BUY), window=timedelta(hours=48))
    events = touches(*sorted(raw, key=lambda e: e[0]))
    attempts = funnels.attempts_of(funnel, 1, events)
    for attempt in attempts:
        hours = done_hours(attempt)
        reached = [h for h in hours if h is not None]
        assert reached == sorted(reached)
        assert hours[: len(reached)] == reached
        assert not reached or reached[-1] - reached[0] <= 48
    counts = funnels.count(funnel, attempts).get("")
    if counts:
        assert counts.people == sorted(counts.people, reverse=True)
