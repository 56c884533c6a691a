"""The Segments section of the dashboard: list with sizes, builder with a live estimate, members and why."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from omni.accounts.roles import Role
from omni.db.engine import Database
from omni.segments import membership, predefined
from tests.profiles.test_routes import _log_in
from tests.segments.builders import person, shop

ENGLISH = {"accept-language": "en"}
CHINESE = {"accept-language": "zh-TW"}
TAIPEI = '{"trait": "city", "value": "台北市"}'


def test_the_list_shows_predefined_segments_with_sizes_in_both_languages(
    client: TestClient, committed: Database
) -> None:
    with committed.unit_of_work() as session:
        shop(session)
        predefined.ensure(session)
        membership.recompute_all(session)
    _log_in(client, committed, Role.MARKETER)
    # when
    english = client.get("/segments", headers=ENGLISH)
    chinese = client.get("/segments", headers=CHINESE)
    # then repeat buyers (bob) shows one member, named in each language
    assert english.status_code == 200
    row = re.search(r'<tr data-segment="repeat_buyers">(.*?)</tr>', english.text, re.S)
    assert row is not None
    assert "Repeat buyers" in row.group(1)
    assert '<td class="size">1</td>' in row.group(1)
    assert "回購顧客" in chinese.text
    assert "新增分眾" in chinese.text


def test_the_builder_estimates_while_typing_and_names_the_problem(
    client: TestClient, committed: Database
) -> None:
    with committed.unit_of_work() as session:
        shop(session)
    csrf = _log_in(client, committed, Role.MARKETER)
    form = {"csrf_token": csrf, "key": "", "name": "x"}
    # when
    good = client.post("/segments/estimate", data={**form, "definition": TAIPEI}, headers=ENGLISH)
    unknown = client.post(
        "/segments/estimate", data={**form, "definition": '{"all": [{"trait": "shoe"}]}'}, headers=ENGLISH
    )
    broken = client.post("/segments/estimate", data={**form, "definition": "{"}, headers=ENGLISH)
    # then
    assert 'data-estimate="2"' in good.text
    assert "About 2 of 5 customers" in good.text
    assert "$.all[0].trait: a known trait; &#39;shoe&#39; is not one" in unknown.text
    assert "JSON: Expecting property name enclosed in double quotes" in broken.text


def test_saving_from_the_builder_computes_members_and_why_is_one_click_away(
    client: TestClient, committed: Database
) -> None:
    with committed.unit_of_work() as session:
        shop(session)
        ann = person(session, "ann")
    csrf = _log_in(client, committed, Role.MARKETER)
    # when
    saved = client.post(
        "/segments",
        data={"csrf_token": csrf, "key": "taipei", "name": "台北人", "definition": TAIPEI},
        follow_redirects=False,
    )
    refused = client.post(
        "/segments",
        data={"csrf_token": csrf, "key": "bad", "name": "Bad", "definition": '{"event": "Nope"}'},
        headers=ENGLISH,
    )
    # then
    assert saved.status_code == 303
    page = client.get(saved.headers["location"], headers=ENGLISH)
    assert 'data-size="2"' in page.text
    assert f'href="/segments/{saved.headers["location"].rsplit("/", 1)[1]}/why/{ann}"' in page.text
    why = client.get(f"{saved.headers['location']}/why/{ann}", headers=ENGLISH)
    assert 'data-path="$" data-held="true"' in why.text
    assert "city = 台北市 (from web)" in why.text
    assert refused.status_code == 422
    assert "$.event: a known event; &#39;Nope&#39; is not one" in refused.text
