"""The database session a web request owns, shared by every router of the request (the domains' own
routers sit below `omni.api`, so it lives here)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from omni.db.engine import Database


def request_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the handler returns, rolled back when it raises."""
    database: Database = request.app.state.database
    with database.unit_of_work() as session:
        yield session


# scope="function" commits before the response is sent, so a 2xx means the change is stored. FastAPI
# resolves a dependency once per request, so every router and check of a request shares this one session.
SessionDep = Annotated[Session, Depends(request_session, scope="function")]
