"""One definition, the same members: on SQLite, on PostgreSQL, and on DuckDB over the exported tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from omni.segments import compile as c
from omni.segments import membership, offline, predefined, repository, service
from tests.segments.builders import NOW, ingest, make_segment, person, shop, track

SHOES = {"property": "category", "op": "eq", "value": "鞋"}
CASES: list[tuple[str, dict[str, Any], set[str]]] = [
    (
        "shoe_viewers_3_in_7_days_no_order",
        {
            "all": [
                {"event": "Product Viewed", "min_times": 3, "within_days": 7, "where": [SHOES]},
                {"not": {"event": "Order Completed"}},
            ]
        },
        {"ann"},
    ),
    ("viewed_at_most_2_times", {"event": "Product Viewed", "min_times": 1, "max_times": 2}, {"bob"}),
    ("never_viewed", {"event": "Product Viewed", "performed": False}, {"cai", "eve"}),
    ("trait_city_in", {"trait": "city", "op": "in", "value": ["台北市", "高雄市"]}, {"ann", "bob", "dan"}),
    ("trait_number_gt", {"trait": "age", "op": "gt", "value": 40}, {"bob"}),
    ("trait_exists", {"trait": "phone", "op": "exists"}, {"cai", "dan"}),
    ("crm_city_wins_over_web", {"trait": "city", "value": "台中市"}, {"eve"}),
    ("no_orders_count_eq_0", {"orders": "count", "op": "eq", "value": 0}, {"ann", "eve"}),
    ("repeat_buyers", {"orders": "count", "op": "gte", "value": 2}, {"bob"}),
    ("revenue_3500_or_more", {"orders": "revenue", "op": "gte", "value": 350_000}, {"bob", "cai"}),
    ("store_orders", {"orders": "count", "op": "gte", "value": 1, "store": "TPE-XINYI"}, {"bob", "cai"}),
    ("shoe_orders", {"orders": "count", "op": "gte", "value": 1, "category": "鞋"}, {"bob"}),
    (
        "app_orders_in_30_days",
        {"orders": "count", "op": "gte", "value": 1, "channel": "app", "within_days": 30},
        {"dan"},
    ),
    ("ordered_in_last_30_days", {"orders": "last_days", "op": "lte", "value": 30}, {"bob", "dan"}),
    ("lapsed_90_days", {"orders": "last_days", "op": "gte", "value": 90}, {"cai"}),
    ("omnichannel", {"orders": "channels", "op": "gte", "value": 2}, {"bob"}),
    ("top_third_by_revenue", {"orders": "revenue_top_percent", "op": "lte", "value": 34}, {"cai"}),
    ("rfm_recent_frequent", {"rfm": {"r": [4, 5], "f": [4, 5]}}, {"bob"}),
    ("email_granted", {"consent": "email", "status": "granted"}, {"ann"}),
    ("email_denied", {"consent": "email", "status": "denied"}, {"eve"}),
    ("sms_unknown", {"consent": "sms", "status": "unknown"}, {"ann", "bob", "dan", "eve"}),
    ("reachable_by_email", {"reachable": "email"}, {"ann"}),
    (
        "any_or_not",
        {"any": [{"trait": "city", "value": "高雄市"}, {"not": {"trait": "city", "op": "exists"}}]},
        {"cai", "dan"},
    ),
]


def _names(session: Session, ids: set[int]) -> set[str]:
    names = {person(session, name): name for name in ("ann", "bob", "cai", "dan", "eve")}
    return {names[i] for i in ids}


@pytest.mark.parametrize(
    ("definition", "expected"), [(d, e) for _, d, e in CASES], ids=[i for i, _, _ in CASES]
)
def test_a_definition_selects_the_same_members_on_the_store_and_on_duckdb(
    session: Session, tmp_path: Path, definition: dict[str, Any], expected: set[str]
) -> None:
    # given the shop's five customers, exported as Parquet
    shop(session)
    tree = service.check(session, definition)
    ctx = service.context(session, now=NOW)
    offline.export_tables(session, tmp_path)
    # when the one expression runs on the operational store and on DuckDB
    on_store = repository.profile_ids(session, ctx, c.members(ctx, tree))
    with offline.duckdb_over(tmp_path) as duck:
        duck_ctx = c.Context(engine="duckdb", now=NOW, priority=ctx.priority, computed=ctx.computed)
        on_duckdb = offline.profile_ids(duck, duck_ctx, lambda k: c.members(k, tree))
    # then both engines select exactly the expected people
    assert _names(session, on_store) == expected
    assert on_duckdb == on_store


def test_tags_and_segment_membership_are_conditions_on_every_engine(session: Session, tmp_path: Path) -> None:
    # given ann and dan tagged, and a recomputed segment of Taipei people
    shop(session)
    service.add_tag(session, person(session, "ann"), "團購主", by="test")
    service.add_tag(session, person(session, "dan"), "團購主", by="test")
    taipei = make_segment(session, "taipei", {"trait": "city", "value": "台北市"})
    membership.recompute(session, taipei, now=NOW)
    definition = {"all": [{"tag": "團購主"}, {"segment": "taipei"}]}
    tree = service.check(session, definition)
    ctx = service.context(session, now=NOW)
    offline.export_tables(session, tmp_path)
    # when
    on_store = repository.profile_ids(session, ctx, c.members(ctx, tree))
    with offline.duckdb_over(tmp_path) as duck:
        duck_ctx = c.Context(engine="duckdb", now=NOW, priority=ctx.priority, segment_ids=ctx.segment_ids)
        on_duckdb = offline.profile_ids(duck, duck_ctx, lambda k: c.members(k, tree))
    # then only ann is tagged and in Taipei, on both
    assert _names(session, on_store) == {"ann"}
    assert on_duckdb == on_store


@pytest.mark.parametrize("key", [key for key, *_ in predefined.PREDEFINED])
def test_evaluating_a_few_people_agrees_with_evaluating_everyone(session: Session, key: str) -> None:
    # given the shop and a predefined definition (ranks and windows included)
    shop(session)
    definition = next(defn for k, _, _, defn in predefined.PREDEFINED if k == key)
    tree = service.check(session, definition)
    full = service.context(session, now=NOW)
    everyone = repository.profile_ids(session, full, c.members(full, tree))
    # when each person is evaluated alone, as the incremental consumer does
    alone = set()
    for name in ("ann", "bob", "cai", "dan", "eve"):
        ctx = service.context(session, now=NOW, profiles=[person(session, name)])
        alone |= repository.profile_ids(session, ctx, c.members(ctx, tree))
    # then the members are the same
    assert alone == everyone


def test_an_event_earlier_in_the_same_second_as_now_counts_on_every_engine(
    session: Session, tmp_path: Path
) -> None:
    # given bob's third shoe view, 250 ms into the second in which the segment is evaluated
    shop(session)
    ingest(
        session,
        track(
            "bob-fresh-view",
            "Product Viewed",
            user_id="bob",
            properties={"category": "鞋", "sku": "SH-1"},
            when=NOW.replace(microsecond=250_000),
        ),
    )
    definition = {"event": "Product Viewed", "min_times": 3, "within_days": 7, "where": [SHOES]}
    tree = service.check(session, definition)
    now = NOW.replace(microsecond=500_000)
    ctx = service.context(session, now=now)
    offline.export_tables(session, tmp_path)
    # when it is evaluated at that moment, as the consumer does right after the event is logged
    on_store = repository.profile_ids(session, ctx, c.members(ctx, tree))
    with offline.duckdb_over(tmp_path) as duck:
        duck_ctx = c.Context(engine="duckdb", now=now, priority=ctx.priority)
        on_duckdb = offline.profile_ids(duck, duck_ctx, lambda k: c.members(k, tree))
    # then bob's third view counts, on the store and on DuckDB
    assert _names(session, on_store) == {"ann", "bob"}
    assert on_duckdb == on_store
