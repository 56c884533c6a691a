"""The 360° view read in one statement: the same answer as reading each part on its own, in fewer trips."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from omni.db.engine import Database
from omni.identity import service as identity_service
from omni.profiles import definitions, repository, service
from omni.profiles.priority import SETTINGS_ROW, save_trait_priority
from omni.profiles.schemas import ComputedTraitCreate, MatchedIdentifier, TraitSourcePriority
from tests.builders import PASSWORD, make_user
from tests.identity.builders import profile
from tests.profiles.builders import NOW, at, identify, ingest, order, track

PROFILE_TABLES = re.compile(r"\bprofile_(trait|consent|computed_input|computed_trait|settings)\b")
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]*)"')


def _define(session: Session, name: str, aggregation: str, **fields: Any) -> None:
    definitions.create(session, ComputedTraitCreate(name=name, aggregation=aggregation, **fields))  # type: ignore[arg-type]


def _member_with_everything(session: Session) -> int:
    """A member stated by the CRM, a till and the web shop, with orders, views, consent, computed traits."""
    _define(session, "orders", "count", event="Order Completed")
    _define(session, "revenue_90d", "sum", event="Order Completed", property="revenue", window_days=90)
    _define(session, "favourite_category", "most_frequent", event="Product Viewed", property="category")
    _define(session, "views", "count", event="Product Viewed")
    ingest(
        session,
        identify("crm-1", user_id="c1", traits={"name": "王小明", "email_opt_in": True}, when=at(30)),
        source="crm",
    )
    ingest(
        session,
        identify("pos-1", user_id="c1", traits={"phone": "0912-000-111"}, when=at(365)),
        source="pos:TPE-XINYI",
    )
    ingest(
        session,
        identify("web-1", user_id="c1", traits={"name": "wang", "phone": "+886 912 000 111"}, when=at(1)),
        order("o-old", user_id="c1", revenue=500, when=at(100)),
        order("o-recent", user_id="c1", revenue=20.5, when=at(10)),
        order("o-future", user_id="c1", revenue=999, when=at(-1)),
        track("v1", "Product Viewed", when=at(3), user_id="c1", properties={"category": "shoes"}),
        track("v2", "Product Viewed", when=at(2), user_id="c1", properties={"category": "shoes"}),
        track("v3", "Product Viewed", when=at(1), user_id="c1", properties={"category": "bags"}),
        track("u1", "SMS Unsubscribed", when=at(2), user_id="c1"),
    )
    # Head office trusts the web shop above the tills, and drops a computed trait it no longer wants.
    save_trait_priority(session, TraitSourcePriority(priority=["crm", "web", "pos"]))
    (views,) = [d for d in definitions.list_all(session) if d.name == "views"]
    definitions.delete(session, views.id)
    return profile(session, "user_id", "c1")


@contextmanager
def _statements(session: Session) -> Iterator[list[str]]:
    """The SQL statements session sends while the block runs."""
    sent: list[str] = []
    connection = session.connection()

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    event.listen(connection, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(connection, "before_cursor_execute", record)


def test_a_lookup_resolves_traits_computed_traits_and_consent_exactly(session: Session) -> None:
    # given a member with statements from three touchpoints, orders in and out of a window, and consent
    live = _member_with_everything(session)
    # when staff look the member up by the phone as a till writes it
    view = service.lookup(session, [("phone", "0912 000 111")], now=NOW)
    # then the view is the member's, each part resolved by its rules
    assert (view.profile_id, view.requested_id, view.merged_away) == (live, live, False)
    assert view.matched == MatchedIdentifier(kind="phone", value="+886912000111")
    assert [(i.kind, i.value) for i in view.identities] == [("user_id", "c1"), ("phone", "+886912000111")]
    assert {name: (t.value, t.source, t.observed_at) for name, t in view.traits.items()} == {
        "email_opt_in": (True, "crm", at(30)),
        "name": ("王小明", "crm", at(30)),
        "phone": ("+886 912 000 111", "web", at(1)),
    }
    assert [(c.name, c.value, c.events) for c in view.computed_traits] == [
        ("orders", 2, 2),
        ("revenue_90d", 20.5, 1),
        ("favourite_category", "shoes", 3),
    ]
    assert {(c.channel, c.purpose): (c.status, c.source) for c in view.consent if c.status != "unknown"} == {
        ("email", "marketing"): ("granted", "crm"),
        ("sms", "marketing"): ("denied", "web"),
    }
    assert len(view.consent) == 12


def test_the_one_statement_view_matches_each_part_read_on_its_own(session: Session) -> None:
    # given the member, read part by part as the dashboard's search results and consent answers do
    live = _member_with_everything(session)
    parts = (
        identity_service.identifiers_of(session, live),
        service.traits_of(session, live),
        service.computed_values_of(session, live, now=NOW),
        service.consent_of(session, live),
    )
    # when the whole view is read at once
    view = service.profile_view(session, live, now=NOW)
    # then it holds exactly the same
    assert (view.identities, view.traits, view.computed_traits, view.consent) == parts


def test_a_lookup_reads_the_profile_tables_in_one_statement(session: Session) -> None:
    # given the member (settings, definitions, traits, consent and computed inputs all present)
    _member_with_everything(session)
    # when looked up
    with _statements(session) as sent:
        service.lookup(session, [("user_id", "c1")], now=NOW)
    # then the profile domain's rules and facts come in one round trip
    assert len([statement for statement in sent if PROFILE_TABLES.search(statement)]) == 1


def test_a_person_with_more_events_than_sqlite_binds_parameters_is_read_whole(session: Session) -> None:
    # given a regular with 33,000 page views (SQLite binds at most 32,766 parameters to a statement)
    _define(session, "views", "count", event="Product Viewed")
    views = [
        track(f"v{n}", "Product Viewed", when=at(1, hours=n / 3600), user_id="c1", properties={"n": n})
        for n in range(33_000)
    ]
    ingest(session, identify("i1", user_id="c1", traits={"name": "常客"}, when=at(1)), *views)
    # when looked up
    view = service.lookup(session, [("user_id", "c1")], now=NOW)
    # then every event counts
    assert [(c.name, c.value) for c in view.computed_traits] == [("views", 33_000)]
    assert view.traits["name"].value == "常客"


@pytest.mark.parametrize(
    "positions", [pytest.param([], id="no-events"), pytest.param([10**12], id="events-never-indexed")]
)
def test_facts_of_positions_with_nothing_recorded_are_empty_but_the_rules_still_come(
    session: Session, positions: list[int]
) -> None:
    # given a computed trait and a saved priority
    _define(session, "orders", "count", event="Order Completed")
    save_trait_priority(session, TraitSourcePriority(priority=["pos", "crm"]))
    # when the facts of positions nothing was recorded for are read
    facts = repository.profile_facts(session, positions, settings_row=SETTINGS_ROW)
    # then there are none, and the settings and definitions are there all the same
    assert (facts.observations, facts.decisions, facts.inputs) == ([], [], [])
    assert facts.settings == {"trait_priority": ["pos", "crm"]}
    assert [(d[1], d[2], d[3]) for d in facts.definitions] == [("orders", "count", "Order Completed")]


def _log_in(client: TestClient, database: Database) -> None:
    with database.unit_of_work() as session:
        user = make_user(session)
    token = CSRF_FIELD.search(client.get("/login").text)
    assert token
    client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token.group(1)})


@pytest.mark.parametrize("clients", [pytest.param(8, id="8-concurrent-clients")])
def test_concurrent_lookups_each_answer_the_person_asked_for(
    client: TestClient, committed: Database, clients: int
) -> None:
    # given 24 members, each with a phone and a name of their own
    _log_in(client, committed)
    members = range(24)
    with committed.unit_of_work() as session:
        ingest(
            session,
            *(
                identify(
                    f"m{n}",
                    user_id=f"c{n}",
                    traits={"name": f"member {n}", "phone": f"0912-000-{n:03d}"},
                    when=at(1),
                )
                for n in members
            ),
            source="crm",
        )
    start = threading.Barrier(clients)

    def look_up(worker: int) -> list[tuple[int, int, str]]:
        start.wait()
        answers = []
        for n in [*members][worker::clients] * 3:
            answer = client.get(f"/v1/profiles?phone=0912-000-{n:03d}")
            answers.append((n, answer.status_code, answer.json()["traits"]["name"]["value"]))
        return answers

    # when as many clients look them up at once, three rounds each
    with ThreadPoolExecutor(clients) as pool:
        answers = [answer for batch in pool.map(look_up, range(clients)) for answer in batch]
    # then every answer is the member asked for
    assert sorted(answers) == sorted((n, 200, f"member {n}") for n in members for _ in range(3))


def test_a_priority_change_shows_in_the_next_lookup(client: TestClient, committed: Database) -> None:
    # given a member whose till and web shop disagree on the phone
    _log_in(client, committed)
    with committed.unit_of_work() as session:
        ingest(
            session,
            identify("pos-1", user_id="c1", traits={"phone": "0912-000-111"}, when=at(365)),
            source="pos:TPE-XINYI",
        )
        ingest(session, identify("web-1", user_id="c1", traits={"phone": "+886 912 000 111"}, when=at(1)))
    before = client.get("/v1/profiles?user_id=c1").json()["traits"]["phone"]["source"]
    # when head office puts the web shop first
    page = CSRF_FIELD.search(client.get("/customers").text)
    assert page
    replaced = client.put(
        "/v1/trait-sources", json={"priority": ["web", "pos"]}, headers={"x-csrf-token": page.group(1)}
    )
    assert replaced.status_code == 200
    # then the very next lookup follows it
    after = client.get("/v1/profiles?user_id=c1").json()["traits"]["phone"]["source"]
    assert (before, after) == ("pos:TPE-XINYI", "web")
