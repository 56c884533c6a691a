"""The journey builder's pages: what the canvas is handed, older versions read only, who may open it."""

from __future__ import annotations

import html
import json
import re
from typing import Any

from fastapi.testclient import TestClient

from omni.accounts.roles import Role
from omni.channels import service as channels_service
from omni.channels.schemas import TemplateSave
from omni.db.engine import Database
from omni.journeys import service as journeys_service
from omni.journeys.schemas import JourneyUpdate
from omni.web.journey_builder import BLANK
from tests.journeys.builders import journey
from tests.profiles.test_routes import _log_in

ENGLISH = {"accept-language": "en"}
CHINESE = {"accept-language": "zh-TW"}
BUILDER_DATA = re.compile(r'<script type="application/json" id="jb-data">(.*?)</script>', re.S)
WAIT = {
    "trigger": {"type": "event", "event": "Checkout Started", "keys": ["cart_id"]},
    "start": "wait",
    "nodes": {
        "wait": {"type": "wait_event", "event": "Order Completed", "keys": ["cart_id"],
                 "timeout": {"hours": 4}, "next": "done", "timeout_next": "done"},
        "done": {"type": "exit"},
    },
}  # fmt: skip


def _builder(page: str) -> dict[str, Any]:
    found = BUILDER_DATA.search(page)
    assert found is not None
    data = json.loads(found.group(1))
    assert isinstance(data, dict)
    return data


def test_a_new_journey_opens_the_builder_with_the_choices_of_this_shop(
    client: TestClient, committed: Database
) -> None:
    # given a marketer and a saved email template
    _log_in(client, committed, Role.MARKETER)
    with committed.unit_of_work() as session:
        channels_service.save_template(
            session, TemplateSave(name="cart_reminder", variants={"email": {"subject": "Hi", "text": "Back"}})
        )
    # when the builder for a new journey is opened
    answer = client.get("/journeys/new", headers=ENGLISH)
    # then it starts from a trigger and an exit, offering the templates, channels and known events
    assert answer.status_code == 200
    data = _builder(answer.text)
    assert (data["definition"], data["journey_id"], data["read_only"]) == (BLANK, None, False)
    assert data["templates"] == [{"name": "cart_reminder", "channels": ["email"], "purpose": "marketing"}]
    assert data["channels"] == ["email", "sms", "whatsapp", "line", "push", "in_app", "webhook", "best"]
    assert {"Order Completed", "Checkout Started"} <= set(data["events"])
    assert 'id="jb-name"' in answer.text
    assert 'id="jb-save"' in answer.text
    assert '<a href="/journeys/new" id="build-journey">' in client.get("/journeys", headers=ENGLISH).text
    assert 'id="jb-publish"' in answer.text
    # and its words come in the page's language
    chinese = client.get("/journeys/new", headers=CHINESE).text
    assert '<span data-word="Add a step here">在此新增步驟</span>' in chinese
    assert '<span data-word="type:wait_event">' in chinese


def test_a_journeys_page_hands_the_builder_its_definition_and_people_per_node(
    client: TestClient, committed: Database
) -> None:
    _log_in(client, committed, Role.MARKETER)
    with committed.unit_of_work() as session:
        journey_id = journey(session, WAIT, name="Cart").id
    page = client.get(f"/journeys/{journey_id}", headers=ENGLISH).text
    data = _builder(page)
    assert data["journey_id"] == journey_id
    assert data["read_only"] is False
    assert data["definition"]["nodes"]["wait"]["timeout_next"] == "done"
    assert data["stats"] == {"wait": {"reached": 0, "here": 0}, "done": {"reached": 0, "here": 0}}
    # an active journey has no drafts: saving publishes, and the page says so
    assert 'id="jb-live"' in page
    assert 'id="jb-save"' not in page
    assert 'id="jb-publish"' in page


def test_an_older_version_is_shown_read_only(client: TestClient, committed: Database) -> None:
    # given a journey saved twice
    _log_in(client, committed, Role.MARKETER)
    with committed.unit_of_work() as session:
        journey_id = journey(session, WAIT, name="Cart").id
        longer = json.loads(json.dumps(WAIT))
        longer["nodes"]["wait"]["timeout"] = {"hours": 8}
        journeys_service.update(session, journey_id, JourneyUpdate(definition=longer), by="test")
    # when version 1 is opened
    old = client.get(f"/journeys/{journey_id}?version=1", headers=ENGLISH)
    # then the builder shows it without the means to change it
    data = _builder(old.text)
    assert data["read_only"] is True
    assert data["definition"]["nodes"]["wait"]["timeout"]["hours"] == 4
    assert 'id="jb-publish"' not in old.text
    assert 'id="older-version"' in old.text
    # and the current version stays editable
    current = client.get(f"/journeys/{journey_id}?version=2", headers=ENGLISH)
    assert _builder(current.text)["read_only"] is False
    assert 'id="jb-publish"' in current.text
    # and a version that does not exist is not found
    assert client.get(f"/journeys/{journey_id}?version=9", headers=ENGLISH).status_code == 404


def test_the_builder_data_cannot_close_its_script_element(client: TestClient, committed: Database) -> None:
    # given an event name that a browser would read as the end of the script element
    _log_in(client, committed, Role.MARKETER)
    sneaky = json.loads(json.dumps(WAIT))
    sneaky["trigger"]["event"] = "</script><script>alert(1)</script>"
    with committed.unit_of_work() as session:
        journey_id = journey(session, sneaky, name="Sneaky").id
    page = client.get(f"/journeys/{journey_id}", headers=ENGLISH).text
    # then the JSON holds it escaped and reads back the same
    assert "<script>alert(1)" not in page
    assert _builder(page)["definition"]["trigger"]["event"] == sneaky["trigger"]["event"]
    assert html.escape(sneaky["trigger"]["event"]) in page  # the JSON editor shows it as text


def test_store_staff_may_not_open_the_builder(client: TestClient, committed: Database) -> None:
    _log_in(client, committed, Role.STORE_STAFF)
    assert client.get("/journeys/new").status_code == 403
