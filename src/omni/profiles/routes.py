"""The profile API: the 360° view by id or by any identifier, the timeline, consent, computed traits.

Profiles sit below the API layer, so the staff checks are chosen where the application includes these
routers: `router` for customer service, `marketing_router` for defining computed traits, `admin_router`
for the trait source priority. The session dependency restates the API's one-transaction-per-request rule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Path, Query, Request, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from omni.db.engine import Database
from omni.db.requests import SessionDep
from omni.profiles import consent_changes, definitions, service
from omni.profiles.priority import save_trait_priority, trait_priority
from omni.profiles.schemas import (
    LOOKUP_KINDS,
    ComputedTraitCreate,
    ComputedTraitRead,
    ConsentRead,
    ConsentUpdate,
    ProfileRead,
    TimelinePage,
    TraitSourcePriority,
)

router = APIRouter(prefix="/v1", tags=["profiles"])
marketing_router = APIRouter(prefix="/v1", tags=["profiles"])
admin_router = APIRouter(prefix="/v1", tags=["profiles"])
ProfileId = Annotated[
    int, Path(gt=0, description="A profile id; a merged-away id answers with its survivor.")
]


Answer = TypeVar("Answer")


async def _read(request: Request, use: Callable[[Session], Answer]) -> Answer:
    """use(session) in one transaction, in one hop to the thread pool.

    The busiest reads skip the session dependency: each sync dependency is a hop of its own, and under
    load every hop is a wait for a thread and for the interpreter's lock.
    """
    database: Database = request.app.state.database

    def in_transaction() -> Answer:
        with database.unit_of_work() as session:
            return use(session)

    return await run_in_threadpool(in_transaction)


def _actor(request: Request) -> str:
    actor = getattr(request.state, "actor", None)
    return actor if isinstance(actor, str) else "api"


@router.get(
    "/profiles",
    response_model=ProfileRead,
    summary="Find a profile by an identifier",
    description=f"Give exactly one of {', '.join(LOOKUP_KINDS)}; phones and emails in any format.",
)
async def lookup_profile(request: Request) -> ProfileRead:
    query = request.query_params.multi_items()
    return await _read(request, lambda session: service.lookup(session, query))


@router.get("/profiles/{profile_id}", response_model=ProfileRead, summary="A profile's 360° view")
async def read_profile(profile_id: ProfileId, request: Request) -> ProfileRead:
    """Identities, traits, computed traits and consent; a merged-away id answers with the survivor."""
    return await _read(request, lambda session: service.profile_view(session, profile_id))


@router.get("/profiles/{profile_id}/timeline", response_model=TimelinePage, summary="A profile's timeline")
def read_timeline(
    profile_id: ProfileId,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: Annotated[
        str | None, Query(max_length=64, description="next_before of the previous page")
    ] = None,
) -> TimelinePage:
    """Events on every channel, newest first, with channel and source on each."""
    return service.timeline(session, profile_id, limit=limit, before=before)


@router.put("/profiles/{profile_id}/consent", response_model=list[ConsentRead], summary="Change consent")
def change_consent(
    profile_id: ProfileId, body: ConsentUpdate, session: SessionDep, request: Request
) -> list[ConsentRead]:
    """Log a Subscribed or Unsubscribed event per decision and answer with the resulting consent."""
    return consent_changes.change_consent(session, profile_id, body.decisions, by=_actor(request))


@router.get("/computed-traits", response_model=list[ComputedTraitRead], summary="Computed traits")
def list_computed_traits(session: SessionDep) -> list[ComputedTraitRead]:
    return definitions.list_all(session)


@marketing_router.post(
    "/computed-traits", response_model=ComputedTraitRead, status_code=201, summary="Define a computed trait"
)
def create_computed_trait(body: ComputedTraitCreate, session: SessionDep) -> ComputedTraitRead:
    """Define a computed trait; it is computed from every event already in the log, and kept current."""
    return definitions.create(session, body)


@marketing_router.delete(
    "/computed-traits/{trait_id}", status_code=204, response_class=Response, summary="Delete a computed trait"
)
def delete_computed_trait(trait_id: Annotated[int, Path(gt=0)], session: SessionDep) -> Response:
    definitions.delete(session, trait_id)
    return Response(status_code=204)


@router.get("/trait-sources", response_model=TraitSourcePriority, summary="Trait source priority")
def read_trait_priority(session: SessionDep) -> TraitSourcePriority:
    return trait_priority(session)


@admin_router.put(
    "/trait-sources", response_model=TraitSourcePriority, summary="Replace trait source priority"
)
def replace_trait_priority(body: TraitSourcePriority, session: SessionDep) -> TraitSourcePriority:
    """Replace which source's word wins; every profile follows from its next read."""
    return save_trait_priority(session, body)
