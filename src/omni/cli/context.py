"""What every command shares: the debug flag, settings, and an open, migrated database."""

from __future__ import annotations

from dataclasses import dataclass

from omni.db.engine import Database, check_connection
from omni.migrations import runner
from omni.settings import Settings, get_settings


@dataclass
class CliState:
    debug: bool = False


state = CliState()


def load_settings() -> Settings:
    return get_settings()


def open_database(settings: Settings, *, migrate: bool) -> Database:
    """Connect to the configured database, failing fast with a one-line reason; migrate when asked."""
    database = Database(settings.resolved_database_url)
    check_connection(database.engine)
    if migrate:
        runner.upgrade(database.engine)
    return database
