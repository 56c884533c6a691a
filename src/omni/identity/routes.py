"""The identity API: explain a profile, undo a merge, find a profile by any identifier, edit the rules.

Identity sits below the API layer, so it cannot use omni.api's dependencies: the application includes
`router` (reading) and `admin_router` (changing the graph or the rules) behind the staff checks it
chooses, and the session dependency here is the API's one-transaction-per-request rule restated.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from omni.db.requests import SessionDep
from omni.identity import service
from omni.identity.errors import InvalidIdentifier, ProfileNotFound
from omni.identity.schemas import (
    AttributedEventRead,
    IdentityRules,
    LookupRead,
    ProfileIdentityRead,
    UnmergeRead,
    UnmergeRequest,
)

router = APIRouter(prefix="/v1", tags=["identity"])
admin_router = APIRouter(prefix="/v1", tags=["identity"])
MAX_ID = 2**63 - 1
ProfileId = Annotated[
    int, Path(gt=0, le=MAX_ID, description="A profile id; a merged-away id resolves to its survivor.")
]


def _actor(request: Request) -> str:
    # The API's staff check leaves who is calling in request.state.actor.
    actor = getattr(request.state, "actor", None)
    return actor if isinstance(actor, str) else "api"


@router.get(
    "/profiles/{profile_id}/identity", response_model=ProfileIdentityRead, summary="Explain a profile"
)
def explain_profile(profile_id: ProfileId, session: SessionDep) -> ProfileIdentityRead:
    """Identifiers with first and last sighting, and every merge with its evidence."""
    return service.explain(session, profile_id)


@router.get(
    "/profiles/{profile_id}/events", response_model=list[AttributedEventRead], summary="A profile's events"
)
def profile_events(
    profile_id: ProfileId,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Only events before this log position.")
    ] = None,
) -> list[AttributedEventRead]:
    """Log positions of the events attributed to the profile, newest first."""
    return service.events_of(session, profile_id, limit=limit, before=before)


@admin_router.post("/profiles/{profile_id}/unmerge", response_model=UnmergeRead, summary="Undo a merge")
def unmerge_profile(
    profile_id: ProfileId, body: UnmergeRequest, session: SessionDep, request: Request
) -> UnmergeRead:
    """Move the identifiers (and so the events) that came with a merge to a new profile."""
    return service.unmerge(session, profile_id, body.merge_id, by=_actor(request))


@router.get("/identity/lookup", response_model=LookupRead, summary="Find a profile by an identifier")
def lookup(request: Request, session: SessionDep) -> LookupRead:
    """Give exactly one identifier as a query parameter named by its kind, e.g. ?phone=0912-345-678."""
    kinds = service.rules_document(session).priority
    given = list(request.query_params.multi_items())
    if len(given) != 1:
        raise InvalidIdentifier(
            "give exactly one identifier",
            details=[{"field": "query", "rule": f"exactly one of {', '.join(kinds)}"}],
        )
    kind, raw = given[0]
    if kind not in kinds:
        raise InvalidIdentifier(
            f"{kind} is not an identifier kind",
            details=[{"field": kind, "rule": f"one of {', '.join(kinds)}"}],
        )
    kind, value = service.normalized_lookup(session, kind, raw)
    profile_id = service.profile_for_identifier(session, kind, value)
    if profile_id is None:
        raise ProfileNotFound(f"no profile has {kind} {value}")
    return LookupRead(profile_id=profile_id, kind=kind, value=value)


@router.get("/identity/rules", response_model=IdentityRules, summary="The stitching rules")
def read_rules(session: SessionDep) -> IdentityRules:
    """Priority of identifier kinds, per-profile limits, where each kind is read, junk values."""
    return service.rules_document(session)


@admin_router.put("/identity/rules", response_model=IdentityRules, summary="Replace the stitching rules")
def replace_rules(rules: IdentityRules, session: SessionDep) -> IdentityRules:
    """Replace the rules; events stitched from now on follow them."""
    return service.save_rules(session, rules)
