from __future__ import annotations

import json
import re
import statistics
from collections import Counter
from pathlib import Path

from omni.demo.people import JUNK_EMAILS, JUNK_PHONE
from omni.demo.truth import IDENTIFIER_KINDS, PEOPLE_COLUMNS
from tests.demo.simulated import e164, events, read_csv, write_truth, written_identifiers

CUSTOMERS = 400
KIND_OF_FIELD = {
    "anonymousId": {"anonymous_id"},
    "previousId": {"anonymous_id"},
    "userId": {"user_id", "member_id"},
    "device.id": {"device_id"},
    "traits.email": {"email"},
    "traits.phone": {"phone"},
    "traits.name": {"name"},
    "traits.member_id": {"member_id"},
}
PHONE_FORMATS = {
    "0912-345-678": r"09\d{2}-\d{3}-\d{3}",
    "+886912345678": r"\+8869\d{8}",
    "886 912 345 678": r"886 9\d{2} \d{3} \d{3}",
    "0912345678": r"09\d{8}",
}


def test_every_identifier_in_the_events_is_listed_with_its_person(tmp_path: Path) -> None:
    write_truth(tmp_path, CUSTOMERS)
    listed = {(row["kind"], row["value"], row["person_id"]) for row in read_csv(tmp_path / "identifiers.csv")}
    seen = set()
    for event in events(CUSTOMERS):
        for field, value in written_identifiers(event):
            kinds = {
                kind for kind in KIND_OF_FIELD[field] if (kind, value, event["truth_person_id"]) in listed
            }
            assert len(kinds) == 1, (field, value)
            seen.add((kinds.pop(), value, event["truth_person_id"]))
    assert seen == listed
    assert {kind for kind, _, _ in listed} == set(IDENTIFIER_KINDS)


def test_listed_identifiers_agree_with_the_persons_true_facts(tmp_path: Path) -> None:
    write_truth(tmp_path, CUSTOMERS)
    people = {row["person_id"]: row for row in read_csv(tmp_path / "people.csv")}
    for row in read_csv(tmp_path / "identifiers.csv"):
        person = people[row["person_id"]]
        kind, value = row["kind"], row["value"]
        if kind == "member_id":
            assert value == person["member_id"]
        elif kind == "user_id":
            assert value == person["account_id"]
        elif kind == "email":
            assert value.strip().lower() in {person["email"], *JUNK_EMAILS}
        elif kind == "phone":
            assert value == JUNK_PHONE or e164(value) == person["phone"]
        elif kind == "name":
            # A typo keeps at least one character: 陳雅婷 may become 陣雅婷, 陳婷婷 or 陳小姐, never 林小姐.
            assert set(value) & set(person["name"])


def test_phones_appear_in_every_listed_format_and_junk_is_shared(tmp_path: Path) -> None:
    write_truth(tmp_path, 1500)
    rows = read_csv(tmp_path / "identifiers.csv")
    phones = [row["value"] for row in rows if row["kind"] == "phone"]
    for name, pattern in PHONE_FORMATS.items():
        assert any(re.fullmatch(pattern, phone) for phone in phones), name
    people_per_email = Counter(row["value"].strip().lower() for row in rows if row["kind"] == "email")
    shared = {email for email, people in people_per_email.items() if people > 1}
    assert shared & set(JUNK_EMAILS)
    assert any(".family" in email for email in shared)


def test_people_csv_has_one_row_per_customer_with_true_facts(tmp_path: Path) -> None:
    stats = write_truth(tmp_path, CUSTOMERS)
    people = read_csv(tmp_path / "people.csv")
    assert tuple(people[0]) == PEOPLE_COLUMNS
    assert [row["person_id"] for row in people] == [f"P{i:07d}" for i in range(1, CUSTOMERS + 1)]
    assert all(re.fullmatch(r"\+8869\d{8}", row["phone"]) for row in people)
    assert all(row["email"] == row["email"].strip().lower() for row in people)
    assert sum(int(row["member"]) for row in people) == stats.members
    assert all(bool(row["member_id"]) == (row["member"] == "1") for row in people)


def test_people_csv_tallies_match_the_events(tmp_path: Path) -> None:
    write_truth(tmp_path, CUSTOMERS)
    people = {row["person_id"]: row for row in read_csv(tmp_path / "people.csv")}
    orders: Counter[tuple[str, str]] = Counter()
    revenue: Counter[str] = Counter()
    added: dict[str, set[str]] = {}
    ordered: dict[str, set[str]] = {}
    for event in events(CUSTOMERS):
        person, properties = event["truth_person_id"], event.get("properties", {})
        if event.get("event") == "Order Completed":
            orders[person, event["channel"]] += 1
            revenue[person] += properties["revenue_minor"]
            ordered.setdefault(person, set()).add(properties.get("cart_id", ""))
        elif event.get("event") == "Product Added":
            added.setdefault(person, set()).add(properties["cart_id"])
    for person_id, row in people.items():
        for channel in ("web", "app", "marketplace", "pos"):
            assert int(row[f"orders_{channel}"]) == orders[person_id, channel]
        assert int(row["revenue_minor"]) == revenue[person_id]
        abandoned = added.get(person_id, set()) - ordered.get(person_id, set())
        assert int(row["abandoned_carts"]) == len(abandoned)
        channels_bought = sum(1 for c in ("web", "app", "marketplace", "pos") if orders[person_id, c])
        assert row["omnichannel_buyer"] == str(int(channels_bought >= 2))


def test_omnichannel_buyers_spend_more_than_single_channel_buyers(tmp_path: Path) -> None:
    write_truth(tmp_path, 1000)
    people = read_csv(tmp_path / "people.csv")
    buyers = [row for row in people if int(row["orders_total"])]
    omni = [int(row["revenue_minor"]) for row in buyers if row["omnichannel_buyer"] == "1"]
    single = [int(row["revenue_minor"]) for row in buyers if row["omnichannel_buyer"] == "0"]
    assert len(omni) > 100
    assert len(single) > 300
    assert statistics.mean(omni) > 1.5 * statistics.mean(single)


def test_statistics_add_up(tmp_path: Path) -> None:
    stats = write_truth(tmp_path, CUSTOMERS)
    stream = events(CUSTOMERS)
    people = read_csv(tmp_path / "people.csv")
    assert stats.people == CUSTOMERS == len(people)
    assert (
        stats.events
        == len(stream)
        == sum(stats.events_by_type.values())
        == sum(stats.events_by_name.values())
    )
    assert stats.events_by_type == Counter(e["type"] for e in stream)
    assert stats.events_by_name["Order Completed"] == sum(stats.orders_per_channel.values())
    assert sum(stats.orders_per_channel.values()) == sum(int(row["orders_total"]) for row in people)
    for channel, customers in stats.customers_per_channel.items():
        assert customers == sum(1 for row in people if channel in row["channels"].split(";"))
    assert stats.buyers == sum(1 for row in people if int(row["orders_total"]))
    assert stats.omnichannel_buyers == sum(int(row["omnichannel_buyer"]) for row in people)
    assert stats.people_with_multiple_identifiers == sum(1 for row in people if int(row["identifiers"]) > 1)
    assert stats.share_with_multiple_identifiers == stats.people_with_multiple_identifiers / CUSTOMERS
    assert sum(stats.revenue_minor_per_channel.values()) == sum(int(row["revenue_minor"]) for row in people)
    assert set(stats.customers_per_channel) == {
        "web",
        "app",
        "pos",
        "marketplace",
        "crm",
        "email",
        "sms",
        "push",
    }
    assert json.loads((tmp_path / "stats.json").read_text(encoding="utf-8")) == stats.as_dict()
    titles = [title for title, _ in stats.as_rows()]
    assert titles[:3] == ["Overview", "Customers per channel", "Orders per channel"]


def test_a_channel_mix_with_many_browsers_store_shoppers_and_few_omnichannel_buyers(tmp_path: Path) -> None:
    stats = write_truth(tmp_path, 1000)
    people = read_csv(tmp_path / "people.csv")
    web_only = sum(1 for row in people if row["channels"] == "web")
    store_only_buyers = sum(1 for row in people if int(row["orders_pos"]) == int(row["orders_total"]) > 0)
    assert web_only > 150
    assert store_only_buyers > 150
    assert 0.1 < stats.omnichannel_buyers / stats.people < 0.4
    assert stats.orders_per_channel["pos"] > stats.orders_per_channel["marketplace"] > 0
    assert stats.click_and_collect_orders > 0
    assert stats.returns > 0
