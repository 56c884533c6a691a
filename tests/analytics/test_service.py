"""Every analysis on a small hand-built shop, with exact answers, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from omni.analytics import service
from omni.analytics.schemas import AnalyticsFilters
from tests.analytics.builders import make_shop
from tests.profiles.builders import NOW, at, ingest, track

TAIPEI = ZoneInfo("Asia/Taipei")
EVERYTHING = AnalyticsFilters()
STEPS = "Product Viewed,Product Added,Order Completed"


def test_funnel_counts_people_per_step_with_drop_off_and_breakdown(session: Session) -> None:
    # given the shop
    make_shop(session)
    # when the view-add-buy funnel is broken down by channel
    read = service.funnel(
        session, EVERYTHING, steps=STEPS, window_hours=168, repeat=False, breakdown="channel", zone=TAIPEI
    )
    # then three people viewed, two added, one bought; per channel of the first view
    assert [(s.people, s.dropped, s.conversion) for s in read.steps] == [
        (3, 0, 1.0),
        (2, 1, 0.6667),
        (1, 1, 0.3333),
    ]
    assert read.rows == [
        ["all", 1, "Product Viewed", 3, 1.0, 0, 0.0],
        ["all", 2, "Product Added", 2, 0.6667, 1, 3600.0],
        ["all", 3, "Order Completed", 1, 0.3333, 1, 7200.0],
        ["app", 1, "Product Viewed", 1, 1.0, 0, 0.0],
        ["app", 2, "Product Added", 1, 1.0, 0, 3600.0],
        ["app", 3, "Order Completed", 0, 0.0, 1, None],
        ["web", 1, "Product Viewed", 2, 1.0, 0, 0.0],
        ["web", 2, "Product Added", 1, 0.5, 1, 3600.0],
        ["web", 3, "Order Completed", 1, 0.5, 0, 7200.0],
    ]


def test_who_dropped_at_a_step_are_listed_by_profile(session: Session) -> None:
    people = make_shop(session)
    before_add = service.funnel_dropped(
        session, EVERYTHING, steps=STEPS, window_hours=168, step=2, zone=TAIPEI
    )
    before_buy = service.funnel_dropped(
        session, EVERYTHING, steps=STEPS, window_hours=168, step=3, zone=TAIPEI
    )
    assert (before_add.event, before_add.profile_ids) == ("Product Added", [people["u3"]])
    assert (before_buy.event, before_buy.profile_ids) == ("Order Completed", [people["u2"]])


def test_funnel_filters_narrow_the_events_counted(session: Session) -> None:
    make_shop(session)
    # the local day of u3's view only, then the app channel only
    day = at(100).astimezone(TAIPEI).date()
    one_day = AnalyticsFilters(since=day, until=day)
    on_app = AnalyticsFilters(channel="app")
    shoes = '[{"event": "Product Viewed", "where": {"category": "鞋"}}, "Product Added"]'
    counted = [
        [
            s.people
            for s in service.funnel(
                session, f, steps=steps, window_hours=168, repeat=False, breakdown=None, zone=TAIPEI
            ).steps
        ]
        for f, steps in ((one_day, STEPS), (on_app, STEPS), (EVERYTHING, shoes))
    ]
    assert counted == [[1, 0, 0], [2, 1, 0], [2, 2]]


def test_retention_cohorts_by_first_purchase_month_and_channel(session: Session) -> None:
    make_shop(session)
    by_month = service.retention_cohorts(session, EVERYTHING, by="month", months=2, zone=TAIPEI)
    by_channel = service.retention_cohorts(session, EVERYTHING, by="channel", months=2, zone=TAIPEI)
    assert by_month.columns == ["cohort", "customers", "month_0", "month_1", "month_2"]
    assert by_month.rows == [["2025-11", 2, 2, 1, 0]]
    assert by_channel.rows == [["pos", 1, 1, 0, 0], ["web", 1, 1, 1, 0]]


def test_top_products_and_categories_by_revenue_and_store(session: Session) -> None:
    make_shop(session)
    products = service.top_sellers(session, EVERYTHING, by="product", limit=10, zone=TAIPEI, currency="TWD")
    categories = service.top_sellers(session, EVERYTHING, by="category", limit=1, zone=TAIPEI, currency="TWD")
    daan = service.top_sellers(
        session, AnalyticsFilters(store="TPE-DAAN"), by="product", limit=10, zone=TAIPEI, currency="TWD"
    )
    assert products.rows == [["P1", "球鞋", 1, 200000, 1], ["P2", "上衣", 3, 130000, 2]]
    assert categories.rows == [["鞋", "鞋", 1, 200000, 1]]
    assert daan.rows == [["P2", "上衣", 1, 30000, 1]]


def test_orders_by_local_weekday_and_hour(session: Session) -> None:
    make_shop(session)
    read = service.purchase_heatmap(session, EVERYTHING, zone=TAIPEI)
    # every order was at 12:00 UTC, 20:00 in Taipei: a Thursday, a Tuesday and a Sunday
    assert len(read.rows) == 7 * 24
    assert [row for row in read.rows if row[2]] == [["tue", 20, 1], ["thu", 20, 1], ["sun", 20, 1]]


def test_average_order_value_and_basket_size_by_channel(session: Session) -> None:
    make_shop(session)
    read = service.channel_baskets(session, EVERYTHING, zone=TAIPEI, currency="TWD")
    on_pos = service.channel_baskets(session, AnalyticsFilters(channel="pos"), zone=TAIPEI, currency="TWD")
    assert read.rows == [["pos", 2, 130000, 65000, 3, 1.5], ["web", 1, 200000, 200000, 1, 1.0]]
    assert on_pos.rows == [["pos", 2, 130000, 65000, 3, 1.5]]


def test_reachability_per_channel_from_identifiers_and_consent(session: Session) -> None:
    make_shop(session)
    read = service.channel_reachability(session, EVERYTHING, zone=TAIPEI)
    assert read.rows == [
        ["email", 4, 1, 1, 0, 2, 0.25, 0.0],
        ["sms", 4, 0, 0, 1, 3, 0.0, 0.25],
        ["whatsapp", 4, 0, 1, 0, 3, 0.0, 0.0],
        ["push", 4, 0, 0, 0, 4, 0.0, 0.0],
    ]


def test_reachability_of_the_people_active_on_a_channel(session: Session) -> None:
    make_shop(session)
    read = service.channel_reachability(session, AnalyticsFilters(channel="app"), zone=TAIPEI)
    # u1 (email, opted in) and u2 (phone, opted out of SMS) were on the app
    assert [row[:6] for row in read.rows] == [
        ["email", 2, 1, 0, 0, 1],
        ["sms", 2, 0, 0, 1, 1],
        ["whatsapp", 2, 0, 1, 0, 1],
        ["push", 2, 0, 0, 0, 2],
    ]


def test_message_frequency_is_empty_until_messages_are_logged(session: Session) -> None:
    make_shop(session)
    assert service.message_frequency(session, EVERYTHING, zone=TAIPEI).empty is True
    # given two emails and an open in u3's week, and one email to u2 reported both sent and delivered
    ingest(
        session,
        track("m1", "Email Sent", when=at(10), user_id="u3"),
        track("m2", "Email Sent", when=at(10, hours=1), user_id="u3"),
        track("m3", "Email Opened", when=at(10, hours=-1), user_id="u3"),
        track("m4", "Email Sent", when=at(10), user_id="u2"),
        track("m5", "Email Delivered", when=at(10), user_id="u2"),
        source="email",
    )
    read = service.message_frequency(session, EVERYTHING, zone=TAIPEI)
    assert (read.empty, read.rows) == (False, [["1", 1, 0, 0.0], ["2", 1, 1, 1.0]])


def test_channel_paths_before_purchases(session: Session) -> None:
    make_shop(session)
    read = service.channel_paths(session, EVERYTHING, lookback_days=30, max_steps=4, limit=10, zone=TAIPEI)
    in_store = service.channel_paths(
        session, AnalyticsFilters(store="TPE-XINYI"), lookback_days=30, max_steps=4, limit=10, zone=TAIPEI
    )
    assert read.rows == [["app > purchase:pos", 1], ["purchase:pos", 1], ["web > purchase:web", 1]]
    assert [n.name for n in read.nodes] == ["1·app", "1·web", "purchase:pos", "purchase:web"]
    assert [(link.source, link.target, link.value) for link in read.links] == [
        ("1·app", "purchase:pos", 1),
        ("1·web", "purchase:web", 1),
    ]
    assert in_store.rows == [["app > purchase:pos", 1]]


def test_omnichannel_against_single_channel_customers(session: Session) -> None:
    make_shop(session)
    read = service.omnichannel_customers(session, EVERYTHING, zone=TAIPEI, currency="TWD", now=NOW)
    assert read.rows == [
        ["omnichannel", 1, 2, 300000, 300000, 2.0, 1, 1, 1.0],
        ["single_channel", 1, 1, 30000, 30000, 1.0, 1, 0, 0.0],
    ]
    # until a day before u1's store order, u1 has bought on the web only
    until = at(161).astimezone(TAIPEI).date()
    early = service.omnichannel_customers(
        session, AnalyticsFilters(until=until), zone=TAIPEI, currency="TWD", now=NOW
    )
    assert [row[:4] for row in early.rows] == [["omnichannel", 0, 0, 0], ["single_channel", 2, 2, 230000]]


def test_analyses_of_an_empty_shop_are_empty(session: Session) -> None:
    reads = [
        service.funnel(
            session, EVERYTHING, steps=STEPS, window_hours=24, repeat=True, breakdown=None, zone=TAIPEI
        ),
        service.retention_cohorts(session, EVERYTHING, by="month", months=3, zone=TAIPEI),
        service.purchase_heatmap(session, EVERYTHING, zone=TAIPEI),
        service.channel_paths(session, EVERYTHING, lookback_days=30, max_steps=4, limit=10, zone=TAIPEI),
        service.omnichannel_customers(
            session, AnalyticsFilters(since=date(2026, 1, 1)), zone=TAIPEI, currency="TWD"
        ),
    ]
    assert [read.empty for read in reads] == [True, True, True, True, True]
