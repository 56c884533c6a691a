"""The Journeys pages: the list with counts, a journey's flow with people per node, the JSON editor."""

from __future__ import annotations

import json
import re
from pathlib import Path

from fastapi.testclient import TestClient

from omni.accounts.roles import Role
from omni.db.engine import Database
from omni.journeys import examples, service, tasks
from omni.journeys.schemas import EntryCreate
from tests.journeys.builders import journey, member, settings_for
from tests.profiles.test_routes import _log_in

ENGLISH = {"accept-language": "en"}
CHINESE = {"accept-language": "zh-TW"}
THANKS = {"trigger": {"type": "api"}, "start": "wait", "nodes": {
    "wait": {"type": "delay", "duration": {"days": 1}, "next": "end"}, "end": {"type": "exit"}}}  # fmt: skip


def test_the_list_and_a_journeys_flow_show_people_per_node_in_both_languages(
    client: TestClient, committed: Database
) -> None:
    # given a journey with one person entered
    _log_in(client, committed, Role.MARKETER)
    with committed.unit_of_work() as session:
        amy = member(session, "c1")
        journey_id = journey(session, THANKS, name="Thank-you").id
        service.enter_by_api(session, journey_id, EntryCreate(profile_id=amy))
    # when the list is opened in each language
    english = client.get("/journeys", headers=ENGLISH).text
    chinese = client.get("/journeys", headers=CHINESE).text
    # then the journey shows with its counts
    row = re.search(rf'<tr data-journey="{journey_id}">(.*?)</tr>', english, re.S)
    assert row is not None
    assert re.findall(r'class="(?:entered|active|converted)">(\d+)<', row.group(1)) == ["1", "1", "0"]
    assert "Active" in row.group(1)
    assert "啟用中" in chinese
    assert "新增旅程" in chinese
    # and the journey's page shows the person at the first node, in flow order
    page = client.get(f"/journeys/{journey_id}", headers=ENGLISH).text
    assert re.findall(r'data-node="(\w+)"', page) == ["wait", "end"]
    wait_box = re.search(r'id="node-wait".*?</li>', page, re.S)
    assert wait_box is not None
    assert '<span class="here">1</span>' in wait_box.group(0)
    assert "Delay" in wait_box.group(0)
    assert "流程" in client.get(f"/journeys/{journey_id}", headers=CHINESE).text


def test_the_editor_names_each_problem_and_saves_a_valid_journey(
    client: TestClient, committed: Database
) -> None:
    csrf = _log_in(client, committed, Role.MARKETER)
    # when a journey with a split that does not sum to 100 is saved
    broken = examples.cart_abandonment(holdout_percent=10)
    broken["nodes"]["split"]["branches"][0]["percent"] = 80
    answer = client.post(
        "/journeys",
        data={"csrf_token": csrf, "name": "Cart", "definition": json.dumps(broken)},
        headers=ENGLISH,
    )
    # then the page says which node is wrong and nothing is saved
    assert answer.status_code == 422
    assert "nodes.split.branches: percentages sum to 90, not 100" in answer.text
    with committed.unit_of_work() as session:
        assert service.list_all(session) == []
    # when the valid example is saved
    saved = client.post(
        "/journeys",
        data={"csrf_token": csrf, "name": "Cart", "definition": json.dumps(examples.cart_abandonment())},
        follow_redirects=False,
    )
    # then it becomes a draft journey and can be activated from its page
    assert saved.status_code == 303
    journey_id = int(saved.headers["location"].rsplit("/", 1)[1])
    client.post(f"/journeys/{journey_id}/status", data={"csrf_token": csrf, "status": "active"})
    with committed.unit_of_work() as session:
        assert service.read(session, journey_id).status == "active"


def test_a_journey_with_a_holdout_shows_the_comparison(
    client: TestClient, committed: Database, tmp_path: Path
) -> None:
    # given 12 people stepped through a 50/50 split with a holdout
    _log_in(client, committed, Role.MARKETER)
    split = {"trigger": {"type": "api"}, "start": "split", "nodes": {
        "split": {"type": "random_split", "branches": [
            {"percent": 50, "next": "end"}, {"percent": 50, "next": "end", "holdout": True}]},
        "end": {"type": "exit"}}, "goal": {"event": "Order Completed"}}  # fmt: skip
    with committed.unit_of_work() as session:
        journey_id = journey(session, split, name="Split").id
        for n in range(12):
            service.enter_by_api(session, journey_id, EntryCreate(profile_id=member(session, f"p{n}")))
    tasks.run_due(committed, settings_for(tmp_path))
    # when its page is opened in Chinese
    page = client.get(f"/journeys/{journey_id}", headers=CHINESE).text
    # then both groups are shown with their people, adding up to everyone
    section = re.search(r'<section class="card" id="holdout">.*?</section>', page, re.S)
    assert section is not None
    rows = re.findall(r"<tr><th>(\S+)</th><td>(\d+)</td><td>(\d+)</td>", section.group(0))
    assert [name for name, _, _ in rows] == ["實驗組", "對照組"]
    assert sum(int(people) for _, people, _ in rows) == 12
    assert "人數尚不足以比較。" in section.group(0)
