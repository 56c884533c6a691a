"""SQLite's planner statistics: without them a per-person segment query reads every event of a name."""

from __future__ import annotations

from pathlib import Path

from omni.background import ALL_JOBS
from omni.db import statistics
from omni.db.engine import Database
from omni.migrations import runner
from omni.segments import compile as c
from omni.segments import predefined, repository, service
from tests.analytics.test_funnel_sql import FIRST_PERSON, shoppers


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


def test_the_refresh_runs_first_thing_and_hourly_wherever_background_work_runs() -> None:
    assert statistics.REFRESH in ALL_JOBS
    assert statistics.REFRESH.run_at_start
    assert statistics.REFRESH.every_seconds == 3600
