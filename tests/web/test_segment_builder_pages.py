"""The segment builder's routes: its vocabulary, problems named by path, refused saves kept for editing."""

from __future__ import annotations

import html
import json
import re

import pytest
from fastapi.testclient import TestClient

from omni.accounts.roles import Role
from omni.db.engine import Database
from omni.segments import predefined
from omni.segments import service as segments_service
from tests.builders import make_location
from tests.profiles.test_routes import _log_in
from tests.segments.builders import make_segment, person, shop

ENGLISH = {"accept-language": "en"}
CHINESE = {"accept-language": "zh-TW"}
TEXTAREA = re.compile(r'<textarea name="definition"[^>]*>(.*?)</textarea>', re.S)
PROBLEMS = re.compile(r'<span hidden data-problem="([^"]*)">(.*?)</span>')
CONTRADICTION = {"all": [{"event": "Product Viewed", "min_times": 3, "max_times": 1}]}


def _textarea(page: str) -> object:
    match = TEXTAREA.search(page)
    assert match, "the page has no definition textarea"
    return json.loads(html.unescape(match.group(1)))


def _problems(page: str) -> list[tuple[str, str]]:
    return [(field, html.unescape(rule)) for field, rule in PROBLEMS.findall(page)]


def test_the_vocabulary_offers_what_the_store_knows_in_the_page_language(
    client: TestClient, committed: Database
) -> None:
    # given a store with shoppers, a tag, a store location and the predefined segments
    with committed.unit_of_work() as session:
        shop(session)
        make_location(session, code="TPE-XINYI")
        segments_service.add_tag(session, person(session, "ann"), "vip-list", by="test")
        predefined.ensure(session)
    _log_in(client, committed, Role.MARKETER)
    # when
    english = client.get("/segments/vocabulary", headers=ENGLISH)
    chinese = client.get("/segments/vocabulary", headers=CHINESE).json()
    # then
    assert english.status_code == 200
    words = english.json()
    values = {name: [o["value"] for o in words[name]] for name in ("traits", "events", "channels")}
    assert {"city", "age", "email_opt_in", "member_tier"} <= set(values["traits"])
    assert {"Product Viewed", "Order Completed", "Cart Viewed"} <= set(values["events"])
    assert {"web", "pos", "app", "crm"} <= set(values["channels"])
    assert words["tags"] == ["vip-list"]
    assert words["stores"] == [{"value": "TPE-XINYI", "label": "Xinyi"}]
    assert chinese["stores"] == [{"value": "TPE-XINYI", "label": "信義店"}]
    assert {"value": "repeat_buyers", "label": "Repeat buyers"} in words["segments"]
    assert {"value": "repeat_buyers", "label": "回購顧客"} in chinese["segments"]
    assert {"value": "pos", "label": "門市 POS"} in chinese["channels"]
    assert (words["max_depth"], words["currency"], words["currency_digits"]) == (4, "TWD", 2)
    assert words["reachable_channels"] == ["email", "sms", "whatsapp", "line", "push"]


@pytest.mark.parametrize(
    ("role", "status"),
    [pytest.param(Role.MARKETER, 200, id="marketer"), pytest.param(Role.STORE_STAFF, 403, id="store-staff")],
)
def test_only_segment_users_may_read_the_vocabulary(
    client: TestClient, committed: Database, role: Role, status: int
) -> None:
    _log_in(client, committed, role)
    assert client.get("/segments/vocabulary").status_code == status


def test_the_estimate_names_each_problem_by_its_path_for_the_rows(
    client: TestClient, committed: Database
) -> None:
    with committed.unit_of_work() as session:
        shop(session)
    csrf = _log_in(client, committed, Role.MARKETER)
    # when
    answer = client.post(
        "/segments/estimate",
        data={"csrf_token": csrf, "key": "", "definition": json.dumps(CONTRADICTION)},
        headers=ENGLISH,
    )
    # then
    assert answer.status_code == 200
    assert 'data-estimate="invalid"' in answer.text
    assert _problems(answer.text) == [("$.all[0].max_times", "not below min_times (3)")]


def test_a_new_segment_starts_as_an_empty_builder_in_the_page_language(
    client: TestClient, committed: Database
) -> None:
    _log_in(client, committed, Role.MARKETER)
    # when
    page = client.get("/segments", headers=CHINESE).text
    # then
    assert 'data-segment-builder data-state="loading"' in page
    assert _textarea(page) == {"all": []}
    assert '<script type="module" src="/static/js/segment_builder.js"></script>' in page
    assert '<span data-word="Add condition">新增條件</span>' in page
    assert '<span data-word="Did not perform event">未做過事件</span>' in page


def test_a_refused_new_segment_comes_back_with_its_rows_and_the_path_of_the_problem(
    client: TestClient, committed: Database
) -> None:
    with committed.unit_of_work() as session:
        shop(session)
    csrf = _log_in(client, committed, Role.MARKETER)
    # when
    answer = client.post(
        "/segments",
        data={"csrf_token": csrf, "key": "shoes", "name": "Shoes", "definition": json.dumps(CONTRADICTION)},
        headers=ENGLISH,
    )
    # then
    assert answer.status_code == 422
    assert _textarea(answer.text) == CONTRADICTION
    assert _problems(answer.text) == [("$.all[0].max_times", "not below min_times (3)")]
    assert 'value="shoes"' in answer.text
    with committed.unit_of_work() as session:
        assert segments_service.by_key(session, "shoes") is None


def test_a_refused_new_version_stays_on_the_segment_page_with_the_edited_rows(
    client: TestClient, committed: Database
) -> None:
    # given a saved segment
    viewers = {"all": [{"event": "Product Viewed", "min_times": 3}]}
    with committed.unit_of_work() as session:
        shop(session)
        segment_id = make_segment(session, "viewers", viewers, name="Viewers")
    csrf = _log_in(client, committed, Role.MARKETER)
    # when its page is opened, and a contradicting version is saved from it
    opened = client.get(f"/segments/{segment_id}", headers=ENGLISH)
    refused = client.post(
        "/segments",
        data={
            "csrf_token": csrf,
            "segment_id": str(segment_id),
            "key": "viewers",
            "name": "Viewers",
            "definition": json.dumps(CONTRADICTION),
        },
        headers=ENGLISH,
    )
    # then the page shows the stored definition for the builder, then the refused one with its problem
    assert _textarea(opened.text) == viewers
    assert refused.status_code == 422
    assert "<h1>Viewers" in refused.text
    assert _textarea(refused.text) == CONTRADICTION
    assert _problems(refused.text) == [("$.all[0].max_times", "not below min_times (3)")]
    with committed.unit_of_work() as session:
        stored = segments_service.read(session, segment_id)
    assert (stored.current_version, stored.definition) == (1, viewers)


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        pytest.param("/static/js/segment_builder.js", "javascript", id="builder"),
        pytest.param("/static/js/segment_grammar.js", "javascript", id="grammar"),
        pytest.param("/static/js/segment_rows.js", "javascript", id="rows"),
        pytest.param("/static/css/segment_builder.css", "text/css", id="style"),
    ],
)
def test_the_builder_modules_and_style_are_served(client: TestClient, path: str, kind: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 200
    assert kind in answer.headers["content-type"]
