"""Sourcing rules, without a database: pickup store first, fewest splits, proximity, balance, capacity."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omni.orders.errors import CannotSource
from omni.orders.sourcing import Candidate, Need, haversine_km, plan_sourcing

XINYI = Candidate("XINYI", "store", 25.0396, 121.5674, capacity_left=50, capacity=50)
BANQIAO = Candidate("BANQIAO", "store", 25.0137, 121.4637, capacity_left=50, capacity=50)
DC = Candidate("TAOYUAN-DC", "warehouse", 24.9936, 121.2969)
NEAR_XINYI = (25.0400, 121.5680)
NEAR_BANQIAO = (25.0140, 121.4640)


def test_haversine_measures_taipei_to_kaohsiung_as_about_300_km() -> None:
    assert round(haversine_km(25.0330, 121.5654, 22.6273, 120.3014)) == 297


def test_the_nearest_location_with_stock_sends_the_order() -> None:
    stock = {"TEE-M": {"XINYI": 5, "BANQIAO": 5, "TAOYUAN-DC": 5}}
    needs = [Need(1, "TEE-M", 1)]
    assert plan_sourcing(needs, [XINYI, BANQIAO, DC], stock, destination=NEAR_XINYI).locations == {1: "XINYI"}
    assert plan_sourcing(needs, [XINYI, BANQIAO, DC], stock, destination=NEAR_BANQIAO).locations == {
        1: "BANQIAO"
    }


def test_one_location_holding_every_line_beats_a_nearer_split() -> None:
    # given the nearest store holds only one of the two lines
    stock = {"TEE-M": {"XINYI": 3, "TAOYUAN-DC": 3}, "TEE-L": {"XINYI": 0, "TAOYUAN-DC": 3}}
    needs = [Need(1, "TEE-M", 1), Need(2, "TEE-L", 1)]
    # when
    plan = plan_sourcing(needs, [XINYI, DC], stock, destination=NEAR_XINYI)
    # then the warehouse sends both in one parcel
    assert plan.locations == {1: "TAOYUAN-DC", 2: "TAOYUAN-DC"}
    assert plan.explanation["shipments"] == 1
    assert plan.explanation["lines"][0]["reason"].startswith("sends the whole order in one parcel")


def test_when_no_location_holds_everything_the_fewest_locations_are_used() -> None:
    stock = {
        "A": {"XINYI": 1, "BANQIAO": 1, "TAOYUAN-DC": 0},
        "B": {"XINYI": 0, "BANQIAO": 1, "TAOYUAN-DC": 0},
        "C": {"XINYI": 0, "BANQIAO": 0, "TAOYUAN-DC": 1},
    }
    needs = [Need(1, "A", 1), Need(2, "B", 1), Need(3, "C", 1)]
    plan = plan_sourcing(needs, [XINYI, BANQIAO, DC], stock, destination=NEAR_XINYI)
    assert plan.locations == {1: "BANQIAO", 2: "BANQIAO", 3: "TAOYUAN-DC"}
    assert plan.explanation["shipments"] == 2


def test_stock_balance_prefers_deep_stock_over_the_last_pieces_when_distance_is_equal() -> None:
    twin = Candidate("XINYI-2", "store", XINYI.latitude, XINYI.longitude, capacity_left=50, capacity=50)
    stock = {"TEE-M": {"XINYI": 1, "XINYI-2": 20}}
    plan = plan_sourcing([Need(1, "TEE-M", 1)], [XINYI, twin], stock, destination=NEAR_XINYI)
    assert plan.locations == {1: "XINYI-2"}
    scores = {c["location"]: c["scores"] for c in plan.explanation["lines"][0]["candidates"]}
    assert scores["XINYI"]["balance"] == 0.0
    assert scores["XINYI-2"]["balance"] == 0.95


def test_a_store_without_capacity_left_today_is_passed_over() -> None:
    full = Candidate("XINYI", "store", XINYI.latitude, XINYI.longitude, capacity_left=0, capacity=50)
    stock = {"TEE-M": {"XINYI": 9, "TAOYUAN-DC": 9}}
    plan = plan_sourcing([Need(1, "TEE-M", 1)], [full, DC], stock, destination=NEAR_XINYI)
    assert plan.locations == {1: "TAOYUAN-DC"}


def test_the_pickup_store_sends_what_it_holds_and_the_rules_source_the_rest() -> None:
    stock = {"TEE-M": {"XINYI": 2, "BANQIAO": 9, "TAOYUAN-DC": 9}, "TEE-L": {"XINYI": 0, "TAOYUAN-DC": 9}}
    needs = [Need(1, "TEE-M", 1), Need(2, "TEE-L", 1)]
    plan = plan_sourcing(needs, [XINYI, BANQIAO, DC], stock, destination=NEAR_XINYI, preferred="XINYI")
    assert plan.locations == {1: "XINYI", 2: "TAOYUAN-DC"}
    assert plan.explanation["lines"][0]["reason"] == "the pickup store holds it"
    assert plan.explanation["rules"][0] == "pickup store first"


def test_no_location_with_enough_stock_is_a_409_with_the_quantity_available() -> None:
    stock = {"TEE-M": {"XINYI": 2, "TAOYUAN-DC": 1}}
    with pytest.raises(CannotSource) as refused:
        plan_sourcing([Need(1, "TEE-M", 3)], [XINYI, DC], stock)
    assert refused.value.status_code == 409
    assert refused.value.details[0]["available"] == 2
    assert refused.value.details[0]["available_by_location"] == {"XINYI": 2, "TAOYUAN-DC": 1}


def test_the_explanation_lists_every_candidate_with_distance_stock_and_scores() -> None:
    stock = {"TEE-M": {"XINYI": 5, "TAOYUAN-DC": 5}}
    plan = plan_sourcing([Need(1, "TEE-M", 1)], [XINYI, DC], stock, destination=NEAR_XINYI)
    (line,) = plan.explanation["lines"]
    assert [(c["location"], c["available"]) for c in line["candidates"]] == [("XINYI", 5), ("TAOYUAN-DC", 5)]
    assert line["candidates"][0]["distance_km"] == 0.1
    assert line["candidates"][1]["distance_km"] == 27.8
    assert line["chosen"] == "XINYI"


@given(
    stock=st.lists(st.lists(st.integers(0, 4), min_size=3, max_size=3), min_size=1, max_size=4),
    quantities=st.lists(st.integers(1, 3), min_size=1, max_size=4),
)
def test_every_line_goes_to_a_location_that_holds_it_or_sourcing_is_refused(
    stock: list[list[int]], quantities: list[int]
) -> None:
    candidates = [XINYI, BANQIAO, DC]
    skus = [f"S{i}" for i in range(len(stock))]
    available = {
        sku: {c.code: row[i] for i, c in enumerate(candidates)} for sku, row in zip(skus, stock, strict=True)
    }
    needs = [Need(i + 1, skus[i % len(skus)], q) for i, q in enumerate(quantities)]
    coverable = all(any(available[n.sku][c.code] >= n.quantity for c in candidates) for n in needs)
    try:
        plan = plan_sourcing(needs, candidates, available, destination=NEAR_XINYI)
    except CannotSource:
        assert not coverable
        return
    assert coverable
    for need in needs:
        assert available[need.sku][plan.locations[need.line_no]] >= need.quantity
    # fewest splits: never more locations than lines, and one location whenever one could send everything
    if any(all(available[n.sku][c.code] >= n.quantity for n in needs) for c in candidates):
        assert len(set(plan.locations.values())) == 1
