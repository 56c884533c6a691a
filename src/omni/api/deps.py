"""Request-scoped dependencies: the database session, owned by the request's transaction."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from omni.db.engine import Database
from omni.settings import Settings


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(database: Annotated[Database, Depends(get_database)]) -> Iterator[Session]:
    """One transaction per request: committed when the handler returns, rolled back when it raises."""
    with database.unit_of_work() as session:
        yield session


def get_read_session(database: Annotated[Database, Depends(get_database)]) -> Iterator[Session]:
    """A transaction of its own that only reads (who is calling), so it never holds SQLite's write lock
    while the request's own unit of work waits for it."""
    with database.read_only_unit() as session:
        yield session


DatabaseDep = Annotated[Database, Depends(get_database)]
# scope="function" commits before the response is sent, so a 200 means the data is stored.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
ReadSessionDep = Annotated[Session, Depends(get_read_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
