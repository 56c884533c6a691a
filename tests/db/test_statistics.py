"""SQLite's planner statistics: without them a per-person segment query reads every event of a name."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.orm import Session

from omni.background import ALL_JOBS
from omni.db import statistics
from omni.db.engine import Database
from omni.migrations import runner
from omni.profiles.models import ProfileActivity
from omni.segments import compile as c
from omni.segments import predefined, repository, service
from tests.analytics.test_funnel_sql import FIRST_PERSON, T0, shoppers


def _first_step(database: Database) -> str:
    """How SQLite starts the browse abandoners query for one person."""
    with database.unit_of_work() as session:
        ctx = service.context(session, profiles=[FIRST_PERSON])
        definition = next(
            d for s, d in repository.current_definitions(session) if s.key == "browse_abandoners"
        )
        sql = c.to_sql(ctx, c.members(ctx, service._tree_unchecked(definition)))
        plan = session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + sql).fetchall()
    return next(str(row[-1]) for row in plan if str(row[-1]).startswith(("SEARCH", "SCAN")))


def test_after_a_refresh_sqlite_reads_a_persons_events_through_their_identifiers(tmp_path: Path) -> None:
    # given a store that grew without ever being analysed
    database = Database(f"sqlite:///{tmp_path / 'omni.db'}")
    runner.upgrade(database.engine)
    with database.unit_of_work() as session:
        predefined.ensure(session)
        shoppers(session, people=400, seed=3)
    assert "ix_profile_activity_event" in _first_step(database)
    # when the periodic job refreshes the statistics
    statistics.refresh(database)
    # then one person's query starts from their identifiers, not from every event of a name
    assert "ix_identity_identifier_profile_id" in _first_step(database)
    with database.engine.connect() as connection:
        analysed = {row[0] for row in connection.exec_driver_sql("SELECT tbl FROM sqlite_stat1")}
    assert {"profile_activity", "identity_event", "identity_identifier"} <= analysed
    database.dispose()


def test_statistics_are_refreshed_when_the_timeline_has_doubled(tmp_path: Path) -> None:
    # given a store this process has not analysed yet
    database = Database(f"sqlite:///{tmp_path / 'omni.db'}")
    runner.upgrade(database.engine)
    with database.unit_of_work() as session:
        shoppers(session, people=300, seed=5)
    # then the first check refreshes, and the next ones wait for the timeline to double
    assert statistics.refresh_if_grown(database)
    assert not statistics.refresh_if_grown(database)
    with database.unit_of_work() as session:
        one_event_far_along(session)
    assert statistics.refresh_if_grown(database)
    assert not statistics.refresh_if_grown(database)
    database.dispose()


def one_event_far_along(session: Session) -> None:
    """An event far along the log, as when the store has more than doubled."""
    session.execute(
        insert(ProfileActivity),
        [{"position": 10**9, "occurred_at": T0, "type": "track", "event": "Product Viewed", "channel": "web",
          "source": "web", "properties": {}}],
    )  # fmt: skip


def test_the_check_runs_first_thing_and_every_minute_wherever_background_work_runs() -> None:
    assert statistics.REFRESH in ALL_JOBS
    assert statistics.REFRESH.run_at_start
    assert statistics.REFRESH.every_seconds == 60
    assert statistics.REFRESH.run is statistics.refresh_if_grown
