"""Liveness and readiness: is the process up, is the database reachable and migrated."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from omni import __version__
from omni.api.deps import DatabaseDep
from omni.db.engine import check_connection

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    version: str
    database: str


@router.get("/healthz", response_model=Health, summary="Is Omni up and its database reachable")
async def healthz(database: DatabaseDep) -> Health:
    await run_in_threadpool(check_connection, database.engine)
    return Health(status="ok", version=__version__, database=database.dialect)
