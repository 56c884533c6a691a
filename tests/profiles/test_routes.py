from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from omni.accounts.roles import Role
from omni.db.engine import Database
from omni.events import service as events_service
from tests.builders import PASSWORD, make_user
from tests.identity.builders import profile
from tests.profiles.builders import at, identify, ingest, order

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]*)"')


def _log_in(client: TestClient, database: Database, role: Role = Role.ADMIN) -> str:
    """Log a new user of role in; return the session's CSRF token for writes."""
    with database.unit_of_work() as session:
        user = make_user(session, role=role)
    token = CSRF_FIELD.search(client.get("/login").text)
    assert token
    client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token.group(1)})
    page = CSRF_FIELD.search(client.get("/customers").text)
    assert page
    return page.group(1)


def _member(database: Database) -> int:
    with database.unit_of_work() as session:
        ingest(
            session,
            identify(
                "crm",
                user_id="c1",
                traits={"name": "王小明", "phone": "0912-345-678", "email_opt_in": True},
                when=at(30),
            ),
            source="crm",
        )
        ingest(session, order("o1", user_id="c1", revenue=1290, when=at(3)))
        return profile(session, "user_id", "c1")


def test_profile_by_id_shows_identities_traits_computed_traits_and_consent(
    client: TestClient, committed: Database
) -> None:
    # given a member, an orders counter, and staff logged in
    csrf = _log_in(client, committed)
    member = _member(committed)
    created = client.post(
        "/v1/computed-traits",
        json={"name": "orders", "aggregation": "count", "event": "Order Completed"},
        headers={"x-csrf-token": csrf},
    )
    assert created.status_code == 201
    # when
    answer = client.get(f"/v1/profiles/{member}")
    # then
    assert answer.status_code == 200
    body = answer.json()
    assert (body["profile_id"], body["requested_id"], body["merged_away"], body["matched"]) == (
        member,
        member,
        False,
        None,
    )
    assert [(i["kind"], i["value"]) for i in body["identities"]] == [
        ("user_id", "c1"),
        ("phone", "+886912345678"),
    ]
    assert {k: (v["value"], v["source"]) for k, v in body["traits"].items()} == {
        "email_opt_in": (True, "crm"),
        "name": ("王小明", "crm"),
        "phone": ("0912-345-678", "crm"),
    }
    assert [(c["name"], c["value"], c["events"]) for c in body["computed_traits"]] == [("orders", 1, 1)]
    assert [
        (c["channel"], c["purpose"], c["status"]) for c in body["consent"] if c["status"] != "unknown"
    ] == [("email", "marketing", "granted")]
    assert len(body["consent"]) == 12


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("phone=%2B886%20912%20345%20678", id="phone-e164-spaced"),
        pytest.param("phone=0912-345-678", id="phone-local-dashes"),
        pytest.param("user_id=c1", id="user-id"),
    ],
)
def test_lookup_by_any_identifier(client: TestClient, committed: Database, query: str) -> None:
    _log_in(client, committed)
    member = _member(committed)
    answer = client.get(f"/v1/profiles?{query}")
    assert answer.status_code == 200
    assert answer.json()["profile_id"] == member
    assert answer.json()["matched"]["kind"] in {"phone", "user_id"}


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        pytest.param("", 400, "profile_lookup_invalid", id="no-key"),
        pytest.param("email=a@b.co&phone=0912345678", 400, "profile_lookup_invalid", id="two-keys"),
        pytest.param("colour=red", 400, "profile_lookup_invalid", id="unknown-key"),
        pytest.param("email=nobody@example.com", 404, "profile_not_found", id="unknown-email"),
        pytest.param("phone=12", 422, "invalid_identifier", id="not-a-phone"),
    ],
)
def test_lookup_errors(client: TestClient, committed: Database, query: str, status: int, code: str) -> None:
    _log_in(client, committed)
    answer = client.get(f"/v1/profiles?{query}")
    assert (answer.status_code, answer.json()["error"]["code"]) == (status, code)


def test_unknown_profile_is_404_json(client: TestClient, committed: Database) -> None:
    _log_in(client, committed)
    answer = client.get("/v1/profiles/999999")
    assert (answer.status_code, answer.json()["error"]["code"]) == (404, "profile_not_found")


def test_profiles_need_a_staff_login(client: TestClient) -> None:
    assert client.get("/v1/profiles/1").status_code == 401


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        pytest.param(
            {"aggregation": "median", "event": "Order Completed"},
            "body.aggregation",
            "Input should be 'count', 'sum', 'avg', 'min', 'max', 'most_frequent', 'first', 'last', "
            "'unique' or 'unique_count'",
            id="unknown-aggregation",
        ),
        pytest.param(
            {"aggregation": "sum", "event": "Order Completed"},
            "property",
            "required for sum",
            id="sum-without-property",
        ),
        pytest.param(
            {"aggregation": "count", "event": "Order Completed", "window_days": 0},
            "body.window_days",
            "Input should be greater than 0",
            id="zero-window",
        ),
        pytest.param(
            {"aggregation": "count", "event": "Order Completed", "window_days": -3},
            "body.window_days",
            "Input should be greater than 0",
            id="negative-window",
        ),
        pytest.param(
            {"aggregation": "count", "event": ""},
            "body.event",
            "String should have at least 1 character",
            id="empty-event",
        ),
    ],
)
def test_computed_trait_validation(
    client: TestClient, committed: Database, body: dict[str, Any], field: str, rule: str
) -> None:
    csrf = _log_in(client, committed)
    answer = client.post("/v1/computed-traits", json={"name": "x", **body}, headers={"x-csrf-token": csrf})
    assert answer.status_code == 422
    assert [(d["field"], d["rule"]) for d in answer.json()["error"]["details"]] == [(field, rule)]


def test_computed_traits_list_and_delete(client: TestClient, committed: Database) -> None:
    csrf = _log_in(client, committed)
    made = client.post(
        "/v1/computed-traits",
        json={
            "name": "revenue_90d",
            "aggregation": "sum",
            "event": "Order Completed",
            "property": "revenue",
            "window_days": 90,
        },
        headers={"x-csrf-token": csrf},
    ).json()
    assert [t["name"] for t in client.get("/v1/computed-traits").json()] == ["revenue_90d"]
    assert (
        client.delete(f"/v1/computed-traits/{made['id']}", headers={"x-csrf-token": csrf}).status_code == 204
    )
    assert client.get("/v1/computed-traits").json() == []
    assert (
        client.delete(f"/v1/computed-traits/{made['id']}", headers={"x-csrf-token": csrf}).status_code == 404
    )


def test_store_staff_read_profiles_but_do_not_define_computed_traits(
    client: TestClient, committed: Database
) -> None:
    csrf = _log_in(client, committed, Role.STORE_STAFF)
    member = _member(committed)
    assert client.get(f"/v1/profiles/{member}").status_code == 200
    answer = client.post(
        "/v1/computed-traits",
        json={"name": "x", "aggregation": "count", "event": "E"},
        headers={"x-csrf-token": csrf},
    )
    assert answer.status_code == 403


def test_put_consent_logs_the_change_and_answers_with_the_new_state(
    client: TestClient, committed: Database
) -> None:
    csrf = _log_in(client, committed, Role.STORE_STAFF)
    member = _member(committed)
    answer = client.put(
        f"/v1/profiles/{member}/consent",
        json={
            "decisions": [
                {"channel": "email", "granted": False},
                {"channel": "line", "purpose": "transactional", "granted": True},
            ]
        },
        headers={"x-csrf-token": csrf},
    )
    assert answer.status_code == 200
    assert {(c["channel"], c["purpose"]): c["status"] for c in answer.json() if c["status"] != "unknown"} == {
        ("email", "marketing"): "denied",
        ("line", "transactional"): "granted",
    }
    with committed.unit_of_work() as session:
        logged = events_service.recent_events(session, limit=2)
        assert sorted((e.event, e.user_id, e.properties["channel"]) for e in logged) == [
            ("Subscribed", "c1", "line"),
            ("Unsubscribed", "c1", "email"),
        ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param(
            {"decisions": [{"channel": "fax", "granted": False}]},
            "body.decisions.0.channel",
            id="unknown-channel",
        ),
        pytest.param(
            {"decisions": [{"channel": "sms", "purpose": "spam", "granted": False}]},
            "body.decisions.0.purpose",
            id="unknown-purpose",
        ),
        pytest.param({"decisions": []}, "body.decisions", id="no-decision"),
    ],
)
def test_put_consent_validation(
    client: TestClient, committed: Database, body: dict[str, Any], field: str
) -> None:
    csrf = _log_in(client, committed)
    member = _member(committed)
    answer = client.put(f"/v1/profiles/{member}/consent", json=body, headers={"x-csrf-token": csrf})
    assert answer.status_code == 422
    assert [d["field"] for d in answer.json()["error"]["details"]] == [field]


def test_put_consent_without_csrf_token_is_refused(client: TestClient, committed: Database) -> None:
    _log_in(client, committed)
    member = _member(committed)
    answer = client.put(
        f"/v1/profiles/{member}/consent", json={"decisions": [{"channel": "sms", "granted": False}]}
    )
    assert (answer.status_code, answer.json()["error"]["code"]) == (403, "csrf_failed")


def test_timeline_pages_over_http(client: TestClient, committed: Database) -> None:
    _log_in(client, committed)
    member = _member(committed)
    first = client.get(f"/v1/profiles/{member}/timeline?limit=1").json()
    second = client.get(f"/v1/profiles/{member}/timeline?limit=1&before={first['next_before']}").json()
    assert [(i["event"], i["channel"], i["source"]) for i in first["items"] + second["items"]] == [
        ("Order Completed", "web", "web"),
        (None, "crm", "crm"),
    ]
    assert second["next_before"] is None
    bad = client.get(f"/v1/profiles/{member}/timeline?before=soon")
    assert (bad.status_code, bad.json()["error"]["details"][0]["field"]) == (422, "before")


def test_trait_source_priority_is_read_by_staff_and_replaced_by_admins(
    client: TestClient, committed: Database
) -> None:
    csrf = _log_in(client, committed)
    assert client.get("/v1/trait-sources").json() == {"priority": ["crm", "pos", "app", "web", "marketplace"]}
    replaced = client.put(
        "/v1/trait-sources", json={"priority": ["pos", "crm"]}, headers={"x-csrf-token": csrf}
    )
    assert replaced.json() == {"priority": ["pos", "crm"]}
    bad = client.put("/v1/trait-sources", json={"priority": ["pos", "pos"]}, headers={"x-csrf-token": csrf})
    assert bad.status_code == 422
