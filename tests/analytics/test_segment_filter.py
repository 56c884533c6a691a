"""The segment filter and the funnel's breakdown by segment, on the small shop, on SQLite and PostgreSQL."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from omni.analytics import service
from omni.analytics.schemas import AnalyticsFilters
from omni.kit.errors import ValidationFailed
from omni.segments import membership as segments_membership
from omni.segments import service as segments_service
from omni.segments.schemas import SegmentCreate
from tests.analytics.builders import make_shop
from tests.profiles.builders import NOW

TAIPEI = ZoneInfo("Asia/Taipei")
STEPS = "Product Viewed,Product Added,Order Completed"


def tagged_segment(session: Session, key: str, people: list[int]) -> int:
    """A segment of the people tagged with its key, computed so they are its current members."""
    segment = segments_service.create(
        session, SegmentCreate(key=key, name=key, description="", definition={"tag": key}), by="test"
    )
    for person in people:
        segments_service.add_tag(session, person, key, by="test")
    segments_membership.recompute(session, segment.id)
    return segment.id


def test_funnel_counts_only_the_segments_members(session: Session) -> None:
    # given the shop and a segment of u1 (who buys) and u2 (who adds but never buys)
    people = make_shop(session)
    vip = tagged_segment(session, "vip", [people["u1"], people["u2"]])
    # when the funnel is read for the segment, by key and by id
    reads = [
        service.funnel(
            session,
            AnalyticsFilters(segment=segment),
            steps=STEPS,
            window_hours=168,
            repeat=False,
            breakdown=None,
            zone=TAIPEI,
        )
        for segment in ("vip", str(vip))
    ]
    # then u3, who only viewed, is left out: both viewed and added, one bought
    for read in reads:
        assert [(s.people, s.dropped, s.conversion) for s in read.steps] == [
            (2, 0, 1.0),
            (2, 0, 1.0),
            (1, 1, 0.5),
        ]
    dropped = service.funnel_dropped(
        session, AnalyticsFilters(segment="vip"), steps=STEPS, window_hours=168, step=2, zone=TAIPEI
    )
    assert dropped.profile_ids == []


def test_funnel_broken_down_by_segment_counts_a_person_in_each_of_theirs(session: Session) -> None:
    # given u1 and u2 in vip, u2 also in app_fans, u3 in none
    people = make_shop(session)
    tagged_segment(session, "vip", [people["u1"], people["u2"]])
    tagged_segment(session, "app_fans", [people["u2"]])
    # when the funnel is broken down by segment
    read = service.funnel(
        session,
        AnalyticsFilters(),
        steps=STEPS,
        window_hours=168,
        repeat=False,
        breakdown="segment",
        zone=TAIPEI,
    )
    # then everyone counts once overall, and each person once per segment they are in
    assert read.rows == [
        ["all", 1, "Product Viewed", 3, 1.0, 0, 0.0],
        ["all", 2, "Product Added", 2, 0.6667, 1, 3600.0],
        ["all", 3, "Order Completed", 1, 0.3333, 1, 7200.0],
        ["app_fans", 1, "Product Viewed", 1, 1.0, 0, 0.0],
        ["app_fans", 2, "Product Added", 1, 1.0, 0, 3600.0],
        ["app_fans", 3, "Order Completed", 0, 0.0, 1, None],
        ["vip", 1, "Product Viewed", 2, 1.0, 0, 0.0],
        ["vip", 2, "Product Added", 2, 1.0, 0, 3600.0],
        ["vip", 3, "Order Completed", 1, 0.5, 1, 7200.0],
        ["—", 1, "Product Viewed", 1, 1.0, 0, 0.0],
        ["—", 2, "Product Added", 0, 0.0, 1, None],
        ["—", 3, "Order Completed", 0, 0.0, 0, None],
    ]


def test_retention_omnichannel_and_reachability_of_a_segment(session: Session) -> None:
    # given a segment of u1 (bought on the web, then in a store) and u2 (never bought)
    people = make_shop(session)
    tagged_segment(session, "vip", [people["u1"], people["u2"]])
    vip = AnalyticsFilters(segment="vip")
    # when the customer analyses are read for the segment
    by_month = service.retention_cohorts(session, vip, by="month", months=2, zone=TAIPEI)
    by_channel = service.retention_cohorts(session, vip, by="channel", months=2, zone=TAIPEI)
    both = service.omnichannel_customers(session, vip, zone=TAIPEI, currency="TWD", now=NOW)
    reach = service.channel_reachability(session, vip, zone=TAIPEI)
    # then u4's store purchase no longer counts anywhere
    assert by_month.rows == [["2025-11", 1, 1, 1, 0]]
    assert by_channel.rows == [["web", 1, 1, 1, 0]]
    assert both.rows == [
        ["omnichannel", 1, 2, 300000, 300000, 2.0, 1, 1, 1.0],
        ["single_channel", 0, 0, 0, 0, 0.0, 0, 0, 0.0],
    ]
    assert [row[:6] for row in reach.rows] == [
        ["email", 2, 1, 0, 0, 1],
        ["sms", 2, 0, 0, 1, 1],
        ["whatsapp", 2, 0, 1, 0, 1],
        ["push", 2, 0, 0, 0, 2],
    ]


def test_segment_filter_with_other_filters_and_event_analyses(session: Session) -> None:
    # given a segment of u1 and u4, who both bought in a store
    people = make_shop(session)
    tagged_segment(session, "store_buyers", [people["u1"], people["u4"]])
    in_xinyi = AnalyticsFilters(segment="store_buyers", store="TPE-XINYI")
    # then the store narrows the segment's orders, and paths follow the members' purchases only
    top = service.top_sellers(session, in_xinyi, by="product", limit=10, zone=TAIPEI, currency="TWD")
    baskets = service.channel_baskets(
        session, AnalyticsFilters(segment="store_buyers"), zone=TAIPEI, currency="TWD"
    )
    assert top.rows == [["P2", "上衣", 2, 100000, 1]]
    assert baskets.rows == [["pos", 2, 130000, 65000, 3, 1.5], ["web", 1, 200000, 200000, 1, 1.0]]
    empty = tagged_segment(session, "nobody", [])
    assert service.channel_paths(
        session, AnalyticsFilters(segment=str(empty)), lookback_days=30, max_steps=4, limit=10, zone=TAIPEI
    ).empty


def test_an_unknown_segment_is_refused_naming_the_field(session: Session) -> None:
    make_shop(session)
    with pytest.raises(ValidationFailed) as refused:
        service.purchase_heatmap(session, AnalyticsFilters(segment="no_such_segment"), zone=TAIPEI)
    assert refused.value.details == [{"field": "segment", "rule": "must be an existing segment's key or id"}]
