from __future__ import annotations

import hashlib
import json
import re
import statistics
import uuid
from collections import Counter
from datetime import date, datetime, timedelta

from omni.demo.simulate import simulate, window
from omni.demo.touchpoints import MESSAGE_NAMESPACE
from omni.demo.truth import retailer_date
from omni.demo.world import build_world
from omni.events.spec import SpecMessage
from tests.demo.simulated import by_person, events

ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
LINE_KEYS = {"product_id", "sku", "name", "category", "brand", "price", "price_minor", "quantity"}
CART_EVENTS = ("Product Added", "Checkout Started")


def _digest(customers: int, seed: int) -> str:
    digest = hashlib.sha256()
    for event in simulate(customers=customers, seed=seed):
        digest.update(json.dumps(event, sort_keys=True, ensure_ascii=False).encode())
    return digest.hexdigest()


def test_the_same_seed_gives_the_same_stream_and_another_seed_another() -> None:
    assert _digest(60, 7) == _digest(60, 7)
    assert _digest(60, 7) != _digest(60, 8)


def test_a_run_for_fewer_customers_is_a_prefix_of_a_run_for_more() -> None:
    fewer = list(simulate(customers=40, seed=3))
    more = list(simulate(customers=70, seed=3))
    assert more[: len(fewer)] == fewer
    assert len(more) > len(fewer)
    assert {e["truth_person_id"] for e in more[len(fewer) :]} == {f"P{i:07d}" for i in range(41, 71)}


def test_the_stream_is_lazy_even_for_a_million_customers() -> None:
    first = next(iter(simulate(customers=1_000_000)))
    assert first["truth_person_id"] == "P0000001"


def test_every_event_is_a_valid_segment_message_with_an_identity_and_unique_id() -> None:
    stream = events(300)
    for event in stream:
        SpecMessage.model_validate(event)
        assert event.get("userId") or event.get("anonymousId")
        assert ISO_UTC.match(event["timestamp"])
        assert event["channel"] == event["context"]["channel"]
        assert event["source"] == event["context"]["source"]
    ids = [event["messageId"] for event in stream]
    assert len(set(ids)) == len(ids)
    first_person = [e["messageId"] for e in stream if e["truth_person_id"] == "P0000001"]
    assert set(first_person) == {
        str(uuid.uuid5(MESSAGE_NAMESPACE, f"7/0/{n}")) for n in range(len(first_person))
    }


def test_each_persons_events_are_together_in_time_order_within_the_window() -> None:
    stream = events(300)
    order = [e["truth_person_id"] for e in stream]
    changes = sum(1 for a, b in zip(order, order[1:], strict=False) if a != b)
    assert changes == 299
    start, end = window(date(2026, 11, 1), 12)
    for person_events in by_person(stream).values():
        stamps = [e["timestamp"] for e in person_events]
        assert stamps == sorted(stamps)
        assert start <= retailer_date(stamps[0])
        assert retailer_date(stamps[-1]) < end
        assert "truth_person" in person_events[0]
        assert not any("truth_person" in e for e in person_events[1:])


def test_products_and_orders_follow_the_ecommerce_spec_in_twd() -> None:
    orders = 0
    for event in events(300):
        properties = event.get("properties", {})
        name = event.get("event")
        if name in CART_EVENTS:
            assert properties["cart_id"]
        if "products" in properties:
            for line in properties["products"]:
                assert set(line) >= LINE_KEYS
                assert line["price"] == line["price_minor"] / 100
        if name == "Order Completed":
            orders += 1
            assert properties["currency"] == "TWD"
            assert properties["revenue"] == properties["revenue_minor"] / 100
            subtotal = sum(line["price_minor"] * line["quantity"] for line in properties["products"])
            assert properties["revenue_minor"] == subtotal - properties["discount_minor"]
            assert properties["total_minor"] == properties["revenue_minor"] + int(
                properties["shipping"] * 100
            )
            assert ("cart_id" in properties) == (event["channel"] in ("web", "app"))
    assert orders > 500


def test_online_orders_complete_a_cart_that_products_were_added_to() -> None:
    for person_events in by_person(events(300)).values():
        added: set[str] = set()
        for event in person_events:
            properties = event.get("properties", {})
            if event.get("event") == "Product Added":
                added.add(properties["cart_id"])
            elif event.get("event") == "Order Completed" and "cart_id" in properties:
                assert properties["cart_id"] in added


def test_click_and_collect_orders_are_ready_then_picked_up_at_the_pickup_store() -> None:
    picked = 0
    for person_events in by_person(events(600)).values():
        collect = {}
        ready = set()
        for event in person_events:
            properties = event.get("properties", {})
            name = event.get("event")
            if name == "Order Completed" and properties["fulfilment"] == "click_and_collect":
                collect[properties["order_id"]] = properties["pickup_store"]
            elif name == "Order Ready For Pickup":
                assert collect[properties["order_id"]] == properties["store_code"]
                assert event["source"] == f"pos:{properties['store_code']}"
                ready.add(properties["order_id"])
            elif name == "Order Picked Up":
                assert properties["order_id"] in ready
                picked += 1
    assert picked > 20


def test_store_purchases_happen_within_opening_hours() -> None:
    world = build_world(7)
    weekdays = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    checked = 0
    for event in events(300):
        if event["channel"] == "pos" and event.get("event") in ("Order Completed", "Order Picked Up"):
            local = datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00")) + timedelta(hours=8)
            spans = world.store(event["context"]["store_code"]).opening_hours[weekdays[local.weekday()]]
            assert any(opens <= f"{local:%H:%M}" < closes for opens, closes in spans)
            checked += 1
    assert checked > 200


def test_double_eleven_orders_are_several_times_an_ordinary_november_day() -> None:
    per_day = Counter(
        retailer_date(e["timestamp"]) for e in simulate(customers=1500) if e.get("event") == "Order Completed"
    )
    ordinary = [per_day[date(2025, 11, day)] for day in range(1, 31) if day not in (10, 11, 12)]
    assert per_day[date(2025, 11, 11)] > 4 * statistics.mean(ordinary)


def test_online_shoppers_come_in_the_evening_and_stores_are_busier_at_weekends() -> None:
    online_hours: Counter[int] = Counter()
    store_weekdays: Counter[int] = Counter()
    for event in events(600):
        local = datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00")) + timedelta(hours=8)
        if event["channel"] == "web" and event["type"] == "page":
            online_hours[local.hour] += 1
        if event["channel"] == "pos" and event.get("event") == "Order Completed":
            store_weekdays[local.weekday()] += 1
    assert online_hours[21] > 3 * online_hours[9]
    assert online_hours[21] > 10 * online_hours[4]
    assert min(store_weekdays[5], store_weekdays[6]) > max(store_weekdays[d] for d in range(4))


def test_identity_mess_shows_up_in_the_stream() -> None:
    phones, emails, names = set(), set(), set()
    for event in events(600):
        for traits in (event.get("traits", {}), event["context"].get("traits", {})):
            phones.add(traits.get("phone"))
            emails.add(traits.get("email"))
            names.add(traits.get("name"))
    assert any(p and re.fullmatch(r"09\d{2}-\d{3}-\d{3}", p) for p in phones)
    assert any(p and re.fullmatch(r"\+8869\d{8}", p) for p in phones)
    assert any(p and re.fullmatch(r"886 9\d{2} \d{3} \d{3}", p) for p in phones)
    assert any(p and re.fullmatch(r"09\d{8}", p) for p in phones)
    assert any(e and e != e.strip() for e in emails)
    assert any(e and e.strip() != e.strip().lower() for e in emails)
    assert any(n and (n.endswith("小姐") or n.endswith("先生")) for n in names)


def test_membership_records_carry_the_marketing_answers_of_the_form() -> None:
    # given the CRM's records of members, who answer the email and SMS questions when they join
    crm = [e for e in events(300) if e["type"] == "identify" and e["source"] == "crm"]
    # then every record says yes or no to both, and the population does not answer as one
    assert crm
    assert all(isinstance(e["traits"]["email_opt_in"], bool) for e in crm)
    assert all(isinstance(e["traits"]["sms_opt_in"], bool) for e in crm)
    assert {e["traits"]["email_opt_in"] for e in crm} == {True, False}
