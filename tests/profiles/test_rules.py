"""The pure rules: trait resolution, consent parsing, computed-trait aggregation and filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omni.profiles import computed, consent, traits
from omni.profiles.timeline import decode_cursor, encode_cursor

T0 = datetime(2026, 1, 1, tzinfo=UTC)
PRIORITY = ("crm", "pos", "app", "web", "marketplace")


def _seen(position: int, value: str, source: str, days: int) -> traits.Observation:
    return traits.Observation(position, "name", value, source, T0 + timedelta(days=days))


@pytest.mark.parametrize(
    ("statements", "winner"),
    [
        pytest.param([("a", "web", 1), ("b", "crm", 0)], "b", id="crm-beats-newer-web"),
        pytest.param([("a", "pos:TPE-1", 0), ("b", "pos:KHH-2", 1)], "b", id="same-kind-newest"),
        pytest.param([("a", "marketplace:shopee", 0), ("b", "kiosk", 5)], "a", id="unlisted-ranks-last"),
        pytest.param([("a", "web", 1), ("b", "web", 1)], "b", id="same-time-later-position"),
    ],
)
def test_trait_resolution(statements: list[tuple[str, str, int]], winner: str) -> None:
    observations = [_seen(i, value, source, days) for i, (value, source, days) in enumerate(statements)]
    assert traits.resolve(observations, PRIORITY)["name"].value == winner


@given(st.permutations(range(6)))
def test_trait_resolution_ignores_arrival_order(order: list[int]) -> None:
    statements = [_seen(i, f"v{i}", PRIORITY[i % 5], days=i % 3) for i in range(6)]
    assert traits.resolve([statements[i] for i in order], PRIORITY) == traits.resolve(statements, PRIORITY)


@pytest.mark.parametrize(
    ("event", "properties", "expected"),
    [
        pytest.param("Email Unsubscribed", {}, [("email", "marketing", False)], id="email-unsubscribed"),
        pytest.param("SMS Opted Out", {}, [("sms", "marketing", False)], id="sms-opted-out"),
        pytest.param(
            "Unsubscribed", {"channel": "whatsapp"}, [("whatsapp", "marketing", False)], id="channel-prop"
        ),
        pytest.param(
            "Subscribed",
            {"channel": "In-App", "purpose": "transactional"},
            [("in_app", "transactional", True)],
            id="in-app",
        ),
        pytest.param("Push Opted In", {}, [("push", "marketing", True)], id="push-opted-in"),
        pytest.param("Subscribed", {}, [], id="no-channel"),
        pytest.param("Email Link Clicked", {}, [], id="not-consent"),
        pytest.param("Product Unsubscribed", {"channel": "email"}, [], id="named-thing-is-not-a-channel"),
    ],
)
def test_consent_from_track(
    event: str, properties: dict[str, Any], expected: list[tuple[str, str, bool]]
) -> None:
    found = consent.from_track(event, properties, position=1, decided_at=T0, source="crm")
    assert [(d.channel, d.purpose, d.granted) for d in found] == expected


@pytest.mark.parametrize(
    ("traits_", "expected"),
    [
        pytest.param({"email_opt_in": True}, [("email", True)], id="email_opt_in"),
        pytest.param({"opted_in_email": False}, [("email", False)], id="opted_in_email"),
        pytest.param({"sms_opt_out": "yes"}, [("sms", False)], id="sms_opt_out-text"),
        pytest.param(
            {"line_subscribed": "true", "in_app_opted_in": 1}, [("line", True)], id="number-is-not-a-flag"
        ),
        pytest.param({"in_app_opted_in": True}, [("in_app", True)], id="in_app"),
        pytest.param({"newsletter_opt_in": True, "email": "a@b.co"}, [], id="unknown-channel"),
    ],
)
def test_consent_from_traits(traits_: dict[str, Any], expected: list[tuple[str, bool]]) -> None:
    found = consent.from_traits(traits_, position=1, decided_at=T0, source="crm")
    assert [(d.channel, d.granted) for d in found] == expected


def _inputs(*values: Any) -> list[computed.Input]:
    return [computed.Input(i, T0 + timedelta(hours=i), value) for i, value in enumerate(values)]


@pytest.mark.parametrize(
    ("aggregation", "values", "expected"),
    [
        pytest.param("count", (None, None), 2, id="count"),
        pytest.param("sum", (0.1, 0.2, "1290"), 1290.3, id="sum-decimal"),
        pytest.param("sum", (1000, 250), 1250, id="sum-whole-is-int"),
        pytest.param("avg", (1, 2), 1.5, id="avg"),
        pytest.param("min", (5, "3", 9), 3, id="min"),
        pytest.param("max", (5, 3, 9), 9, id="max"),
        pytest.param("most_frequent", ("a", "b", "b", "a"), "a", id="most-frequent-tie-goes-to-latest"),
        pytest.param("first", ("x", "y"), "x", id="first"),
        pytest.param("last", ("x", "y"), "y", id="last"),
        pytest.param("unique", ("b", "a", "b", 1, True), ["b", "a", 1, True], id="unique-keeps-types"),
        pytest.param("unique_count", ("b", "a", "b"), 2, id="unique-count"),
        pytest.param("sum", (), None, id="sum-of-nothing"),
        pytest.param("unique", (), [], id="unique-of-nothing"),
        pytest.param("count", (), 0, id="count-of-nothing"),
    ],
)
def test_aggregate(aggregation: str, values: tuple[Any, ...], expected: Any) -> None:
    assert computed.aggregate(aggregation, _inputs(*values)) == expected


@pytest.mark.parametrize(
    ("filters", "properties", "counts"),
    [
        pytest.param([("category", "eq", "shoes")], {"category": "shoes"}, True, id="eq"),
        pytest.param([("category", "ne", "shoes")], {"category": "shoes"}, False, id="ne"),
        pytest.param([("revenue", "gte", 100)], {"revenue": "100"}, True, id="gte-text-number"),
        pytest.param([("revenue", "lt", 100)], {"revenue": "lots"}, False, id="lt-not-a-number"),
        pytest.param(
            [("store.city", "in", ["台北市", "新北市"])], {"store": {"city": "台北市"}}, True, id="in-nested"
        ),
        pytest.param([("coupon", "exists", True)], {}, False, id="exists-missing"),
        pytest.param([("coupon", "exists", False)], {}, True, id="not-exists"),
        pytest.param([("coupon", "eq", None)], {}, False, id="missing-never-equals"),
    ],
)
def test_filters(filters: list[tuple[str, str, Any]], properties: dict[str, Any], counts: bool) -> None:
    definition = computed.Definition(
        id=1, aggregation="count", event="Order Completed", property=None, window_days=None,
        filters=tuple(computed.Filter(*f) for f in filters),
    )  # fmt: skip
    assert computed.matches(definition, "Order Completed", properties) is counts


@given(
    st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)),  # noqa: DTZ001 - hypothesis bounds are naive by its API
    st.integers(0, 2**62),
)
def test_cursor_round_trips(occurred_at: datetime, position: int) -> None:
    cursor = decode_cursor(encode_cursor(occurred_at, position))
    assert (cursor.occurred_at, cursor.position) == (occurred_at, position)
