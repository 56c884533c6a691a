from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from omni.accounts.roles import Role
from omni.db.engine import Database
from omni.identity import review as identity_review
from omni.identity import service as identity_service
from omni.identity.review import Proposal
from tests.identity.builders import message, profile
from tests.profiles.builders import at, ingest
from tests.profiles.test_routes import _log_in

DECIDE_FORMS = re.compile(r'action="/customers/duplicates/(\d+)/(confirm|reject)"')
PAIRS = re.compile(r'data-candidate="(\d+)"')


def _queued_pair(database: Database) -> tuple[int, int, int]:
    """Two profiles of 王小明 with nothing in common but name and birthday, queued; (a, b, candidate)."""
    with database.unit_of_work() as session:
        for n, phone in ((1, "0912345678"), (2, "0955000111")):
            traits = {"name": "王小明", "birthday": "1980-05-17", "phone": phone}
            ingest(session, message(f"m{n}", type="identify", anonymous_id=f"a{n}", traits=traits, at=at(n)))
        a, b = profile(session, "anonymous_id", "a1"), profile(session, "anonymous_id", "a2")
        identity_review.propose_candidates(
            session, [Proposal(a, b, 0.61, 0.64, {"compared_fields": ["phone"]})]
        )
        (candidate,) = identity_review.pending_candidates(session)
    return a, b, candidate.id


@pytest.mark.parametrize(
    ("role", "forms"),
    [
        pytest.param(Role.ADMIN, True, id="admin-decides"),
        pytest.param(Role.MARKETER, True, id="marketer-decides"),
        pytest.param(Role.STORE_STAFF, False, id="store-staff-only-sees"),
    ],
)
def test_the_queue_shows_the_pair_and_forms_to_those_who_decide(
    client: TestClient, committed: Database, role: Role, forms: bool
) -> None:
    a, b, candidate = _queued_pair(committed)
    _log_in(client, committed, role)
    page = client.get("/customers/duplicates")
    assert page.status_code == 200
    assert PAIRS.findall(page.text) == [str(candidate)]
    assert (f'data-profile="{a}"' in page.text, f'data-profile="{b}"' in page.text) == (True, True)
    assert "61.0 %" in page.text
    expected = [(str(candidate), "confirm"), (str(candidate), "reject")] if forms else []
    assert DECIDE_FORMS.findall(page.text) == expected


def test_the_customers_page_links_to_the_queue(client: TestClient, committed: Database) -> None:
    _log_in(client, committed, Role.STORE_STAFF)
    assert 'href="/customers/duplicates"' in client.get("/customers").text


def test_confirming_merges_the_pair(client: TestClient, committed: Database) -> None:
    a, b, candidate = _queued_pair(committed)
    csrf = _log_in(client, committed, Role.MARKETER)
    done = client.post(
        f"/customers/duplicates/{candidate}/confirm", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert (done.status_code, done.headers["location"]) == (303, f"/customers/duplicates?merged={a}")
    with committed.unit_of_work() as session:
        assert identity_service.merged_into(session, b) == a
        assert [m.rule for m in identity_service.explain(session, a).merges] == ["manual_review"]
    assert PAIRS.findall(client.get("/customers/duplicates").text) == []


def test_rejecting_keeps_them_apart_for_good(client: TestClient, committed: Database) -> None:
    a, b, candidate = _queued_pair(committed)
    csrf = _log_in(client, committed, Role.ADMIN)
    done = client.post(
        f"/customers/duplicates/{candidate}/reject", data={"csrf_token": csrf}, follow_redirects=False
    )
    again = client.post(f"/customers/duplicates/{candidate}/reject", data={"csrf_token": csrf})
    assert done.status_code == 303
    assert again.status_code == 409
    assert f"match candidate {candidate} was already rejected" in again.text
    with committed.unit_of_work() as session:
        assert identity_service.merged_into(session, b) == b
        assert identity_review.propose_candidates(session, [Proposal(a, b, 0.7, 1.0)]) == 0


@pytest.mark.parametrize(
    ("role", "with_csrf", "status"),
    [
        pytest.param(Role.STORE_STAFF, True, 403, id="store-staff-403"),
        pytest.param(Role.ADMIN, False, 403, id="no-csrf-403"),
    ],
)
def test_deciding_is_refused(
    client: TestClient, committed: Database, role: Role, with_csrf: bool, status: int
) -> None:
    a, b, candidate = _queued_pair(committed)
    csrf = _log_in(client, committed, role)
    answer = client.post(
        f"/customers/duplicates/{candidate}/confirm", data={"csrf_token": csrf} if with_csrf else {}
    )
    assert answer.status_code == status
    with committed.unit_of_work() as session:
        assert identity_service.merged_into(session, b) == b


@pytest.mark.parametrize(
    ("path", "status"),
    [
        pytest.param("/customers/duplicates/999/confirm", 404, id="unknown-404"),
        pytest.param("/customers/duplicates/0/confirm", 422, id="zero-422"),
        pytest.param("/customers/duplicates/x/reject", 422, id="not-a-number-422"),
    ],
)
def test_bad_candidate_ids_get_clear_errors(
    client: TestClient, committed: Database, path: str, status: int
) -> None:
    csrf = _log_in(client, committed, Role.ADMIN)
    assert client.post(path, data={"csrf_token": csrf}).status_code == status
