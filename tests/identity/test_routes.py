from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from omni.accounts import service as accounts_service
from omni.accounts.roles import Role
from omni.db.engine import Database
from omni.events.consumers import catch_up
from omni.identity.tasks import STITCH
from tests.builders import PASSWORD, make_user
from tests.identity.builders import log, message

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def _staff(
    client: TestClient, database: Database, role: Role = Role.ADMIN, *, email: str | None = None
) -> dict[str, str]:
    """Log a staff member in with a session cookie; return the CSRF header their writes must carry."""
    with database.unit_of_work() as session:
        user = make_user(session, role=role, email=email)
        started = accounts_service.start_session(session, user, hours=1)
    client.cookies.set("omni_session", started.token)
    return {"X-CSRF-Token": started.csrf_token}


def _stitched(database: Database, *payloads: dict[str, Any]) -> None:
    with database.unit_of_work() as session:
        log(session, *payloads)
    catch_up(database.sessions, [STITCH])


def _merged_world(database: Database) -> None:
    _stitched(database, message("laptop", user_id="c_001", anonymous_id="laptop"))
    _stitched(
        database, message("tablet-1", anonymous_id="tablet"), message("tablet-2", anonymous_id="tablet")
    )
    _stitched(
        database,
        message(
            "login", type="identify", user_id="c_001", anonymous_id="tablet", traits={"phone": "0912-345-678"}
        ),
    )


def _profile(client: TestClient, **query: str) -> int:
    response = client.get("/v1/identity/lookup", params=query)
    assert response.status_code == 200, response.text
    profile_id: int = response.json()["profile_id"]
    return profile_id


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/profiles/1/identity"),
        ("GET", "/v1/profiles/1/events"),
        ("GET", "/v1/identity/lookup?phone=0912345678"),
        ("GET", "/v1/identity/rules"),
        ("POST", "/v1/profiles/1/unmerge"),
        ("PUT", "/v1/identity/rules"),
    ],
    ids=["explain", "events", "lookup", "rules", "unmerge", "replace-rules"],
)
def test_the_identity_api_needs_a_logged_in_staff_member(client: TestClient, method: str, path: str) -> None:
    response = client.request(method, path, json={})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_the_dashboard_login_cookie_opens_the_api(client: TestClient, committed: Database) -> None:
    # given a staff member who logs in through the dashboard's own form
    with committed.unit_of_work() as session:
        user = make_user(session, role=Role.MARKETER)
    token = CSRF_FIELD.search(client.get("/login").text)
    assert token is not None
    client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token.group(1)})
    # then the API answers them
    assert client.get("/v1/identity/rules").status_code == 200


def test_a_write_without_the_csrf_header_is_refused(client: TestClient, committed: Database) -> None:
    _staff(client, committed)
    response = client.put("/v1/identity/rules", json={})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_failed"


def test_store_staff_may_look_up_but_not_unmerge(client: TestClient, committed: Database) -> None:
    _merged_world(committed)
    csrf = _staff(client, committed, Role.STORE_STAFF)
    profile_id = _profile(client, phone="0912 345 678")
    response = client.post(f"/v1/profiles/{profile_id}/unmerge", json={"merge_id": 1}, headers=csrf)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(
    "written",
    ["0912-345-678", "+886912345678", "886 912 345 678", "0912345678"],
    ids=["dashed", "e164", "cc", "plain"],
)
def test_lookup_by_any_phone_format(client: TestClient, committed: Database, written: str) -> None:
    _merged_world(committed)
    _staff(client, committed)
    response = client.get("/v1/identity/lookup", params={"phone": written})
    assert response.status_code == 200
    assert response.json() == {
        "profile_id": _profile(client, user_id="c_001"),
        "kind": "phone",
        "value": "+886912345678",
    }


@pytest.mark.parametrize(
    ("query", "field", "rule"),
    [
        ({}, "query", "exactly one of user_id, member_id, email, phone, device_id, anonymous_id"),
        (
            {"phone": "1", "email": "a@b.tw"},
            "query",
            "exactly one of user_id, member_id, email, phone, device_id, anonymous_id",
        ),
        (
            {"shoe_size": "42"},
            "shoe_size",
            "one of user_id, member_id, email, phone, device_id, anonymous_id",
        ),
        ({"phone": "0900-000-000"}, "phone", "placeholder number (repeated digit)"),
        ({"email": "test@test.com"}, "email", "blocked value"),
        ({"user_id": "c_0\x0001"}, "user_id", "contains control characters"),
    ],
    ids=["none", "two", "unknown-kind", "junk-phone", "junk-email", "nul-byte"],
)
def test_bad_lookups_get_a_clear_error(
    client: TestClient, committed: Database, query: dict[str, str], field: str, rule: str
) -> None:
    _staff(client, committed)
    response = client.get("/v1/identity/lookup", params=query)
    assert response.status_code == 422
    assert response.json()["error"]["details"] == [{"field": field, "rule": rule}]


def test_lookup_of_an_unknown_identifier_is_not_found(client: TestClient, committed: Database) -> None:
    _staff(client, committed)
    response = client.get("/v1/identity/lookup", params={"email": "nobody@gmail.com"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "profile_not_found"


def test_explain_shows_identifiers_and_merge_evidence(client: TestClient, committed: Database) -> None:
    _merged_world(committed)
    _staff(client, committed)
    live = _profile(client, user_id="c_001")
    absorbed = _profile(client, user_id="c_001") + 1
    body = client.get(f"/v1/profiles/{absorbed}/identity").json()
    assert (body["profile_id"], body["requested_id"], body["merged_profile_ids"]) == (
        live,
        absorbed,
        [absorbed],
    )
    assert [(i["kind"], i["value"], i["source"]) for i in body["identifiers"]] == [
        ("user_id", "c_001", "web"),
        ("phone", "+886912345678", "web"),
        ("anonymous_id", "laptop", "web"),
        ("anonymous_id", "tablet", "web"),
    ]
    (merge,) = body["merges"]
    assert {
        k: merge[k]
        for k in ("survivor_id", "absorbed_id", "kind", "value", "rule", "message_id", "undone_at")
    } == {
        "survivor_id": live,
        "absorbed_id": absorbed,
        "kind": "anonymous_id",
        "value": "tablet",
        "rule": "same_event",
        "message_id": "login",
        "undone_at": None,
    }


def test_unmerge_over_http_moves_identifiers_and_events(client: TestClient, committed: Database) -> None:
    # given a login that merged a tablet's anonymous visits into a user
    _merged_world(committed)
    csrf = _staff(client, committed, email="lin@shop.example")
    live = _profile(client, user_id="c_001")
    (merge,) = client.get(f"/v1/profiles/{live}/identity").json()["merges"]
    before = [e["value"] for e in client.get(f"/v1/profiles/{live}/events").json()]
    # when an admin undoes it
    response = client.post(f"/v1/profiles/{live}/unmerge", json={"merge_id": merge["id"]}, headers=csrf)
    # then the tablet and its two visits are a person of their own
    assert response.status_code == 200, response.text
    body = response.json()
    assert [(i["kind"], i["value"]) for i in body["moved"]] == [("anonymous_id", "tablet")]
    split = body["new_profile_id"]
    assert _profile(client, anonymous_id="tablet") == split
    assert before == ["c_001", "tablet", "tablet", "c_001"]
    assert [e["value"] for e in client.get(f"/v1/profiles/{split}/events").json()] == ["tablet", "tablet"]
    assert [e["value"] for e in client.get(f"/v1/profiles/{live}/events").json()] == ["c_001", "c_001"]
    undone = client.get(f"/v1/profiles/{live}/identity").json()["merges"][0]
    assert (undone["undone_into_id"], undone["undone_by"]) == (split, "lin@shop.example")
    # and undoing it again is a conflict
    again = client.post(f"/v1/profiles/{live}/unmerge", json={"merge_id": merge["id"]}, headers=csrf)
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("path", "body", "status", "field"),
    [
        ("/v1/profiles/0/unmerge", {"merge_id": 1}, 422, "path.profile_id"),
        ("/v1/profiles/abc/unmerge", {"merge_id": 1}, 422, "path.profile_id"),
        ("/v1/profiles/1/unmerge", {}, 422, "body.merge_id"),
        ("/v1/profiles/1/unmerge", {"merge_id": "x"}, 422, "body.merge_id"),
        ("/v1/profiles/99999999999999999999/unmerge", {"merge_id": 1}, 422, "path.profile_id"),
        ("/v1/profiles/1/unmerge", {"merge_id": 99999999999999999999}, 422, "body.merge_id"),
        ("/v1/profiles/99999/unmerge", {"merge_id": 1}, 404, None),
    ],
    ids=[
        "zero-profile",
        "text-profile",
        "no-merge",
        "text-merge",
        "huge-profile",
        "huge-merge",
        "unknown-profile",
    ],
)
def test_bad_unmerge_requests_get_clear_errors(
    client: TestClient, committed: Database, path: str, body: dict[str, Any], status: int, field: str | None
) -> None:
    csrf = _staff(client, committed)
    response = client.post(path, json=body, headers=csrf)
    assert response.status_code == status
    if field:
        assert [d["field"] for d in response.json()["error"]["details"]] == [field]


def test_rules_can_be_read_and_replaced(client: TestClient, committed: Database) -> None:
    csrf = _staff(client, committed)
    assert client.get("/v1/identity/rules").json()["limits"]["user_id"] == 1
    rules = {
        "priority": ["user_id", "line_id", "email", "anonymous_id"],
        "limits": {"user_id": 2, "line_id": 1},
        "paths": {"line_id": ["traits.line_id"], "email": ["traits.email"]},
        "blocked_values": ["store@shop.tw"],
        "user_id_patterns": {"line_id": r"U[0-9a-f]{32}"},
    }
    assert client.put("/v1/identity/rules", json=rules, headers=csrf).json() == rules
    assert client.get("/v1/identity/rules").json() == rules


@pytest.mark.parametrize(
    ("rules", "field", "rule"),
    [
        (
            {"priority": ["user_id"]},
            "body.priority",
            "List should have at least 2 items after validation, not 1",
        ),
        ({"priority": ["user_id", "email"]}, "body.priority", "Value error, must include anonymous_id"),
        (
            {"priority": ["user_id", "anonymous_id", "Bad Kind"]},
            "body.priority",
            "Value error, kind 'Bad Kind' must match ^[a-z][a-z0-9_]{0,31}$",
        ),
        (
            {"limits": {"email": 0}},
            "body.limits",
            "Value error, the limit of email must be between 1 and 10000",
        ),
        ({"limits": {"fax": 1}}, "body.limits", "Value error, fax is not in priority"),
        (
            {"paths": {"email": ["cookies.email"]}},
            "body.paths",
            "Value error, path 'cookies.email' must look like traits.email or context.device.id",
        ),
        (
            {"paths": {"user_id": ["traits.id"]}},
            "body.paths",
            "Value error, user_id is read from the message itself, not from a path",
        ),
    ],
    ids=[
        "one-kind",
        "no-anonymous",
        "bad-kind",
        "zero-limit",
        "unlisted-limit",
        "bad-path",
        "message-kind-path",
    ],
)
def test_invalid_rules_are_refused_naming_the_field(
    client: TestClient, committed: Database, rules: dict[str, Any], field: str, rule: str
) -> None:
    csrf = _staff(client, committed)
    response = client.put("/v1/identity/rules", json=rules, headers=csrf)
    assert response.status_code == 422
    assert response.json()["error"]["details"] == [{"field": field, "rule": rule}]
