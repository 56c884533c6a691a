"""The SQL plan of funnels gives the walker's answer, on SQLite, PostgreSQL and DuckDB over the export.

Seeded random shoppers, written straight into the tables the analyses read: times on a minute grid
(ties between events, events exactly on the window's edge) plus a few with microseconds, several
starts per person, other events between the steps, and channels and stores to break down and filter by.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from itertools import groupby
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from omni.analytics import funnel_export, funnel_sql, funnels, repository, timelines
from omni.analytics.schemas import AnalyticsFilters
from omni.identity.models import EventAttribution, Identifier, IdentityProfile
from omni.profiles.models import ProfileActivity
from omni.segments import compile as c
from omni.segments.models import SegmentMember
from tests.segments.builders import make_segment

T0 = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
ZONE = ZoneInfo("Asia/Taipei")
NAMES = ("Product Viewed", "Product Added", "Checkout Started", "Order Completed", "Products Searched")
FIRST_PERSON = 700_000
WINDOW = timedelta(minutes=30)
SHAPES = {
    "four_steps": ("Product Viewed", "Product Added", "Checkout Started", "Order Completed"),
    "a_name_twice": ("Product Viewed", "Product Added", "Product Viewed", "Order Completed"),
    "same_name_in_a_row": ("Product Added", "Product Added", "Order Completed"),
    "two_steps": ("Product Viewed", "Order Completed"),
}


def shoppers(session: Session, *, people: int, seed: int) -> list[int]:
    """people random shoppers' events written into the store; return their profile ids."""
    rng = random.Random(seed)
    ids = list(range(FIRST_PERSON, FIRST_PERSON + people))
    session.execute(insert(IdentityProfile), [{"id": i, "created_at": T0} for i in ids])
    session.execute(
        insert(Identifier),
        [
            {"id": i, "kind": "user_id", "value": f"f{i}", "profile_id": i, "born_profile_id": i,
             "first_seen_at": T0, "last_seen_at": T0, "source": "web", "first_message_id": f"f{i}"}
            for i in ids
        ],
    )  # fmt: skip
    activity: list[dict[str, Any]] = []
    # Positions are not in time order, as when events arrive late.
    positions = rng.sample(range(FIRST_PERSON * 10, FIRST_PERSON * 10 + people * 40), people * 40)
    for person in ids:
        for _ in range(rng.randint(0, 18)):
            at = T0 + timedelta(minutes=rng.randint(0, 60))
            if rng.random() < 0.1:
                at += timedelta(microseconds=rng.choice((1, 500_000, 999_999)))
            if rng.random() < 0.1:
                at += timedelta(days=rng.randint(1, 3))
            channel = rng.choice(("web", "app", "pos"))
            source, properties = channel, {}
            if channel == "pos":
                source = rng.choice(("pos:TPE-XINYI", "pos:TPE-DAAN"))
            elif rng.random() < 0.3:
                properties = {"store_code": rng.choice(("TPE-XINYI", "TXG-1"))}
            activity.append(
                {"position": positions.pop(), "occurred_at": at, "type": "track", "event": rng.choice(NAMES),
                 "channel": channel, "source": source, "properties": properties, "person": person}
            )  # fmt: skip
    session.execute(
        insert(ProfileActivity), [{k: v for k, v in a.items() if k != "person"} for a in activity]
    )
    session.execute(
        insert(EventAttribution),
        [{"position": a["position"], "identifier_id": a["person"]} for a in activity],
    )
    return ids


def walked(
    session: Session, filters: AnalyticsFilters, funnel: funnels.Funnel, breakdown: str | None
) -> dict[int, funnels.Attempt]:
    """The walker's attempts, read as the walker reads its events."""
    names = {step.event for step in funnel.steps}
    found: dict[int, funnels.Attempt] = {}
    events = repository.person_events(session, filters, ZONE, names=names)
    for person, own in groupby(events, key=lambda e: e.person):
        touches = [
            funnels.Touch(
                e.at,
                e.event,
                e.properties,
                None if breakdown is None else (e.channel if breakdown == "channel" else e.store) or "—",
            )
            for e in own
        ]
        for attempt in funnels.attempts_of(funnel, person, touches):
            found[person] = attempt
    return found


def planned(
    session: Session, filters: AnalyticsFilters, funnel: funnels.Funnel, breakdown: str | None
) -> dict[int, funnels.Attempt]:
    return {a.person: a for a in repository.funnel_attempts(session, filters, ZONE, funnel, breakdown)}


def shape(name: str) -> funnels.Funnel:
    return funnels.Funnel(tuple(funnels.Step(e) for e in SHAPES[name]), window=WINDOW)


@pytest.mark.parametrize("name", list(SHAPES))
@pytest.mark.parametrize("breakdown", [None, "channel", "store"])
def test_the_sql_plan_picks_each_persons_attempt_as_the_walker_does(
    session: Session, name: str, breakdown: str | None
) -> None:
    # given 150 random shoppers
    shoppers(session, people=150, seed=list(SHAPES).index(name) * 10 + len(breakdown or ""))
    funnel = shape(name)
    # when the funnel is computed by the plan and by the walker
    on_store = planned(session, AnalyticsFilters(), funnel, breakdown)
    by_walker = walked(session, AnalyticsFilters(), funnel, breakdown)
    # then every person has the same attempt, group and step times
    assert on_store == by_walker
    assert sum(1 for a in by_walker.values() if a.done[-1] is not None) > 3


@pytest.mark.parametrize(
    "filters",
    [
        AnalyticsFilters(channel="web"),
        AnalyticsFilters(store="TPE-XINYI"),
        AnalyticsFilters(since=date(2026, 6, 2), until=date(2026, 6, 3)),
        AnalyticsFilters(since=date(2026, 6, 1), until=date(2026, 6, 1)),
    ],
    ids=["channel", "store", "dates", "one_day"],
)
def test_the_sql_plan_narrows_events_as_the_walker_does(session: Session, filters: AnalyticsFilters) -> None:
    shoppers(session, people=200, seed=7)
    funnel = shape("four_steps")
    by_walker = walked(session, filters, funnel, "store")
    assert planned(session, filters, funnel, "store") == by_walker
    assert by_walker


def test_a_segment_narrows_the_people(session: Session) -> None:
    # given shoppers of whom every third is in a segment
    people = shoppers(session, people=120, seed=11)
    segment = make_segment(session, "funnel_people", {"tag": "funnel_people"})
    session.execute(
        insert(SegmentMember),
        [{"segment_id": segment, "profile_id": p, "version": 1, "entered_at": T0} for p in people[::3]],
    )
    filters = AnalyticsFilters(segment="funnel_people")
    funnel = shape("four_steps")
    # then only members' attempts count, the same as the walker's
    found = planned(session, filters, funnel, None)
    assert found == walked(session, filters, funnel, None)
    assert found
    assert set(found) <= set(people[::3])


def ties_and_edges(session: Session) -> funnels.Funnel:
    """Views at 0 and 10 min and an add at 20 min; a view at 0, an add and an order exactly 30 min later."""
    session.execute(insert(IdentityProfile), [{"id": FIRST_PERSON + i, "created_at": T0} for i in (1, 2)])
    session.execute(
        insert(Identifier),
        [
            {"id": FIRST_PERSON + i, "kind": "user_id", "value": f"e{i}", "profile_id": FIRST_PERSON + i,
             "born_profile_id": FIRST_PERSON + i, "first_seen_at": T0, "last_seen_at": T0, "source": "web",
             "first_message_id": f"e{i}"}
            for i in (1, 2)
        ],
    )  # fmt: skip
    events = [
        (1, 0, "Product Viewed", "web"),
        (1, 10, "Product Viewed", "app"),
        (1, 20, "Product Added", "web"),
        (2, 0, "Product Viewed", "web"),
        (2, 30, "Product Added", "web"),
        (2, 30, "Order Completed", "web"),
    ]
    session.execute(
        insert(ProfileActivity),
        [
            {"position": FIRST_PERSON + n, "occurred_at": T0 + timedelta(minutes=m), "type": "track",
             "event": e, "channel": ch, "source": ch, "properties": {}}
            for n, (_, m, e, ch) in enumerate(events)
        ],
    )  # fmt: skip
    session.execute(
        insert(EventAttribution),
        [
            {"position": FIRST_PERSON + n, "identifier_id": FIRST_PERSON + p}
            for n, (p, *_) in enumerate(events)
        ],
    )
    return funnels.Funnel(
        (funnels.Step("Product Viewed"), funnels.Step("Product Added"), funnels.Step("Order Completed")),
        window=WINDOW,
    )


def test_the_earliest_of_equally_good_starts_and_the_window_edge_decide(session: Session) -> None:
    # given views at 0 and 10 min, an add at 20 min; a view at 0 and an add exactly 30 min later
    funnel = ties_and_edges(session)
    found = planned(session, AnalyticsFilters(), funnel, "channel")
    minute = timedelta(minutes=1)
    # then the first view is the start, in its channel; an add on the window's edge is in time
    assert found[FIRST_PERSON + 1] == funnels.Attempt(FIRST_PERSON + 1, "web", (T0, T0 + 20 * minute, None))
    assert found[FIRST_PERSON + 2].done == (T0, T0 + 30 * minute, T0 + 30 * minute)


def on_duckdb(
    session: Session,
    tmp_path: Path,
    funnel: funnels.Funnel,
    breakdown: str | None,
    filters: AnalyticsFilters | None = None,
) -> dict[int, funnels.Attempt]:
    """Each person's attempt by the plan compiled for DuckDB, over the store exported as Parquet."""
    timelines.export(session, tmp_path)
    scope = repository.funnel_scope(session, filters or AnalyticsFilters(), ZONE)
    sql = funnel_export.sql_of(funnel, scope, breakdown, summed=False)
    with timelines.opened(tmp_path) as duck:
        rows = duck.execute(sql).fetchall()
    return {a.person: a for a in funnel_sql.as_attempts(rows)}


@pytest.mark.parametrize("name", list(SHAPES))
@pytest.mark.parametrize("breakdown", [None, "store"])
def test_duckdb_over_the_export_picks_each_persons_attempt_as_the_walker_does(
    session: Session, tmp_path: Path, name: str, breakdown: str | None
) -> None:
    # given 150 random shoppers exported as Parquet
    shoppers(session, people=150, seed=list(SHAPES).index(name) * 10 + 3)
    funnel = shape(name)
    # when the plan runs on DuckDB over the files
    found = on_duckdb(session, tmp_path, funnel, breakdown)
    # then every person has the walker's attempt, group and step times
    assert found == walked(session, AnalyticsFilters(), funnel, breakdown)
    assert sum(1 for a in found.values() if a.done[-1] is not None) > 3


@pytest.mark.parametrize(
    "filters",
    [
        AnalyticsFilters(channel="app"),
        AnalyticsFilters(store="TPE-DAAN"),
        AnalyticsFilters(since=date(2026, 6, 2), until=date(2026, 6, 3)),
        AnalyticsFilters(segment="funnel_people"),
    ],
    ids=["channel", "store", "dates", "segment"],
)
def test_duckdb_over_the_export_narrows_events_as_the_walker_does(
    session: Session, tmp_path: Path, filters: AnalyticsFilters
) -> None:
    # given shoppers of whom every other one is in a segment, exported as Parquet
    people = shoppers(session, people=200, seed=31)
    segment = make_segment(session, "funnel_people", {"tag": "funnel_people"})
    session.execute(
        insert(SegmentMember),
        [{"segment_id": segment, "profile_id": p, "version": 1, "entered_at": T0} for p in people[::2]],
    )
    funnel = shape("four_steps")
    # when the export's plan runs narrowed by the filters
    found = on_duckdb(session, tmp_path, funnel, "channel", filters)
    # then it keeps the walker's events and people
    assert found == walked(session, filters, funnel, "channel")
    assert found
    if filters.segment:
        assert set(found) <= set(people[::2])


def test_duckdb_takes_the_earliest_of_equally_good_starts_and_the_window_edge(
    session: Session, tmp_path: Path
) -> None:
    funnel = ties_and_edges(session)
    found = on_duckdb(session, tmp_path, funnel, "channel")
    minute = timedelta(minutes=1)
    assert found[FIRST_PERSON + 1] == funnels.Attempt(FIRST_PERSON + 1, "web", (T0, T0 + 20 * minute, None))
    assert found[FIRST_PERSON + 2].done == (T0, T0 + 30 * minute, T0 + 30 * minute)


def figures(funnel: funnels.Funnel, attempts: list[funnels.Attempt]) -> dict[str, Any]:
    return {
        group: (counts.people, counts.dropped, [funnels.median(s) for s in counts.seconds])
        for group, counts in funnels.count(funnel, attempts).items()
    }


def summarised(funnel: funnels.Funnel, rows: list[tuple[Any, ...]]) -> dict[str, Any]:
    return {
        group: (counts.people, counts.dropped, counts.median_seconds)
        for group, counts in funnel_sql.counts_of(funnel, rows).items()
    }


@pytest.mark.parametrize("breakdown", [None, "store"])
def test_duckdb_over_the_export_gives_the_walkers_figures(
    session: Session, tmp_path: Path, breakdown: str | None
) -> None:
    # given shoppers exported as Parquet
    shoppers(session, people=200, seed=23)
    funnel = shape("four_steps")
    expected = figures(funnel, list(walked(session, AnalyticsFilters(), funnel, breakdown).values()))
    timelines.export(session, tmp_path)
    # when the summary runs on DuckDB over the files
    with timelines.opened(tmp_path) as duck:
        rows = funnel_export.run(duck, funnel, funnel_sql.Scope(), breakdown)
    # then each group's counts, drop-offs and medians are the walker's
    found = summarised(funnel, rows)
    assert found.keys() == expected.keys()
    for group, (people, dropped, medians) in expected.items():
        assert found[group][:2] == (people, dropped)
        assert found[group][2] == pytest.approx(medians)


def test_the_summary_on_the_store_gives_the_walkers_figures(session: Session) -> None:
    if session.get_bind().dialect.name == "sqlite":
        pytest.skip("SQLite has no median; the service counts attempts in Python there")
    shoppers(session, people=200, seed=29)
    funnel = shape("a_name_twice")
    expected = figures(funnel, list(walked(session, AnalyticsFilters(), funnel, "channel").values()))
    ctx = c.Context(engine="postgresql", now=T0, priority=())
    expression = funnel_sql.summary(ctx, funnel, funnel_sql.Scope(), "channel")
    rows = [tuple(r) for r in session.execute(text(c.to_sql(ctx, expression))).all()]
    found = summarised(funnel, rows)
    assert found.keys() == expected.keys()
    for group, (people, dropped, medians) in expected.items():
        assert found[group][:2] == (people, dropped)
        assert found[group][2] == pytest.approx(medians)


@pytest.mark.parametrize(
    ("step", "repeat", "covered"),
    [
        (funnels.Step("Product Added"), False, True),
        (funnels.Step("Product Added"), True, False),
        (funnels.Step("Product Added", optional=True), False, False),
        (funnels.Step("Product Added", within=timedelta(hours=1)), False, False),
        (funnels.Step("Product Added", where=(funnels.PropertyFilter("sku", "eq", "A"),)), False, False),
    ],
    ids=["plain", "repeat", "optional", "within", "where"],
)
def test_only_funnels_where_greedy_matching_is_exact_take_the_sql_plan(
    step: funnels.Step, repeat: bool, covered: bool
) -> None:
    funnel = funnels.Funnel(
        (funnels.Step("Product Viewed"), step, funnels.Step("Order Completed")), repeat=repeat
    )
    assert funnel_sql.eligible(funnel) is covered
