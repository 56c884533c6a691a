"""The journeys API: definitions and versions, activate and pause, entries by API call, the numbers.

Journeys sit below the API layer, so the staff check is chosen where the application includes the router
(the journeys section).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from omni.db.requests import SessionDep
from omni.journeys import service, stats
from omni.journeys.schemas import (
    EntryCreate,
    JourneyCreate,
    JourneyRead,
    JourneyStats,
    JourneyUpdate,
    JourneyVersionRead,
    RunRead,
)

router = APIRouter(prefix="/v1", tags=["journeys"])
JourneyId = Annotated[int, Path(gt=0)]


def _actor(request: Request) -> str:
    actor = getattr(request.state, "actor", None)
    return actor if isinstance(actor, str) else "api"


@router.get("/journeys", response_model=list[JourneyRead], summary="Journeys with their counts")
def list_journeys(session: SessionDep) -> list[JourneyRead]:
    return service.list_all(session)


@router.post("/journeys", response_model=JourneyRead, status_code=201, summary="Save a journey (a draft)")
def create_journey(body: JourneyCreate, session: SessionDep, request: Request) -> JourneyRead:
    """Save version 1; 422 names the JSON path of each problem (nodes.email.next, nodes.split.branches)."""
    return service.create(session, body, by=_actor(request))


@router.get("/journeys/{journey_id}", response_model=JourneyRead, summary="A journey")
def read_journey(journey_id: JourneyId, session: SessionDep) -> JourneyRead:
    return service.read(session, journey_id)


@router.put("/journeys/{journey_id}", response_model=JourneyRead, summary="Save a new version")
def update_journey(
    journey_id: JourneyId, body: JourneyUpdate, session: SessionDep, request: Request
) -> JourneyRead:
    """New people enter the new version; people in flight finish on the version they entered."""
    return service.update(session, journey_id, body, by=_actor(request))


@router.get("/journeys/{journey_id}/versions", response_model=list[JourneyVersionRead], summary="Versions")
def list_versions(journey_id: JourneyId, session: SessionDep) -> list[JourneyVersionRead]:
    return [JourneyVersionRead.model_validate(v) for v in service.versions(session, journey_id)]


@router.post("/journeys/{journey_id}/activate", response_model=JourneyRead, summary="Let people in")
def activate(journey_id: JourneyId, session: SessionDep) -> JourneyRead:
    return service.set_status(session, journey_id, "active")


@router.post("/journeys/{journey_id}/pause", response_model=JourneyRead, summary="Stop entries and steps")
def pause(journey_id: JourneyId, session: SessionDep) -> JourneyRead:
    return service.set_status(session, journey_id, "paused")


@router.post(
    "/journeys/{journey_id}/entries", response_model=RunRead, status_code=201, summary="Enter a person"
)
def enter(journey_id: JourneyId, body: EntryCreate, session: SessionDep) -> RunRead:
    """For journeys triggered by API calls; 409 when re-entry or the entry cap refuses the person."""
    return RunRead.model_validate(service.enter_by_api(session, journey_id, body))


@router.get("/journeys/{journey_id}/stats", response_model=JourneyStats, summary="People per node, holdout")
def journey_stats(journey_id: JourneyId, session: SessionDep) -> JourneyStats:
    return stats.journey_stats(session, journey_id)
