"""The dashboard's Customers pages (omni.web.customer_pages) over HTTP, on both databases."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from omni.accounts.roles import Role
from omni.db.engine import Database
from omni.identity import service as identity_service
from tests.identity.builders import message, profile
from tests.profiles.builders import at, identify, ingest
from tests.profiles.test_routes import _log_in

RESULT_ROWS = re.compile(r'<tr data-profile="(\d+)">')
MERGE_FORMS = re.compile(r'<form method="post" action="/customers/(\d+)/unmerge"')


def _merged_member(database: Database) -> tuple[int, int]:
    """A member whose tablet visit was merged in by a login; returns (profile, merge id)."""
    with database.unit_of_work() as session:
        ingest(
            session,
            identify("crm", user_id="c1", traits={"name": "王小明", "phone": "0912-345-678"}, when=at(30)),
            source="crm",
        )
        ingest(session, message("tablet", anonymous_id="tablet", at=at(20)))
        ingest(session, identify("login", user_id="c1", traits={}, when=at(10), anonymous_id="tablet"))
        live = profile(session, "user_id", "c1")
        (merge,) = identity_service.explain(session, live).merges
        return live, merge.id


def test_search_by_phone_in_another_format_lists_the_member(client: TestClient, committed: Database) -> None:
    _log_in(client, committed, Role.STORE_STAFF)
    live, _ = _merged_member(committed)
    page = client.get("/customers", params={"q": "+886 912 345 678"}, headers={"accept-language": "en"})
    assert page.status_code == 200
    assert RESULT_ROWS.findall(page.text) == [str(live)]
    assert "王小明" in page.text


def test_a_search_that_matches_nobody_says_so(client: TestClient, committed: Database) -> None:
    _log_in(client, committed)
    page = client.get("/customers", params={"q": "陳"}, headers={"accept-language": "en"})
    assert RESULT_ROWS.findall(page.text) == []
    assert "No customer matches that." in page.text


def test_admins_see_an_unmerge_button_and_store_staff_do_not(client: TestClient, committed: Database) -> None:
    live, merge_id = _merged_member(committed)
    _log_in(client, committed, Role.STORE_STAFF)
    staff_page = client.get(f"/customers/{live}")
    _log_in(client, committed, Role.ADMIN)
    admin_page = client.get(f"/customers/{live}")
    assert (staff_page.status_code, admin_page.status_code) == (200, 200)
    assert MERGE_FORMS.findall(staff_page.text) == []
    assert MERGE_FORMS.findall(admin_page.text) == [str(live)]
    assert f'<tr data-merge="{merge_id}">' in staff_page.text


def test_unmerge_through_the_form_splits_the_profile(client: TestClient, committed: Database) -> None:
    live, merge_id = _merged_member(committed)
    csrf = _log_in(client, committed, Role.ADMIN)
    refused = client.post(f"/customers/{live}/unmerge", data={"merge_id": merge_id}, follow_redirects=False)
    done = client.post(
        f"/customers/{live}/unmerge", data={"merge_id": merge_id, "csrf_token": csrf}, follow_redirects=False
    )
    assert refused.status_code == 403
    assert (done.status_code, done.headers["location"]) == (303, f"/customers/{live}?unmerged={merge_id}")
    with committed.unit_of_work() as session:
        assert profile(session, "anonymous_id", "tablet") != live


def test_store_staff_may_not_unmerge(client: TestClient, committed: Database) -> None:
    live, merge_id = _merged_member(committed)
    csrf = _log_in(client, committed, Role.STORE_STAFF)
    answer = client.post(f"/customers/{live}/unmerge", data={"merge_id": merge_id, "csrf_token": csrf})
    assert answer.status_code == 403


def test_profile_page_in_traditional_chinese(client: TestClient, committed: Database) -> None:
    live, _ = _merged_member(committed)
    _log_in(client, committed)
    page = client.get(f"/customers/{live}", headers={"accept-language": "zh-TW"})
    for heading in ("屬性", "同意與訂閱", "身分", "合併紀錄", "時間軸"):
        assert f"<h2>{heading}</h2>" in page.text or f"<h3>{heading}</h3>" in page.text
    assert 'data-channel="crm"' in page.text
