"""The Segments section: sizes, a builder that estimates while you edit, members and why.

The builder (static/js/segment_builder.js) edits the same JSON the form posts: its rows are drawn from
the definition and write it back, so a save or an estimate never depends on the script.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session

from omni.accounts.roles import Section
from omni.accounts.service import ActiveSession
from omni.api.deps import SessionDep, SettingsDep
from omni.kit.errors import OmniError
from omni.segments import membership
from omni.segments import service as segments_service
from omni.segments.schemas import SegmentCreate, SegmentUpdate
from omni.web import i18n
from omni.web.rendering import render, request_locale
from omni.web.security import CsrfChecked, require
from omni.web.segment_vocabulary import builder_vocabulary

router = APIRouter(include_in_schema=False)
SegmentId = Annotated[int, Path(gt=0)]
MEMBERS_PAGE = 50
# A new segment starts as an empty group: the builder's first row is the marketer's own.
EMPTY: dict[str, list[Any]] = {"all": []}


def _parse(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """The definition typed into the editor, or the reason it is not JSON."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
    if not isinstance(value, dict):
        return None, "JSON: the definition is an object, { … }"
    return value, None


def _problem(exc: OmniError) -> str:
    return "; ".join(f"{d.get('field', '')}: {d.get('rule', '')}" for d in exc.details) or exc.message


def _problem_fields(exc: OmniError) -> list[dict[str, str]]:
    """The JSON path and rule of each problem, for the builder to show beside its row."""
    return [
        {"field": str(d["field"]), "rule": str(d.get("rule", ""))}
        for d in exc.details
        if str(d.get("field", "")).startswith("$")
    ]


@router.get("/segments")
def segments_page(
    request: Request, session: SessionDep, active: Annotated[ActiveSession, require(Section.SEGMENTS)]
) -> HTMLResponse:
    """Every segment with its size, and the builder."""
    return render(
        request,
        "segments.html",
        {
            "section": "segments",
            "segments": segments_service.list_all(session),
            "definition": json.dumps(EMPTY),
            "tags": segments_service.tag_names(session)[:20],
        },
    )


@router.get("/segments/vocabulary")
def vocabulary(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    active: Annotated[ActiveSession, require(Section.SEGMENTS)],
) -> JSONResponse:
    """The builder's options (traits, events, tags, channels, stores, segments) in the page's language."""
    locale = request_locale(request)
    return JSONResponse(
        builder_vocabulary(
            session, locale=locale, gettext=i18n.translations(locale).gettext, currency=settings.currency
        )
    )


@router.post("/segments/estimate", dependencies=[CsrfChecked])
def estimate_partial(
    request: Request,
    session: SessionDep,
    active: Annotated[ActiveSession, require(Section.SEGMENTS)],
    definition: Annotated[str, Form(max_length=20_000)],
    key: Annotated[str, Form(max_length=64)] = "",
) -> HTMLResponse:
    """The size of the definition being edited, or what is wrong with it (HTMX, while typing)."""
    parsed, problem = _parse(definition)
    size = population = None
    fields: list[dict[str, str]] = []
    if parsed is not None:
        try:
            estimate = segments_service.estimate(session, parsed, key=key or None)
            size, population = estimate.size, estimate.population
        except OmniError as exc:
            problem, fields = _problem(exc), _problem_fields(exc)
    return render(
        request,
        "partials/segment_estimate.html",
        {"size": size, "population": population, "problem": problem, "problem_fields": fields},
    )


@router.post("/segments", dependencies=[CsrfChecked], response_model=None)
def create_segment(
    request: Request,
    session: SessionDep,
    active: Annotated[ActiveSession, require(Section.SEGMENTS)],
    key: Annotated[str, Form(max_length=64)],
    name: Annotated[str, Form(max_length=200)],
    definition: Annotated[str, Form(max_length=20_000)],
    segment_id: Annotated[int | None, Form(gt=0)] = None,
) -> HTMLResponse | RedirectResponse:
    """Save the builder's definition (a new segment, or a new version of one) and compute its members."""
    parsed, problem = _parse(definition)
    fields: list[dict[str, str]] = []
    if parsed is not None:
        try:
            # A savepoint: a definition refused half-way leaves nothing behind, and the page still renders.
            with session.begin_nested():
                if segment_id is None:
                    body = SegmentCreate(key=key, name=name, definition=parsed)
                    segment_id = segments_service.create(session, body, by=active.user.email).id
                else:
                    update = SegmentUpdate(name=name, definition=parsed)
                    segments_service.update(session, segment_id, update, by=active.user.email)
                membership.recompute(session, segment_id)
            return RedirectResponse(f"/segments/{segment_id}", status_code=303)
        except ValidationError as exc:
            problem = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        except OmniError as exc:
            problem, fields = _problem(exc), _problem_fields(exc)
    context = {
        "section": "segments",
        "segments": segments_service.list_all(session),
        "definition": definition,
        "tags": segments_service.tag_names(session)[:20],
        "problem": problem,
        "problem_fields": fields,
        "form": {"key": key, "name": name},
    }
    if segment_id is not None:
        # A refused new version goes back to the segment's own page, its rows as the marketer left them.
        return _segment_page(request, session, segment_id, None, context, status=422)
    return render(request, "segments.html", context, status=422)


@router.get("/segments/{segment_id}")
def segment_page(
    request: Request,
    session: SessionDep,
    segment_id: SegmentId,
    active: Annotated[ActiveSession, require(Section.SEGMENTS)],
    after: Annotated[int | None, Query(ge=0)] = None,
) -> HTMLResponse:
    """One segment: definition, versions, members (with a why for each), recompute and exports."""
    return _segment_page(request, session, segment_id, after, {})


def _segment_page(
    request: Request,
    session: Session,
    segment_id: int,
    after: int | None,
    edited: dict[str, Any],
    *,
    status: int = 200,
) -> HTMLResponse:
    segment = segments_service.read(session, segment_id)
    context = {
        "section": "segments",
        "segment": segment,
        "definition": json.dumps(segment.definition, ensure_ascii=False, indent=2),
        "versions": segments_service.versions(session, segment_id),
        "members": segments_service.members(session, segment_id, limit=MEMBERS_PAGE, after=after),
    }
    context.update({k: edited[k] for k in ("definition", "problem", "problem_fields", "form") if k in edited})
    return render(request, "segment.html", context, status=status)


@router.post("/segments/{segment_id}/recompute", dependencies=[CsrfChecked])
def recompute(
    session: SessionDep, segment_id: SegmentId, active: Annotated[ActiveSession, require(Section.SEGMENTS)]
) -> RedirectResponse:
    """Recompute members now and come back to the segment."""
    membership.recompute(session, segment_id)
    return RedirectResponse(f"/segments/{segment_id}", status_code=303)


@router.get("/segments/{segment_id}/why/{profile_id}")
def why_page(
    request: Request,
    session: SessionDep,
    segment_id: SegmentId,
    profile_id: Annotated[int, Path(gt=0)],
    active: Annotated[ActiveSession, require(Section.SEGMENTS)],
) -> HTMLResponse:
    """Why a person is (or is not) in a segment: each condition, held or not, with its events."""
    segment = segments_service.read(session, segment_id)
    answer = membership.why(session, segment_id, profile_id)
    return render(request, "segment_why.html", {"section": "segments", "segment": segment, "answer": answer})
