"""The journeys API over HTTP, on both engines."""

from __future__ import annotations

from fastapi.testclient import TestClient

from omni.accounts.roles import Role
from omni.db.engine import Database
from tests.journeys.builders import cart, member
from tests.profiles.test_routes import _log_in

API_TRIGGERED = {
    "trigger": {"type": "api", "keys": ["order_id"]},
    "start": "end",
    "nodes": {"end": {"type": "exit"}},
}


def test_save_version_activate_enter_and_read_the_numbers(client: TestClient, committed: Database) -> None:
    # given a marketer and a member
    headers = {"x-csrf-token": _log_in(client, committed, Role.MARKETER)}
    with committed.unit_of_work() as session:
        amy = member(session, "c1")
    # when a journey is saved, given a new version and activated
    created = client.post(
        "/v1/journeys", json={"name": "Thanks", "definition": API_TRIGGERED}, headers=headers
    )
    assert created.status_code == 201
    journey_id = created.json()["id"]
    assert (created.json()["status"], created.json()["current_version"]) == ("draft", 1)
    refused = client.post(
        f"/v1/journeys/{journey_id}/entries",
        json={"profile_id": amy, "keys": {"order_id": "o1"}},
        headers=headers,
    )
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "journey_not_active")
    updated = client.put(
        f"/v1/journeys/{journey_id}", json={"definition": API_TRIGGERED, "description": "v2"}, headers=headers
    )
    assert updated.json()["current_version"] == 2
    assert client.post(f"/v1/journeys/{journey_id}/activate", headers=headers).json()["status"] == "active"
    # and Amy is entered by API, without and then with the trigger's keys
    missing = client.post(f"/v1/journeys/{journey_id}/entries", json={"profile_id": amy}, headers=headers)
    entered = client.post(
        f"/v1/journeys/{journey_id}/entries",
        json={"profile_id": amy, "keys": {"order_id": "o1"}},
        headers=headers,
    )
    # then the entry is refused naming the key, then made on version 2
    assert missing.status_code == 422
    assert missing.json()["error"]["details"] == [
        {"field": "keys.order_id", "rule": "required by the trigger"}
    ]
    assert entered.status_code == 201
    assert {k: entered.json()[k] for k in ("profile_id", "version", "state", "node", "keys")} == {
        "profile_id": amy,
        "version": 2,
        "state": "active",
        "node": "end",
        "keys": {"order_id": "o1"},
    }
    # and the list, versions and stats show it
    [listed] = client.get("/v1/journeys", headers=headers).json()
    assert listed["counts"] == {"entered": 1, "active": 1, "converted": 0}
    assert [
        v["version"] for v in client.get(f"/v1/journeys/{journey_id}/versions", headers=headers).json()
    ] == [1, 2]
    numbers = client.get(f"/v1/journeys/{journey_id}/stats", headers=headers).json()
    assert numbers["nodes"] == [{"node": "end", "type": "exit", "reached": 0, "here": 1, "next": []}]
    assert numbers["holdout"] is None
    assert client.post(f"/v1/journeys/{journey_id}/pause", headers=headers).json()["status"] == "paused"


def test_a_broken_journey_is_a_422_naming_the_path(client: TestClient, committed: Database) -> None:
    headers = {"x-csrf-token": _log_in(client, committed, Role.MARKETER)}
    raw = cart()
    raw["nodes"]["split"]["branches"][0]["percent"] = 80
    answer = client.post("/v1/journeys", json={"name": "Cart", "definition": raw}, headers=headers)
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "journey_invalid"
    assert answer.json()["error"]["details"] == [
        {"field": "nodes.split.branches", "rule": "percentages sum to 90, not 100"}
    ]
    assert client.get("/v1/journeys", headers=headers).json() == []


def test_store_staff_may_not_touch_journeys(client: TestClient, committed: Database) -> None:
    headers = {"x-csrf-token": _log_in(client, committed, Role.STORE_STAFF)}
    assert client.get("/v1/journeys", headers=headers).status_code == 403
    assert client.get("/v1/journeys/999", headers={**headers}).status_code == 403
