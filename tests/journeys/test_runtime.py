"""Pure rules of the runtime: split buckets, times of day, trigger filters, match keys, dates, the z-test."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omni.journeys import runtime, triggers
from omni.journeys.definitions import DateTrigger, PropertyFilter, RandomSplitNode
from omni.journeys.stats import two_proportion_z
from tests.journeys.builders import CART

SPLIT = RandomSplitNode.model_validate(CART["nodes"]["split"])


def test_a_split_sends_a_seeded_ten_percent_to_the_holdout() -> None:
    # given 100,000 runs reaching the 90/10 split of journey 7
    chosen = Counter(
        runtime.choose_branch(SPLIT, runtime.bucket(run_id, "split", seed="7")) for run_id in range(100_000)
    )
    # then the holdout holds 10% of them, within three standard errors (0.28 points)
    assert abs(chosen[1] / 100_000 - 0.10) < 0.0028
    assert chosen[0] + chosen[1] == 100_000
    # and the assignment is the same every time for a run
    assert [runtime.bucket(5, "split", seed="7") for _ in range(3)] == [
        runtime.bucket(5, "split", seed="7")
    ] * 3


@given(point=st.floats(min_value=0, max_value=100, exclude_max=True))
def test_every_point_lands_in_the_branch_that_covers_it(point: float) -> None:
    index = runtime.choose_branch(SPLIT, point)
    assert index == (0 if point < 90 else 1)


@given(run_id=st.integers(min_value=1, max_value=2**62), node=st.text(min_size=1, max_size=20))
def test_buckets_lie_in_0_to_100(run_id: int, node: str) -> None:
    assert 0 <= runtime.bucket(run_id, node) < 100


@pytest.mark.parametrize(
    ("now", "zone", "expected"),
    [
        # 08:00 in Taipei: 09:00 is later the same day
        pytest.param(
            datetime(2026, 6, 1, 0, 0, tzinfo=UTC),
            "Asia/Taipei",
            datetime(2026, 6, 1, 1, 0, tzinfo=UTC),
            id="later-today",
        ),
        # 10:00 in Taipei: tomorrow's 09:00
        pytest.param(
            datetime(2026, 6, 1, 2, 0, tzinfo=UTC),
            "Asia/Taipei",
            datetime(2026, 6, 2, 1, 0, tzinfo=UTC),
            id="tomorrow",
        ),
        # exactly 09:00 counts as passed
        pytest.param(
            datetime(2026, 6, 1, 1, 0, tzinfo=UTC),
            "Asia/Taipei",
            datetime(2026, 6, 2, 1, 0, tzinfo=UTC),
            id="now",
        ),
        # 08:00 in New York (UTC-4 in summer): 09:00 is 13:00 UTC
        pytest.param(
            datetime(2026, 6, 1, 12, 0, tzinfo=UTC),
            "America/New_York",
            datetime(2026, 6, 1, 13, 0, tzinfo=UTC),
            id="new-york",
        ),
    ],
)
def test_delay_until_a_time_of_day_in_the_persons_zone(now: datetime, zone: str, expected: datetime) -> None:
    assert runtime.next_time_of_day(now, "09:00", ZoneInfo(zone)) == expected


@pytest.mark.parametrize(
    ("where", "properties", "expected"),
    [
        pytest.param(
            [PropertyFilter(property="total", op="gte", value=1000)], {"total": 1200}, True, id="gte"
        ),
        pytest.param(
            [PropertyFilter(property="total", op="gte", value=1000)], {"total": 999}, False, id="below"
        ),
        pytest.param(
            [PropertyFilter(property="total", op="gt", value=10)], {"total": "99"}, False, id="kinds"
        ),
        pytest.param([PropertyFilter(property="total", op="gt", value=10)], {}, False, id="missing"),
        pytest.param([PropertyFilter(property="store", op="exists")], {"store": "TPE"}, True, id="exists"),
        pytest.param([PropertyFilter(property="store", op="ne", value="TPE")], {}, True, id="ne-missing"),
        pytest.param(
            [PropertyFilter(property="sku", op="contains", value="A")], {"sku": ["A", "B"]}, True, id="in"
        ),
    ],
)
def test_trigger_property_filters(
    where: list[PropertyFilter], properties: dict[str, object], expected: bool
) -> None:
    assert triggers.matches(where, properties) is expected


def test_match_keys_are_equal_for_equal_values_only() -> None:
    key = triggers.match_key("Order Completed", ["cart_id"], {"cart_id": "c-1"}, profile_id=1)
    assert key == 'Order Completed|cart_id="c-1"'
    assert triggers.match_key("Order Completed", ["cart_id"], {"cart_id": "c-1"}, profile_id=2) == key
    assert triggers.match_key("Order Completed", ["cart_id"], {"cart_id": 1}, profile_id=1) != key
    assert triggers.match_key("Order Completed", [], {}, profile_id=9) == "Order Completed|profile=9"
    long = triggers.match_key("E", ["k"], {"k": "x" * 400}, profile_id=1)
    assert long.startswith("E|sha256:")
    assert len(long) == len("E|sha256:") + 64


@pytest.mark.parametrize(
    ("trigger", "value", "today", "expected"),
    [
        pytest.param(
            DateTrigger(type="date_trait", trait="birthday", annual=True),
            "1990-06-01",
            date(2026, 6, 1),
            True,
            id="birthday",
        ),
        pytest.param(
            DateTrigger(type="date_trait", trait="birthday", annual=True),
            "1990-06-02",
            date(2026, 6, 1),
            False,
            id="not-yet",
        ),
        pytest.param(
            DateTrigger(type="date_trait", trait="birthday", annual=True, offset_days=-7),
            "1990-06-08",
            date(2026, 6, 1),
            True,
            id="week-before",
        ),
        pytest.param(
            DateTrigger(type="date_trait", trait="birthday", annual=True),
            "2000-02-29",
            date(2027, 2, 28),
            True,
            id="leap-day",
        ),
        pytest.param(
            DateTrigger(type="date_trait", trait="birthday", annual=True),
            "2000-02-29",
            date(2028, 2, 28),
            False,
            id="leap-year",
        ),
        pytest.param(
            DateTrigger(type="date_trait", trait="signed_up_at", offset_days=3),
            "2026-05-29T10:00:00Z",
            date(2026, 6, 1),
            True,
            id="after-signup",
        ),
        pytest.param(
            DateTrigger(type="date_trait", trait="signed_up_at", offset_days=3),
            "2025-05-29",
            date(2026, 6, 1),
            False,
            id="other-year",
        ),
        pytest.param(
            DateTrigger(type="date_trait", trait="birthday"), "soon", date(2026, 6, 1), False, id="not-a-date"
        ),
    ],
)
def test_date_triggers(trigger: DateTrigger, value: str, today: date, expected: bool) -> None:
    assert triggers.date_due(trigger, value, today) is expected


def test_the_z_test_matches_a_worked_example() -> None:
    # 120 of 1000 treated converted against 80 of 1000 held out: z = 2.98, p = 0.0029
    z, p = two_proportion_z(120, 1000, 80, 1000) or (0.0, 0.0)
    assert round(z, 2) == 2.98
    assert round(p, 4) == 0.0029
    assert two_proportion_z(0, 10, 0, 10) is None
    assert two_proportion_z(1, 10, 0, 0) is None
