"""The segments API: definitions and versions, estimates, recomputes, members and why, tags, exports.

Segments sit below the API layer, so staff checks are chosen where the application includes these
routers: `router` for marketers (the segments section), `tags_router` for customer service.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from omni.db.engine import Database
from omni.db.requests import SessionDep
from omni.segments import exports, membership, service
from omni.segments.errors import ExportFailed
from omni.segments.schemas import (
    EstimateRead,
    EstimateRequest,
    ExportRead,
    MembersPage,
    RecomputeAllRead,
    RecomputeRead,
    SegmentCreate,
    SegmentRead,
    SegmentUpdate,
    SegmentVersionRead,
    TagChange,
    TagsRead,
    WebhookExport,
    WhyRead,
)

router = APIRouter(prefix="/v1", tags=["segments"])
tags_router = APIRouter(prefix="/v1", tags=["segments"])
SegmentId = Annotated[int, Path(gt=0)]
ProfileId = Annotated[
    int, Path(gt=0, description="A profile id; a merged-away id answers with its survivor.")
]
AUDIENCES = {
    "csv": ("text/csv", exports.members_csv),
    "google": ("text/csv", exports.google_customer_match),
    "meta": ("text/csv", exports.meta_custom_audience),
}


def _actor(request: Request) -> str:
    actor = getattr(request.state, "actor", None)
    return actor if isinstance(actor, str) else "api"


@router.get("/segments", response_model=list[SegmentRead], summary="Segments with their sizes")
def list_segments(session: SessionDep) -> list[SegmentRead]:
    return service.list_all(session)


@router.post("/segments", response_model=SegmentRead, status_code=201, summary="Save a segment")
def create_segment(
    body: SegmentCreate,
    session: SessionDep,
    request: Request,
    compute: Annotated[bool, Query(description="Compute its members now")] = True,
) -> SegmentRead:
    """Save version 1 of a definition; 422 names the JSON path of the condition that breaks a rule."""
    created = service.create(session, body, by=_actor(request))
    if compute:
        membership.recompute(session, created.id)
    return service.read(session, created.id)


@router.get("/segments/{segment_id}", response_model=SegmentRead, summary="A segment")
def read_segment(segment_id: SegmentId, session: SessionDep) -> SegmentRead:
    return service.read(session, segment_id)


@router.patch("/segments/{segment_id}", response_model=SegmentRead, summary="Rename or save a new version")
def update_segment(
    segment_id: SegmentId,
    body: SegmentUpdate,
    session: SessionDep,
    request: Request,
    compute: Annotated[bool, Query(description="Recompute members under the new version now")] = True,
) -> SegmentRead:
    updated = service.update(session, segment_id, body, by=_actor(request))
    if compute and body.definition is not None:
        membership.recompute(session, updated.id)
    return service.read(session, segment_id)


@router.get("/segments/{segment_id}/versions", response_model=list[SegmentVersionRead], summary="Versions")
def list_versions(segment_id: SegmentId, session: SessionDep) -> list[SegmentVersionRead]:
    return service.versions(session, segment_id)


@router.post("/segments/estimate", response_model=EstimateRead, summary="Size of an unsaved definition")
def estimate(body: EstimateRequest, session: SessionDep) -> EstimateRead:
    return service.estimate(session, body.definition, key=body.key)


@router.post("/segments/recompute", response_model=RecomputeAllRead, summary="Recompute every segment")
def recompute_all(session: SessionDep) -> RecomputeAllRead:
    """Each segment in its own savepoint: one that fails keeps its previous members and is reported."""
    return membership.recompute_all(session)


@router.post("/segments/{segment_id}/recompute", response_model=RecomputeRead, summary="Recompute members")
def recompute(segment_id: SegmentId, session: SessionDep) -> RecomputeRead:
    """Compute members afresh; a failure rolls back, leaving the previous members as they were."""
    return membership.recompute(session, segment_id)


@router.get("/segments/{segment_id}/members", response_model=MembersPage, summary="Members")
def list_members(
    segment_id: SegmentId,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    after: Annotated[int | None, Query(ge=0, description="next_after of the previous page")] = None,
) -> MembersPage:
    return service.members(session, segment_id, limit=limit, after=after)


@router.get(
    "/segments/{segment_id}/members/{profile_id}/why", response_model=WhyRead, summary="Why is this person in"
)
def why(segment_id: SegmentId, profile_id: ProfileId, session: SessionDep) -> WhyRead:
    """Each condition and whether it holds for the person, with the events that made it hold."""
    return membership.why(session, segment_id, profile_id)


@router.get("/segments/{segment_id}/export/{audience}", summary="Members as CSV or an audience file")
def export_file(
    segment_id: SegmentId,
    audience: Annotated[str, Path(pattern="^(csv|google|meta)$", description="csv, google or meta")],
    session: SessionDep,
) -> Response:
    """csv: plain members; google: Customer Match; meta: Custom Audiences (normalised, SHA-256)."""
    media_type, render = AUDIENCES[audience]
    body = render(exports.contacts(session, segment_id))
    filename = f"segment-{segment_id}-{audience}.csv"
    return Response(
        body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@router.post(
    "/segments/{segment_id}/export/webhook", response_model=ExportRead, summary="POST members to a URL"
)
def export_webhook(segment_id: SegmentId, body: WebhookExport, request: Request) -> ExportRead:
    """Record the export, POST the members as JSON after the record is committed, then store the outcome."""
    database: Database = request.app.state.database
    with database.unit_of_work() as session:
        export_id = exports.record_webhook(session, segment_id, str(body.url)).id
        payload = exports.webhook_body(session, segment_id, export_id)
    status, error = exports.post(str(body.url), payload, export_id)
    with database.unit_of_work() as session:
        result = ExportRead.model_validate(exports.finish_webhook(session, export_id, status, error))
    if error is not None:
        raise ExportFailed(
            f"the webhook did not accept the members: {error}",
            details=[{"field": "url", "rule": "answers 2xx"}],
        )
    return result


@tags_router.get("/profiles/{profile_id}/tags", response_model=TagsRead, summary="A person's manual tags")
def read_tags(profile_id: ProfileId, session: SessionDep) -> TagsRead:
    return service.tags_of(session, profile_id)


@tags_router.post("/profiles/{profile_id}/tags", response_model=TagsRead, summary="Tag a person")
def add_tag(profile_id: ProfileId, body: TagChange, session: SessionDep, request: Request) -> TagsRead:
    return service.add_tag(session, profile_id, body.tag, by=_actor(request))


@tags_router.delete("/profiles/{profile_id}/tags/{tag}", response_model=TagsRead, summary="Untag a person")
def remove_tag(
    profile_id: ProfileId, tag: Annotated[str, Path(max_length=64)], session: SessionDep
) -> TagsRead:
    return service.remove_tag(session, profile_id, tag)
