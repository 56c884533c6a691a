"""Request-scoped dependencies: the database, its sessions (SessionDep is the request's one transaction,
shared with the domains' routers) and the settings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from omni.db.engine import Database
from omni.db.requests import SessionDep
from omni.settings import Settings


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_read_session(database: Annotated[Database, Depends(get_database)]) -> Iterator[Session]:
    """A transaction of its own that only reads (who is calling), so it never holds SQLite's write lock
    while the request's own unit of work waits for it."""
    with database.read_only_unit() as session:
        yield session


__all__ = ["DatabaseDep", "ReadSessionDep", "SessionDep", "SettingsDep", "get_database"]

DatabaseDep = Annotated[Database, Depends(get_database)]
ReadSessionDep = Annotated[Session, Depends(get_read_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
