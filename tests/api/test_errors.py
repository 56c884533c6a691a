from __future__ import annotations

from fastapi.testclient import TestClient

from omni.app import create_app
from omni.db.engine import Database
from omni.settings import Settings


def _crash() -> None:
    raise RuntimeError("disk on fire")


def test_an_unexpected_error_is_a_500_in_the_one_shape_with_request_id_and_headers(
    committed: Database, settings: Settings
) -> None:
    # given a route that crashes
    app = create_app(settings, committed)
    app.add_api_route("/v1/crash", _crash)
    # when
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/v1/crash", headers={"X-Request-ID": "req-42"})
    # then the crash is hidden from the caller but locatable by its request id
    assert answer.status_code == 500
    assert answer.json() == {
        "error": {
            "code": "internal",
            "message": "an unexpected error occurred; the request id locates it in the logs",
            "details": [],
            "request_id": "req-42",
        }
    }
    assert answer.headers["x-request-id"] == "req-42"
    assert answer.headers["x-frame-options"] == "DENY"
