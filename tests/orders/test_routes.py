"""The orders API over HTTP, on SQLite and PostgreSQL: idempotency, steps, returns, races, bad input."""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from omni.accounts.roles import Role
from omni.db.engine import Database
from omni.kit.errors import OmniError
from omni.orders import service
from omni.orders.models import Order
from omni.orders.schemas import OrderCreate
from tests.builders import PASSWORD, make_user
from tests.orders.builders import PRICE, free, make_world, order_body

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]*)"')


def _log_in(
    client: TestClient, database: Database, role: Role = Role.ADMIN, store: str | None = None
) -> dict[str, str]:
    with database.unit_of_work() as session:
        user = make_user(session, role=role, store_code=store)
    token = CSRF_FIELD.search(client.get("/login").text)
    assert token
    client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token.group(1)})
    page = CSRF_FIELD.search(client.get("/customers").text)
    assert page
    return {"x-csrf-token": page.group(1)}


def _world(database: Database, **kwargs: Any) -> None:
    with database.unit_of_work() as session:
        make_world(session, **kwargs)


def _count(database: Database) -> int:
    with database.unit_of_work() as session:
        return int(session.scalar(select(func.count()).select_from(Order)) or 0)


def _free(database: Database, sku: str, *locations: str) -> dict[str, int]:
    with database.unit_of_work() as session:
        return free(session, sku, *locations)


def test_an_order_posted_twice_with_one_key_is_placed_once(client: TestClient, committed: Database) -> None:
    headers = _log_in(client, committed)
    _world(committed, stock={"TEE-M": {"XINYI": 5}})
    body = order_body("click_and_collect", store="XINYI")
    first = client.post("/v1/orders", json=body, headers={**headers, "Idempotency-Key": "checkout-77"})
    again = client.post("/v1/orders", json=body, headers={**headers, "Idempotency-Key": "checkout-77"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["pickup_code"] == first.json()["pickup_code"]
    assert _count(committed) == 1
    assert _free(committed, "TEE-M", "XINYI") == {"XINYI": 4}
    # the same key with another body is a client bug
    other = client.post(
        "/v1/orders",
        json={**body, "lines": [{"sku": "TEE-M", "quantity": 2}]},
        headers={**headers, "Idempotency-Key": "checkout-77"},
    )
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_key_reused"


def test_the_key_may_come_in_the_body(client: TestClient, committed: Database) -> None:
    headers = _log_in(client, committed)
    _world(committed, stock={"TEE-M": {"XINYI": 5}})
    body = order_body(idempotency_key="web-1")
    assert client.post("/v1/orders", json=body, headers=headers).status_code == 201
    assert client.post("/v1/orders", json=body, headers=headers).status_code == 200
    assert _count(committed) == 1


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        pytest.param(
            order_body(lines=[{"sku": "TEE-M", "quantity": 0}]),
            422,
            "invalid",
            "body.lines.0.quantity",
            id="zero-quantity",
        ),
        pytest.param(
            order_body(lines=[{"sku": "TEE-M", "quantity": -2}]),
            422,
            "invalid",
            "body.lines.0.quantity",
            id="negative-quantity",
        ),
        pytest.param(
            order_body(lines=[{"sku": "NOPE", "quantity": 1}]),
            422,
            "order_invalid",
            "lines.0.sku",
            id="unknown-sku",
        ),
        pytest.param(
            order_body("click_and_collect", store="NOWHERE"),
            422,
            "order_invalid",
            "store",
            id="unknown-location",
        ),
        pytest.param(
            order_body("click_and_collect", store="XINYI"),
            422,
            "pickup_unavailable",
            "store",
            id="click-and-collect-off",
        ),
        pytest.param(
            order_body(lines=[{"sku": "TEE-L", "quantity": 1}, {"sku": "TEE-M", "quantity": 4}]),
            409,
            "cannot_source",
            "lines.1.quantity",
            id="more-than-in-stock",
        ),
    ],
)
def test_bad_orders_get_a_4xx_saying_what_and_why_and_nothing_is_written(
    client: TestClient, committed: Database, body: dict[str, Any], status: int, code: str, field: str
) -> None:
    headers = _log_in(client, committed)
    _world(committed, stock={"TEE-M": {"BANQIAO": 3}, "TEE-L": {"BANQIAO": 3}}, xinyi_click_and_collect=False)
    answer = client.post("/v1/orders", json=body, headers=headers)
    assert answer.status_code == status
    error = answer.json()["error"]
    assert error["code"] == code
    assert error["details"][0]["field"] == field
    assert _count(committed) == 0
    assert _free(committed, "TEE-L", "BANQIAO") == {"BANQIAO": 3}


def test_an_order_shows_its_lines_history_and_sourcing_explanation(
    client: TestClient, committed: Database
) -> None:
    headers = _log_in(client, committed)
    _world(committed, stock={"TEE-M": {"XINYI": 1, "TAOYUAN-DC": 4}})
    made = client.post("/v1/orders", json=order_body(), headers=headers).json()
    shown = client.get(f"/v1/orders/{made['number']}").json()
    assert shown["lines"][0]["location_code"] == "XINYI"
    (line,) = shown["sourcing"]["lines"]
    assert line["chosen"] == "XINYI"
    assert [(c["location"], c["available"]) for c in line["candidates"]] == [
        ("BANQIAO", 0),
        ("TAOYUAN-DC", 4),
        ("XINYI", 1),
    ]
    assert [h["to_state"] for h in shown["history"]] == ["placed", "allocated"]
    assert shown["pickup_code"] is None
    assert shown["allowed_actions"] == ["pick", "cancel"]


def test_steps_move_the_order_and_a_wrong_pickup_code_hands_nothing_over(
    client: TestClient, committed: Database
) -> None:
    headers = _log_in(client, committed)
    _world(committed, stock={"TEE-M": {"XINYI": 2}})
    made = client.post(
        "/v1/orders", json=order_body("click_and_collect", store="XINYI"), headers=headers
    ).json()
    url = f"/v1/orders/{made['id']}"
    early = client.post(f"{url}/pickup", json={"code": made["pickup_code"]}, headers=headers)
    assert early.status_code == 409
    assert (
        early.json()["error"]["message"] == "the order is allocated; it cannot pickup (allowed: cancel, pick)"
    )
    assert client.post(f"{url}/pick", headers=headers).json()["state"] == "picking"
    assert client.post(f"{url}/transitions", json={"action": "ready"}, headers=headers).json()["state"] == (
        "ready_for_pickup"
    )
    wrong = "999999" if made["pickup_code"] != "999999" else "000000"
    refused = client.post(f"{url}/pickup", json={"code": wrong}, headers=headers)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "wrong_pickup_code"
    assert client.get(url).json()["state"] == "ready_for_pickup"
    handed = client.post(f"{url}/pickup", json={"code": made["pickup_code"]}, headers=headers)
    assert handed.json()["state"] == "picked_up"
    queue = client.get("/v1/stores/XINYI/pickups").json()
    assert queue == []


def test_a_return_at_a_store_is_idempotent_and_refuses_more_than_was_bought(
    client: TestClient, committed: Database
) -> None:
    headers = _log_in(client, committed)
    _world(committed, stock={"TEE-M": {"TAOYUAN-DC": 2}})
    made = client.post(
        "/v1/orders", json=order_body(lines=[{"sku": "TEE-M", "quantity": 2}]), headers=headers
    )
    url = f"/v1/orders/{made.json()['id']}"
    for action in ("pick", "ship", "deliver"):
        assert client.post(f"{url}/{action}", headers=headers).status_code == 200
    body = {"store": "BANQIAO", "items": [{"line": 1, "quantity": 1, "disposition": "restock"}]}
    first = client.post(f"{url}/returns", json=body, headers={**headers, "Idempotency-Key": "ret-1"})
    again = client.post(f"{url}/returns", json=body, headers={**headers, "Idempotency-Key": "ret-1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["refunded_minor"] == PRICE
    assert _free(committed, "TEE-M", "BANQIAO") == {"BANQIAO": 1}
    too_many = {"store": "BANQIAO", "items": [{"line": 1, "quantity": 2, "disposition": "restock"}]}
    refused = client.post(f"{url}/returns", json=too_many, headers={**headers, "Idempotency-Key": "ret-2"})
    assert refused.status_code == 422
    assert refused.json()["error"]["details"][0]["returnable"] == 1
    assert _free(committed, "TEE-M", "BANQIAO") == {"BANQIAO": 1}


def test_orders_are_listed_with_filters(client: TestClient, committed: Database) -> None:
    headers = _log_in(client, committed)
    _world(committed, stock={"TEE-M": {"XINYI": 5, "BANQIAO": 5}})
    client.post("/v1/orders", json=order_body(), headers=headers)
    client.post("/v1/orders", json=order_body("click_and_collect", store="BANQIAO"), headers=headers)
    everything = client.get("/v1/orders").json()
    assert everything["total"] == 2
    pickups = client.get("/v1/orders", params={"fulfilment": "click_and_collect", "store": "BANQIAO"}).json()
    assert [(o["fulfilment"], o["store_code"], o["items"]) for o in pickups["items"]] == [
        ("click_and_collect", "BANQIAO", 1)
    ]
    assert client.get("/v1/orders", params={"state": "cancelled"}).json()["total"] == 0


def test_the_orders_api_needs_a_logged_in_staff_member(client: TestClient, committed: Database) -> None:
    answer = client.post("/v1/orders", json=order_body())
    assert answer.status_code == 401


def test_concurrent_orders_for_the_last_units_have_exactly_as_many_winners_as_units(
    committed: Database,
) -> None:
    # given 3 units in the only store and 8 buyers
    _world(committed, stock={"TEE-M": {"XINYI": 3}})
    barrier = threading.Barrier(8)
    outcomes: list[int] = []
    lock = threading.Lock()

    def buy(index: int) -> None:
        barrier.wait()
        try:
            with committed.unit_of_work() as session:
                service.place_order(
                    session, OrderCreate.model_validate(order_body()), key=f"buyer-{index}", by="race"
                )
            status = 201
        except OmniError as exc:
            status = exc.status_code
        with lock:
            outcomes.append(status)

    threads = [threading.Thread(target=buy, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then exactly 3 win, the rest get 409, and nothing is oversold
    assert sorted(outcomes) == [201] * 3 + [409] * 5
    assert _count(committed) == 3
    assert _free(committed, "TEE-M", "XINYI") == {"XINYI": 0}


def test_a_retried_order_racing_itself_is_placed_once(committed: Database) -> None:
    _world(committed, stock={"TEE-M": {"XINYI": 9}})
    barrier = threading.Barrier(4)
    numbers: list[str] = []

    def retry() -> None:
        barrier.wait()
        with committed.unit_of_work() as session:
            order, _ = service.place_order(
                session, OrderCreate.model_validate(order_body()), key="same-click", by="race"
            )
        numbers.append(order.number)

    threads = [threading.Thread(target=retry) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(numbers) == 4
    assert len(set(numbers)) == 1
    assert _count(committed) == 1
    assert _free(committed, "TEE-M", "XINYI") == {"XINYI": 8}


def test_store_staff_hand_over_queue_and_take_back_for_their_own_store_only(
    client: TestClient, committed: Database
) -> None:
    # given a click & collect order ready at XINYI, placed by head office
    headers = _log_in(client, committed)
    _world(committed, stock={"TEE-M": {"XINYI": 2}})
    made = client.post(
        "/v1/orders", json=order_body("click_and_collect", store="XINYI"), headers=headers
    ).json()
    url = f"/v1/orders/{made['id']}"
    for action in ("pick", "ready"):
        assert client.post(f"{url}/{action}", headers=headers).status_code == 200
    # when staff of another store try its queue, its handover and a return there
    other = _log_in(client, committed, Role.STORE_STAFF, store="BANQIAO")
    assert client.get("/v1/stores/XINYI/pickups").status_code == 403
    refused = client.post(f"{url}/pickup", json={"code": made["pickup_code"]}, headers=other)
    body = {"store": "XINYI", "items": [{"line": 1, "quantity": 1, "disposition": "restock"}]}
    taken_back = client.post(f"{url}/returns", json=body, headers={**other, "Idempotency-Key": "r-1"})
    # then each is refused and the order still waits; XINYI's own staff hand it over
    assert (refused.status_code, taken_back.status_code) == (403, 403)
    assert refused.json()["error"]["message"] == "staff of BANQIAO act for BANQIAO only, not for XINYI"
    own = _log_in(client, committed, Role.STORE_STAFF, store="XINYI")
    assert [o["number"] for o in client.get("/v1/stores/XINYI/pickups").json()] == [made["number"]]
    handed = client.post(f"{url}/pickup", json={"code": made["pickup_code"]}, headers=own)
    assert handed.json()["state"] == "picked_up"
