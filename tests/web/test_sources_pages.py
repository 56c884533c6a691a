from __future__ import annotations

import re

from fastapi.testclient import TestClient

from omni.accounts.roles import Role
from omni.db.engine import Database
from omni.events import sources as events_sources
from tests.web.test_routes import _csrf, _errors, _log_in, _user

NEW_KEY = re.compile(r'<code class="key">([^<]+)</code>')


def test_admin_creates_a_source_and_sees_its_key_once(client: TestClient, committed: Database) -> None:
    # given an admin on the settings page
    _log_in(client, _user(committed).email)
    token = _csrf(client.get("/settings").text)
    # when they add a web source
    created = client.post("/settings/sources", data={"kind": "web", "name": "webshop", "csrf_token": token})
    # then the page shows the key once, and that key authenticates the source
    assert created.status_code == 200
    key = NEW_KEY.search(created.text)
    assert key is not None
    with committed.unit_of_work() as session:
        source = events_sources.authenticate(session, key.group(1))
        assert source is not None
        assert (source.name, source.kind, source.default_channel) == ("webshop", "web", "web")
    again = client.get("/settings")
    assert NEW_KEY.search(again.text) is None
    assert 'data-source="webshop"' in again.text


def test_invalid_source_is_refused_with_the_reason(client: TestClient, committed: Database) -> None:
    _log_in(client, _user(committed).email)
    token = _csrf(client.get("/settings").text)
    answer = client.post("/settings/sources", data={"kind": "server", "name": "erp", "csrf_token": token})
    assert answer.status_code == 422
    assert _errors(answer.text) == [
        "form: Value error, a server source needs a default_channel (the channel its events belong to)"
    ]


def test_revoking_a_source_stops_its_key(client: TestClient, committed: Database) -> None:
    _log_in(client, _user(committed).email)
    token = _csrf(client.get("/settings").text)
    created = client.post("/settings/sources", data={"kind": "app", "name": "ios", "csrf_token": token})
    key = NEW_KEY.search(created.text)
    assert key is not None
    revoked = client.post("/settings/sources/ios/revoke", data={"csrf_token": token}, follow_redirects=False)
    assert (revoked.status_code, revoked.headers["location"]) == (303, "/settings#sources")
    with committed.unit_of_work() as session:
        assert events_sources.authenticate(session, key.group(1)) is None


def test_marketer_may_not_create_sources(client: TestClient, committed: Database) -> None:
    _log_in(client, _user(committed, Role.MARKETER).email)
    token = _csrf(client.get("/").text)
    answer = client.post("/settings/sources", data={"kind": "web", "name": "x", "csrf_token": token})
    assert answer.status_code == 403
    with committed.unit_of_work() as session:
        assert list(events_sources.list_sources(session)) == []


def test_source_form_needs_the_csrf_token(client: TestClient, committed: Database) -> None:
    _log_in(client, _user(committed).email)
    answer = client.post("/settings/sources", data={"kind": "web", "name": "x"})
    assert answer.status_code == 403
