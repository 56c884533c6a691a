"""The orders pages of the dashboard: the list, an order, a store's pickup queue and its handover form."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from omni.accounts.roles import Role
from omni.db.engine import Database
from omni.orders import service, transitions
from omni.orders.states import Action
from tests.builders import PASSWORD, make_user
from tests.orders.builders import make_world, order_body, place

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]*)"')


def _log_in(client: TestClient, database: Database, role: Role, store: str | None = None) -> str:
    with database.unit_of_work() as session:
        user = make_user(session, role=role, store_code=store)
    token = CSRF_FIELD.search(client.get("/login").text)
    assert token
    client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token.group(1)})
    page = CSRF_FIELD.search(client.get("/orders").text)
    assert page
    return page.group(1)


def _ready_pickups(database: Database) -> dict[str, Any]:
    """A ready click & collect order at each store; their numbers and codes by store."""
    with database.unit_of_work() as session:
        make_world(session, stock={"TEE-M": {"XINYI": 5, "BANQIAO": 5}})
        made = {}
        for store in ("XINYI", "BANQIAO"):
            order = place(session, order_body("click_and_collect", store=store))
            for action in (Action.PICK, Action.READY):
                transitions.take_step(session, order.number, action, by="clerk")
            made[store] = order
        return made


def test_store_staff_see_only_their_store_s_pickup_queue(client: TestClient, committed: Database) -> None:
    made = _ready_pickups(committed)
    _log_in(client, committed, Role.STORE_STAFF, "XINYI")
    queue = client.get("/orders/pickups")
    assert queue.status_code == 200
    assert f'data-order="{made["XINYI"].number}"' in queue.text
    assert made["BANQIAO"].number not in queue.text
    assert client.get("/orders/pickups?store=BANQIAO").status_code == 403
    listing = client.get("/orders").text
    assert made["XINYI"].number in listing
    assert made["BANQIAO"].number not in listing


def test_the_handover_form_checks_the_pickup_code(client: TestClient, committed: Database) -> None:
    made = _ready_pickups(committed)
    csrf = _log_in(client, committed, Role.STORE_STAFF, "XINYI")
    order = made["XINYI"]
    wrong = "000000" if order.pickup_code != "000000" else "111111"
    refused = client.post(f"/orders/{order.id}/pickup", data={"code": wrong, "csrf_token": csrf})
    assert refused.status_code == 403
    other = made["BANQIAO"]
    assert (
        client.post(
            f"/orders/{other.id}/pickup", data={"code": other.pickup_code, "csrf_token": csrf}
        ).status_code
        == 403
    )
    handed = client.post(
        f"/orders/{order.id}/pickup",
        data={"code": order.pickup_code, "csrf_token": csrf},
        follow_redirects=False,
    )
    assert handed.status_code == 303
    with committed.unit_of_work() as session:
        assert service.get_order(session, order.number).state == "picked_up"
        assert service.get_order(session, other.number).state == "ready_for_pickup"


def test_the_order_page_shows_lines_history_and_why_the_location_was_chosen(
    client: TestClient, committed: Database
) -> None:
    made = _ready_pickups(committed)
    _log_in(client, committed, Role.ADMIN)
    page = client.get(f"/orders/{made['XINYI'].number}").text
    assert "<code>TEE-M</code>" in page
    assert "the pickup store holds it" in page
    assert 'class="chosen"><td>XINYI</td>' in page
    assert page.count("<li>") == 4  # placed, allocated, picking, ready_for_pickup


def test_the_orders_list_filters_by_fulfilment_and_state(client: TestClient, committed: Database) -> None:
    made = _ready_pickups(committed)
    _log_in(client, committed, Role.ADMIN)
    ready = client.get("/orders", params={"state": "ready_for_pickup", "store": "BANQIAO"}).text
    assert made["BANQIAO"].number in ready
    assert made["XINYI"].number not in ready
    assert '<p class="empty">' in client.get("/orders", params={"fulfilment": "ship_to_home"}).text


def test_a_return_is_taken_from_the_order_page_at_the_staff_member_s_store(
    client: TestClient, committed: Database
) -> None:
    made = _ready_pickups(committed)
    order = made["BANQIAO"]
    with committed.unit_of_work() as session:
        transitions.take_step(session, order.number, Action.PICKUP, by="clerk", code=order.pickup_code)
    csrf = _log_in(client, committed, Role.STORE_STAFF, "XINYI")
    form = {"csrf_token": csrf, "key": "form-1", "qty-1": "1", "disposition-1": "restock", "reason": "size"}
    answer = client.post(f"/orders/{order.id}/returns", data=form, follow_redirects=False)
    assert answer.status_code == 303
    with committed.unit_of_work() as session:
        read = service.order_read(session, service.get_order(session, order.number))
    assert [(r.store_code, r.refund_minor) for r in read.returns] == [("XINYI", 129_000)]
    # the same form sent twice records one return
    assert client.post(f"/orders/{order.id}/returns", data=form, follow_redirects=False).status_code == 303
    with committed.unit_of_work() as session:
        assert len(service.order_read(session, service.get_order(session, order.number)).returns) == 1
