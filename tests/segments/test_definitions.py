"""Definitions are checked when saved: every rule broken is named with the JSON path of its condition."""

from __future__ import annotations

from typing import Any

import pytest

from omni.segments import definitions as d
from omni.segments.errors import DefinitionInvalid

VOCABULARY = d.Vocabulary(
    traits={"city", "age"},
    events={"Product Viewed", "Order Completed"},
    computed_traits={"orders_90d"},
    segments={"a", "b", "c"},
    segment_refs={"a": {"b"}, "b": {"c"}, "c": set()},
)
VIEWED = {"event": "Product Viewed"}


@pytest.mark.parametrize(
    ("definition", "path", "rule"),
    [
        ({"trait": "shoe_size", "value": 42}, "$.trait", "a known trait; 'shoe_size' is not one"),
        (
            {"all": [VIEWED, {"event": "Prodcut Viewed"}]},
            "$.all[1].event",
            "a known event; 'Prodcut Viewed' is not one",
        ),
        (
            {"computed_trait": "ltv", "op": "gt", "value": 1},
            "$.computed_trait",
            "a known computed trait; 'ltv' is not one",
        ),
        (
            {
                "any": [
                    {
                        "event": "Product Viewed",
                        "where": [{"property": "price", "op": "gt", "value": "cheap"}],
                    }
                ]
            },
            "$.any[0].where[0].value",
            "a number for op gt",
        ),
        (
            {"event": "Product Viewed", "where": [{"property": "x", "value": {"nested": 1}}]},
            "$.where[0].value",
            "a text, number or boolean",
        ),
        (
            {"event": "Product Viewed", "where": [{"property": 'a"b', "value": 1}]},
            "$.where[0].property",
            "a property name or dotted path (letters, digits, _ - space)",
        ),
        (
            {"trait": "city", "op": "like", "value": "台"},
            "$.op",
            "one of eq, ne, gt, gte, lt, lte, in, exists",
        ),
        ({"event": "Product Viewed", "within_days": 0}, "$.within_days", "a whole number from 1 to 3650"),
        ({"event": "Product Viewed", "within_days": 99999}, "$.within_days", "a whole number from 1 to 3650"),
        (
            {"event": "Product Viewed", "min_times": 5, "max_times": 2},
            "$.max_times",
            "not below min_times (5)",
        ),
        (
            {"orders": "last_days", "op": "lte", "value": 30, "within_days": 7},
            "$.within_days",
            "no window: last_days already counts days back",
        ),
        (
            {"orders": "revenue_top_percent", "op": "gte", "value": 5},
            "$.value",
            "op lte and a percentage above 0 and at most 100",
        ),
        ({"rfm": {"r": [5, 1]}}, "$.rfm.r", "a score range [low, high] within 1..5, low not above high"),
        ({"consent": "fax"}, "$.consent", "one of email, sms, whatsapp, line, push, in_app"),
        (
            {"not": {"shoe": 1}},
            "$.not",
            "a condition with one of: all, any, not, trait, computed_trait, tag, event, "
            "orders, rfm, consent, reachable, segment",
        ),
        ({"all": []}, "$.all", "a non-empty list of conditions"),
        ({"segment": "zzz"}, "$.segment", "a known segment; 'zzz' is not one"),
    ],
    ids=[
        "unknown-trait",
        "unknown-event",
        "unknown-computed",
        "property-type",
        "property-object",
        "property-name",
        "unknown-op",
        "empty-window",
        "window-too-long",
        "max-below-min",
        "window-on-recency",
        "top-percent-op",
        "rfm-range",
        "consent-channel",
        "unknown-condition",
        "empty-group",
        "unknown-segment",
    ],
)
def test_a_bad_definition_is_rejected_with_the_path_and_the_rule(
    definition: dict[str, Any], path: str, rule: str
) -> None:
    with pytest.raises(DefinitionInvalid) as raised:
        d.parse(definition, VOCABULARY)
    assert raised.value.details == [{"field": path, "rule": rule}]
    assert raised.value.status_code == 422


def test_a_cycle_through_other_segments_is_rejected_at_the_condition_that_closes_it() -> None:
    # given a refers to b and b to c: c may not refer to a
    with pytest.raises(DefinitionInvalid) as raised:
        d.parse({"all": [VIEWED, {"segment": "a"}]}, VOCABULARY, own_key="c")
    assert raised.value.details == [
        {"field": "$.all[1].segment", "rule": "no cycle between segments; c -> a -> b -> c leads back"}
    ]


def test_a_segment_may_not_contain_itself() -> None:
    with pytest.raises(DefinitionInvalid) as raised:
        d.parse({"not": {"segment": "b"}}, VOCABULARY, own_key="b")
    assert raised.value.details[0]["field"] == "$.not.segment"


def test_a_good_definition_reads_into_typed_conditions() -> None:
    tree = d.parse(
        {
            "all": [
                {
                    "event": "Product Viewed",
                    "min_times": 3,
                    "within_days": 7,
                    "where": [{"property": "category", "value": "鞋"}],
                },
                {"not": {"event": "Order Completed"}},
                {"segment": "a"},
            ]
        },
        VOCABULARY,
        own_key="new",
    )
    assert isinstance(tree, d.All)
    viewed = tree.conditions[0]
    assert viewed == d.Event(
        event="Product Viewed",
        performed=True,
        min_times=3,
        max_times=None,
        within_days=7,
        channel=None,
        where=(d.PropertyFilter("category", d.Compare("eq", "鞋")),),
        path="$.all[0]",
    )
    assert d.referenced_segments(tree) == {"a"}
