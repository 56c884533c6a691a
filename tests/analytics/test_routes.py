"""The analytics API over HTTP: who may call it, JSON and CSV answers, refused input; and the page."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from omni.accounts.roles import Role
from omni.db.engine import Database
from omni.segments import service as segments_service
from tests.analytics.builders import make_shop
from tests.analytics.test_segment_filter import tagged_segment
from tests.builders import PASSWORD, make_user

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]*)"')


def _log_in(client: TestClient, database: Database, role: Role) -> None:
    with database.unit_of_work() as session:
        user = make_user(session, role=role)
    token = CSRF_FIELD.search(client.get("/login").text)
    assert token
    client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token.group(1)})


def _shop(database: Database) -> dict[str, int]:
    with database.unit_of_work() as session:
        return make_shop(session)


def test_staff_outside_head_office_may_not_read_analytics(client: TestClient, committed: Database) -> None:
    assert client.get("/v1/analytics/omnichannel").status_code == 401
    _log_in(client, committed, Role.STORE_STAFF)
    answer = client.get("/v1/analytics/omnichannel")
    assert (answer.status_code, answer.json()["error"]["code"]) == (403, "forbidden")


def test_a_marketer_reads_a_chart_as_json_and_its_table_as_csv(
    client: TestClient, committed: Database
) -> None:
    _shop(committed)
    _log_in(client, committed, Role.MARKETER)
    data = client.get("/v1/analytics/purchases/channels").json()
    csv_answer = client.get("/v1/analytics/purchases/channels", params={"channel": "pos", "format": "csv"})
    assert data["rows"] == [["pos", 2, 130000, 65000, 3, 1.5], ["web", 1, 200000, 200000, 1, 1.0]]
    assert csv_answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert csv_answer.text == (
        "\ufeffchannel,orders,revenue_minor,aov_minor,items,basket_size\r\npos,2,130000,65000,3,1.5\r\n"
    )


def test_the_people_who_dropped_come_as_json_and_csv(client: TestClient, committed: Database) -> None:
    people = _shop(committed)
    _log_in(client, committed, Role.ADMIN)
    params: dict[str, str | int] = {"steps": "Product Viewed,Product Added,Order Completed", "step": 3}
    dropped = client.get("/v1/analytics/funnel/dropped", params=params).json()
    listed = client.get("/v1/analytics/funnel/dropped", params={**params, "format": "csv"}).text
    assert dropped == {"step": 3, "event": "Order Completed", "profile_ids": [people["u2"]]}
    assert listed == f"\ufeffprofile_id\r\n{people['u2']}\r\n"


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        (
            "/v1/analytics/funnel",
            {"steps": '[{"event": "A"}, {"event": "B", "within_hours": -1}]'},
            "steps[1].within_hours",
        ),
        ("/v1/analytics/funnel", {"steps": "A,B", "window_hours": 0}, "window_hours"),
        ("/v1/analytics/funnel/dropped", {"steps": "A,B", "step": 3}, "step"),
        ("/v1/analytics/retention", {"since": "2026-05-02", "until": "2026-05-01"}, "until"),
        ("/v1/analytics/retention", {"by": "weather"}, "by"),
        ("/v1/analytics/omnichannel", {"segment": "no_such_segment"}, "segment"),
        ("/v1/analytics/funnel", {"steps": "A,B", "segment": "999999"}, "segment"),
    ],
    ids=[
        "negative-limit",
        "zero-window",
        "step-beyond-funnel",
        "backwards-dates",
        "unknown-cohort",
        "unknown-segment-key",
        "unknown-segment-id",
    ],
)
def test_bad_input_is_refused_naming_the_field(
    client: TestClient, committed: Database, path: str, params: dict[str, str | int], field: str
) -> None:
    _log_in(client, committed, Role.MARKETER)
    answer = client.get(path, params=params)
    assert answer.status_code == 422
    assert field in str(answer.json()["error"]["details"])


def test_the_analytics_page_names_each_charts_data_and_download(
    client: TestClient, committed: Database
) -> None:
    _log_in(client, committed, Role.MARKETER)
    page = client.get(
        "/analytics", params={"channel": "pos", "breakdown": "channel"}, headers={"accept-language": "en"}
    )
    assert page.status_code == 200
    sources = re.findall(r'data-src="([^"]*)"', page.text)
    assert sources[0].startswith("/v1/analytics/funnel?channel=pos&amp;steps=")
    assert "/v1/analytics/omnichannel?channel=pos" in sources
    assert len(sources) == 11
    assert 'href="/v1/analytics/omnichannel?channel=pos&amp;format=csv"' in page.text
    assert '<script src="/static/js/analytics.js" defer></script>' in page.text


def test_a_segment_is_made_of_the_people_who_dropped(client: TestClient, committed: Database) -> None:
    # given the shop, where u2 added to cart but never bought
    people = _shop(committed)
    token = _log_in_for_writes(client, committed)
    params: dict[str, str | int] = {"steps": "Product Viewed,Product Added,Order Completed", "step": 3}
    # when a marketer makes a segment of who dropped before buying
    made = client.post(
        "/v1/analytics/funnel/dropped/segment",
        params=params,
        json={"key": "dropped_before_buying", "name": "加入購物車未購買"},
        headers={"x-csrf-token": token},
    )
    # then the segment holds exactly them, and a second one of the same key is refused
    assert made.status_code == 201
    body = made.json()
    assert (body["key"], body["size"], body["profile_ids"]) == ("dropped_before_buying", 1, [people["u2"]])
    with committed.unit_of_work() as session:
        members = segments_service.members(session, body["segment_id"])
    assert [m.profile_id for m in members.items] == [people["u2"]]
    again = client.post(
        "/v1/analytics/funnel/dropped/segment",
        params=params,
        json={"key": "dropped_before_buying", "name": "again"},
        headers={"x-csrf-token": token},
    )
    assert again.status_code == 409


def _log_in_for_writes(client: TestClient, database: Database) -> str:
    _log_in(client, database, Role.MARKETER)
    page = CSRF_FIELD.search(client.get("/customers").text)
    assert page
    return page.group(1)


def test_a_segment_narrows_the_charts_and_is_picked_on_the_page(
    client: TestClient, committed: Database
) -> None:
    # given the shop and a segment of u1 and u2, tagged and computed
    people = _shop(committed)
    with committed.unit_of_work() as session:
        tagged_segment(session, "vip", [people["u1"], people["u2"]])
    _log_in(client, committed, Role.MARKETER)
    # when the funnel and the omnichannel chart are read for the segment
    funnel = client.get(
        "/v1/analytics/funnel",
        params={
            "steps": "Product Viewed,Product Added,Order Completed",
            "segment": "vip",
            "breakdown": "segment",
        },
    ).json()
    both = client.get("/v1/analytics/omnichannel", params={"segment": "vip", "format": "csv"}).text
    page = client.get("/analytics", params={"segment": "vip"}, headers={"accept-language": "en"})
    # then only the members count, and every chart on the page is drawn for the segment
    assert [s["people"] for s in funnel["steps"]] == [2, 2, 1]
    assert (funnel["filters"]["segment"], funnel["breakdown"]) == ("vip", "segment")
    assert [row[0] for row in funnel["rows"]] == ["all"] * 3 + ["vip"] * 3
    assert both.splitlines()[1:] == [
        "omnichannel,1,2,300000,300000,2.0,1,1,1.0",
        "single_channel,0,0,0,0,0.0,0,0,0.0",
    ]
    sources = re.findall(r'data-src="([^"]*)"', page.text)
    assert len(sources) == 11
    assert all("segment=vip" in source for source in sources)
    assert '<option value="vip" selected>vip</option>' in page.text
