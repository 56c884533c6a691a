"""Planner statistics for SQLite, refreshed as the store grows.

SQLite plans from the statistics ANALYZE writes, and nothing writes them unless asked. Without them it
guesses, and it guesses badly here: it drives a per-person segment query from the index on event name,
reading every event of that name (587 ms per segment for one person at 100,000 customers, growing with
the log, against under 1 ms), and a funnel over the demo's 320,000 events took 212 s instead of 1 s.

A sampled ANALYZE (analysis_limit) takes milliseconds even on a large store, so it runs whenever the
timeline has doubled since this process last ran it, and at least hourly. PostgreSQL's autovacuum keeps
its own statistics.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy import text

from omni.db.engine import Database
from omni.db.periodic import PeriodicJob
from omni.settings import Settings

# Rows ANALYZE samples per index: enough to tell a name shared by millions from a person's identifier.
SAMPLE_ROWS = 1000
# Below this many events a store is too small for a plan to matter; no refresh for each one.
SMALL = 1000
EVERY_SECONDS = 3600.0


# Per database URL: the timeline's size and the moment of this process's last refresh.
_last: dict[str, tuple[int, float]] = {}
_last_lock = threading.Lock()


def refresh(database: Database) -> None:
    """Rewrite SQLite's planner statistics from a sample of every index (nothing to do elsewhere)."""
    if database.engine.dialect.name != "sqlite":
        return
    with database.engine.connect() as connection:
        connection.exec_driver_sql(f"PRAGMA analysis_limit = {SAMPLE_ROWS}")
        connection.exec_driver_sql("ANALYZE")
        connection.commit()


def refresh_if_grown(database: Database, _settings: Settings | None = None) -> bool:
    """refresh() when the profile timeline has doubled since this process last refreshed (or it has not
    yet) or an hour has passed; whether it ran. Cheap to call often: one read of the largest position."""
    if database.engine.dialect.name != "sqlite":
        return False
    with database.read_only_unit() as session:
        size = int(
            session.execute(text("SELECT coalesce(max(position), 0) FROM profile_activity")).scalar_one()
        )
    key = str(database.engine.url)
    with _last_lock:
        last = _last.get(key)
        if last is not None:
            analysed, at = last
            if size < 2 * max(analysed, SMALL) and time.monotonic() - at < EVERY_SECONDS:
                return False
        refresh(database)
        _last[key] = (size, time.monotonic())
    return True


REFRESH = PeriodicJob(
    name="db.statistics",
    every_seconds=60,
    run=refresh_if_grown,
    description="Refresh SQLite's planner statistics when the timeline has doubled, and hourly",
    run_at_start=True,
)
JOBS = [REFRESH]
