"""The inventory API over HTTP, on SQLite and PostgreSQL: stock keeping, cart holds, availability, feeds."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from omni.accounts.roles import Role
from omni.catalog.schemas import ChannelKind, LocationKind
from omni.db.engine import Database
from tests.builders import PASSWORD, make_user
from tests.inventory.builders import make_channel, make_skus, make_store

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]*)"')


def _log_in(client: TestClient, database: Database, role: Role = Role.ADMIN) -> dict[str, str]:
    """Log a new user of role in; the headers a write needs."""
    with database.unit_of_work() as session:
        user = make_user(session, role=role)
    token = CSRF_FIELD.search(client.get("/login").text)
    assert token
    client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token.group(1)})
    page = CSRF_FIELD.search(client.get("/customers").text)
    assert page
    return {"x-csrf-token": page.group(1)}


def _world(database: Database) -> None:
    """Two Taipei stores, a warehouse, a web channel and a marketplace keeping 2 back."""
    with database.unit_of_work() as session:
        make_store(session, "XINYI", latitude=25.0396, longitude=121.5674)
        make_store(session, "BANQIAO", latitude=25.0142, longitude=121.4637)
        make_store(session, "WH", kind=LocationKind.WAREHOUSE, latitude=24.99, longitude=121.30)
        make_skus(session, "TEE-M", "TEE-L")
        make_channel(session, "web", locations=["XINYI", "BANQIAO", "WH"])
        make_channel(session, "shopee", locations=["WH"], stock_buffer=2, kind=ChannelKind.MARKETPLACE)


def _receive(client: TestClient, headers: dict[str, str], sku: str, location: str, quantity: int) -> Any:
    answer = client.post(
        "/v1/stock/receipts", json={"sku": sku, "location": location, "quantity": quantity}, headers=headers
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_a_receipt_answers_the_new_level_and_is_listed_as_a_movement(
    client: TestClient, committed: Database
) -> None:
    # given
    headers = _log_in(client, committed)
    _world(committed)
    # when
    level = _receive(client, headers, "TEE-M", "XINYI", 6)
    # then
    assert {k: level[k] for k in ("sku", "location", "on_hand", "reserved", "allocated", "available")} == {
        "sku": "TEE-M",
        "location": "XINYI",
        "on_hand": 6,
        "reserved": 0,
        "allocated": 0,
        "available": 6,
    }
    movements = client.get("/v1/stock/movements", params={"sku": "TEE-M", "location": "XINYI"}).json()
    assert [(m["quantity"], m["reason"]) for m in movements] == [(6, "receipt")]
    assert [row["on_hand"] for row in client.get("/v1/stock", params={"sku": "TEE-M"}).json()] == [6]


def test_a_cart_hold_takes_units_until_released_and_a_short_one_is_409_with_what_is_left(
    client: TestClient, committed: Database
) -> None:
    # given
    headers = _log_in(client, committed)
    _world(committed)
    _receive(client, headers, "TEE-M", "XINYI", 3)
    hold = {"sku": "TEE-M", "location": "XINYI", "quantity": 2, "ttl_seconds": 600}
    # when
    held = client.post("/v1/reservations", json=hold | {"reference": "cart:1"}, headers=headers)
    short = client.post("/v1/reservations", json=hold | {"reference": "cart:2"}, headers=headers)
    released = client.delete("/v1/reservations/cart:1", headers=headers)
    # then
    assert held.status_code == 201
    assert held.json()["quantity"] == 2
    assert short.status_code == 409
    error = short.json()["error"]
    assert error["code"] == "not_enough_stock"
    assert error["details"][0]["available"] == 1
    assert released.json() == {"reference": "cart:1", "released": 2}
    assert client.get("/v1/stock", params={"sku": "TEE-M"}).json()[0]["reserved"] == 0


def test_counts_adjustments_and_transfers_change_the_levels(client: TestClient, committed: Database) -> None:
    # given
    headers = _log_in(client, committed)
    _world(committed)
    _receive(client, headers, "TEE-M", "WH", 10)
    # when
    counted = client.post(
        "/v1/stock/counts", json={"sku": "TEE-M", "location": "WH", "counted": 9}, headers=headers
    )
    adjusted = client.post(
        "/v1/stock/adjustments", json={"sku": "TEE-M", "location": "WH", "delta": -1}, headers=headers
    )
    moved = client.post(
        "/v1/stock/transfers",
        json={"sku": "TEE-M", "from_location": "WH", "to_location": "XINYI", "quantity": 3},
        headers=headers,
    )
    # then
    assert (counted.status_code, counted.json()["on_hand"]) == (201, 9)
    assert adjusted.json()["on_hand"] == 8
    assert [(level["location"], level["on_hand"]) for level in moved.json()] == [("WH", 5), ("XINYI", 3)]


def test_availability_lists_nearby_stores_nearest_first_with_the_channel_atp(
    client: TestClient, committed: Database
) -> None:
    # given stock in both stores and the warehouse, asked from near Banqiao
    headers = _log_in(client, committed)
    _world(committed)
    _receive(client, headers, "TEE-M", "XINYI", 2)
    _receive(client, headers, "TEE-M", "WH", 5)
    client.cookies.clear()
    # when anyone asks, logged in or not
    answer = client.get(
        "/v1/availability", params={"sku": "TEE-M", "near": "25.0130,121.4650", "channel": "web"}
    )
    # then
    assert answer.status_code == 200
    body = answer.json()
    assert body["available_to_promise"] == 7
    assert [(s["location"], s["available"]) for s in body["stores"]] == [("BANQIAO", 0), ("XINYI", 2)]
    assert body["stores"][0]["distance_km"] < body["stores"][1]["distance_km"]
    assert body["stores"][1]["distance_km"] == pytest.approx(10.7, abs=0.3)


def test_a_marketplace_feed_takes_its_buffer_off_in_json_and_csv(
    client: TestClient, committed: Database
) -> None:
    # given
    headers = _log_in(client, committed)
    _world(committed)
    _receive(client, headers, "TEE-M", "WH", 5)
    _receive(client, headers, "TEE-L", "WH", 1)
    # when
    as_json = client.get("/v1/channels/shopee/stock-feed").json()
    as_csv = client.get("/v1/channels/shopee/stock-feed", params={"format": "csv"})
    # then
    assert as_json["stock_buffer"] == 2
    assert as_json["items"] == [{"sku": "TEE-L", "quantity": 0}, {"sku": "TEE-M", "quantity": 3}]
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.text == "sku,quantity\nTEE-L,0\nTEE-M,3\n"


@pytest.mark.parametrize(
    ("path", "body", "status", "field"),
    [
        pytest.param(
            "/v1/stock/receipts",
            {"sku": "TEE-M", "location": "XINYI", "quantity": 0},
            422,
            "body.quantity",
            id="zero",
        ),
        pytest.param(
            "/v1/stock/receipts",
            {"sku": "TEE-M", "location": "XINYI", "quantity": -3},
            422,
            "body.quantity",
            id="negative",
        ),
        pytest.param(
            "/v1/stock/receipts",
            {"sku": "NOPE", "location": "XINYI", "quantity": 1},
            404,
            "sku",
            id="unknown-sku",
        ),
        pytest.param(
            "/v1/stock/receipts",
            {"sku": "TEE-M", "location": "MARS", "quantity": 1},
            404,
            "location",
            id="unknown-location",
        ),
        pytest.param(
            "/v1/reservations",
            {"sku": "TEE-M", "location": "XINYI", "quantity": 0, "reference": "c"},
            422,
            "body.quantity",
            id="zero-hold",
        ),
        pytest.param(
            "/v1/reservations",
            {"sku": "NOPE", "location": "XINYI", "quantity": 1, "reference": "c"},
            404,
            "sku",
            id="hold-unknown-sku",
        ),
        pytest.param(
            "/v1/stock/transfers",
            {"sku": "TEE-M", "from_location": "XINYI", "to_location": "XINYI", "quantity": 1},
            422,
            "to_location",
            id="transfer-to-itself",
        ),
        pytest.param(
            "/v1/stock/adjustments",
            {"sku": "TEE-M", "location": "XINYI", "delta": 0},
            422,
            "delta",
            id="zero-delta",
        ),
    ],
)
def test_bad_input_is_a_4xx_naming_the_field_and_writes_nothing(
    client: TestClient, committed: Database, path: str, body: dict[str, Any], status: int, field: str
) -> None:
    # given
    headers = _log_in(client, committed)
    _world(committed)
    # when
    answer = client.post(path, json=body, headers=headers)
    # then
    assert answer.status_code == status, answer.text
    assert field in [detail["field"] for detail in answer.json()["error"]["details"]]
    assert client.get("/v1/stock/movements").json() == []


def test_availability_rejects_a_position_that_is_not_one(client: TestClient, committed: Database) -> None:
    _world(committed)
    answer = client.get("/v1/availability", params={"sku": "TEE-M", "near": "95,121"})
    assert answer.status_code == 422
    assert answer.json()["error"]["details"] == [
        {"field": "near", "rule": "latitude must be between -90 and 90"}
    ]


def test_keeping_stock_needs_a_logged_in_staff_member(client: TestClient, committed: Database) -> None:
    _world(committed)
    answer = client.post("/v1/stock/receipts", json={"sku": "TEE-M", "location": "XINYI", "quantity": 1})
    assert answer.status_code == 401
