"""The segments API end to end over HTTP, on both engines."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient

from omni.accounts.roles import Role
from omni.db.engine import Database
from tests.profiles.test_routes import _log_in
from tests.segments.builders import person, shop

SHOE_BROWSERS = {
    "all": [
        {
            "event": "Product Viewed",
            "min_times": 3,
            "within_days": 7,
            "where": [{"property": "category", "op": "eq", "value": "鞋"}],
        },
        {"not": {"event": "Order Completed"}},
    ]
}


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture
def shop_db(committed: Database) -> Database:
    with committed.unit_of_work() as session:
        shop(session)
    return committed


def _ids(database: Database, *names: str) -> list[int]:
    with database.unit_of_work() as session:
        return [person(session, name) for name in names]


def test_save_estimate_recompute_members_and_why(client: TestClient, shop_db: Database) -> None:
    csrf = _log_in(client, shop_db, Role.MARKETER)
    headers = {"x-csrf-token": csrf}
    # when a marketer estimates then saves the shoe browsers (the shop's data is relative to its NOW)
    everyone = {"event": "Product Viewed", "where": [{"property": "category", "value": "鞋"}]}
    estimate = client.post("/v1/segments/estimate", json={"definition": everyone}, headers=headers)
    created = client.post(
        "/v1/segments", json={"key": "shoe_fans", "name": "鞋迷", "definition": everyone}, headers=headers
    )
    # then the estimate and the stored size agree
    assert estimate.status_code == 200
    assert estimate.json() == {"size": 2, "population": 5}
    assert created.status_code == 201
    body = created.json()
    assert (body["size"], body["current_version"], body["computed_version"]) == (2, 1, 1)
    segment_id = body["id"]
    ann, bob = _ids(shop_db, "ann", "bob")
    members = client.get(f"/v1/segments/{segment_id}/members", params={"limit": 1})
    assert members.json()["items"][0]["profile_id"] == min(ann, bob)
    assert members.json()["next_after"] == min(ann, bob)
    why = client.get(f"/v1/segments/{segment_id}/members/{bob}/why").json()
    assert (why["member"], why["held"], len(why["why"]["events"])) == (True, True, 2)
    # and a new version through PATCH is recomputed
    patched = client.patch(f"/v1/segments/{segment_id}", json={"definition": SHOE_BROWSERS}, headers=headers)
    assert patched.status_code == 200
    assert (patched.json()["current_version"], patched.json()["computed_version"]) == (2, 2)
    listed = {s["key"]: s["size"] for s in client.get("/v1/segments").json()}
    assert listed == {"shoe_fans": 0}  # the shop's views are months before the real now


def test_a_bad_definition_is_422_with_the_path_and_nothing_is_saved(
    client: TestClient, shop_db: Database
) -> None:
    headers = {"x-csrf-token": _log_in(client, shop_db, Role.MARKETER)}
    # given a refers to b
    client.post(
        "/v1/segments",
        json={"key": "b", "name": "B", "definition": {"trait": "city", "value": "x"}},
        headers=headers,
    )
    client.post(
        "/v1/segments", json={"key": "a", "name": "A", "definition": {"segment": "b"}}, headers=headers
    )
    # when b is changed to refer to a, and when an unknown property type is used
    b_id = next(s["id"] for s in client.get("/v1/segments").json() if s["key"] == "b")
    cycle = client.patch(
        f"/v1/segments/{b_id}", json={"definition": {"any": [{"segment": "a"}]}}, headers=headers
    )
    bad_type = client.post(
        "/v1/segments",
        json={"key": "c", "name": "C", "definition": {"event": "Product Viewed", "within_days": -3}},
        headers=headers,
    )
    # then
    assert cycle.status_code == 422
    assert cycle.json()["error"]["details"] == [
        {"field": "$.any[0].segment", "rule": "no cycle between segments; b -> a -> b leads back"}
    ]
    assert bad_type.status_code == 422
    assert bad_type.json()["error"]["details"] == [
        {"field": "$.within_days", "rule": "a whole number from 1 to 3650"}
    ]
    assert client.get(f"/v1/segments/{b_id}/versions").json()[0]["version"] == 1
    assert sorted(s["key"] for s in client.get("/v1/segments").json()) == ["a", "b"]


def test_tags_on_a_person_are_usable_in_segments(client: TestClient, shop_db: Database) -> None:
    headers = {"x-csrf-token": _log_in(client, shop_db)}
    (cai,) = _ids(shop_db, "cai")
    # when
    added = client.post(f"/v1/profiles/{cai}/tags", json={"tag": "團購主"}, headers=headers)
    client.post(f"/v1/profiles/{cai}/tags", json={"tag": "vip-list"}, headers=headers)
    created = client.post(
        "/v1/segments",
        json={"key": "buyers", "name": "團購", "definition": {"tag": "團購主"}},
        headers=headers,
    )
    removed = client.delete(f"/v1/profiles/{cai}/tags/vip-list", headers=headers)
    bad = client.post(f"/v1/profiles/{cai}/tags", json={"tag": "a,b"}, headers=headers)
    # then
    assert added.json() == {"profile_id": cai, "tags": ["團購主"]}
    assert created.json()["size"] == 1
    assert removed.json() == {"profile_id": cai, "tags": ["團購主"]}
    assert bad.status_code == 422


def test_audience_files_normalise_each_by_its_platform_rules(client: TestClient, committed: Database) -> None:
    from tests.segments.builders import at, identify, ingest

    with committed.unit_of_work() as session:
        ingest(
            session,
            identify(
                "x",
                user_id="x1",
                traits={
                    "email": " Mary.Chen@Example.COM ",
                    "phone": "0912-345-678",
                    "first_name": "Mary-Ann",
                    "last_name": "陳",
                },
                when=at(1),
            ),
        )
    headers = {"x-csrf-token": _log_in(client, committed)}
    segment = client.post(
        "/v1/segments",
        json={"key": "all", "name": "All", "definition": {"trait": "email", "op": "exists"}},
        headers=headers,
    ).json()
    # when
    google = client.get(f"/v1/segments/{segment['id']}/export/google").text.splitlines()
    meta = client.get(f"/v1/segments/{segment['id']}/export/meta").text.splitlines()
    plain = client.get(f"/v1/segments/{segment['id']}/export/csv").text.splitlines()
    # then Google hashes +886…, Meta hashes the digits only; Meta's names are a–z only (陳 drops out)
    assert google == [
        "Email,Phone,First Name,Last Name",
        f"{_sha('mary.chen@example.com')},{_sha('+886912345678')},{_sha('mary-ann')},{_sha('陳')}",
    ]
    assert meta == [
        "EMAIL,PHONE,FN,LN",
        f"{_sha('mary.chen@example.com')},{_sha('886912345678')},{_sha('maryann')},",
    ]
    assert plain[0] == "profile_id,email,phone,name"
    assert plain[1].endswith(",mary.chen@example.com,+886912345678,Mary-Ann 陳")


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], dict[str, Any]]] = []
    answer = 204

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers), json.loads(body)))
        self.send_response(type(self).answer)
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        return


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[_Receiver]]]:
    handler = type("Receiver", (_Receiver,), {"received": [], "answer": 204})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/audiences", handler
    server.shutdown()
    server.server_close()


def test_a_webhook_export_posts_the_members_and_records_the_outcome(
    client: TestClient, shop_db: Database, receiver: tuple[str, type[_Receiver]]
) -> None:
    url, handler = receiver
    headers = {"x-csrf-token": _log_in(client, shop_db, Role.MARKETER)}
    segment = client.post(
        "/v1/segments",
        json={"key": "taipei", "name": "台北", "definition": {"trait": "city", "value": "台北市"}},
        headers=headers,
    ).json()
    # when
    delivered = client.post(
        f"/v1/segments/{segment['id']}/export/webhook", json={"url": url}, headers=headers
    )
    handler.answer = 500
    failed = client.post(f"/v1/segments/{segment['id']}/export/webhook", json={"url": url}, headers=headers)
    # then the receiver got both people of Taipei once per export, keyed for idempotence
    ann, bob = _ids(shop_db, "ann", "bob")
    assert delivered.status_code == 200
    assert (delivered.json()["status"], delivered.json()["response_status"]) == ("delivered", 204)
    sent_headers, document = handler.received[0]
    assert sent_headers["Idempotency-Key"] == f"segment-export-{delivered.json()['id']}"
    assert document["segment"]["key"] == "taipei"
    assert [(m["profile_id"], m["emails"]) for m in document["members"]] == [
        (ann, ["ann@example.com"]),
        (bob, ["bob@example.com"]),
    ]
    assert failed.status_code == 502
    assert failed.json()["error"]["code"] == "segment_export_failed"
    assert len(handler.received) == 2
