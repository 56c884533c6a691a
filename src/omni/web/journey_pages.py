"""The Journeys section: the list with entered/active/converted, a journey as a flow of boxes with the
people at and through each node, the holdout comparison, and a JSON editor that shows what is wrong."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from omni.accounts.roles import Section
from omni.accounts.service import ActiveSession
from omni.api.deps import SessionDep
from omni.journeys import examples, stats
from omni.journeys import service as journeys_service
from omni.journeys.errors import JourneyNotFound
from omni.journeys.schemas import JourneyCreate, JourneyRead, JourneyStats, JourneyUpdate, NodeStats
from omni.kit.errors import OmniError
from omni.web import journey_builder
from omni.web.rendering import render
from omni.web.security import CsrfChecked, require

router = APIRouter(include_in_schema=False)
JourneyId = Annotated[int, Path(gt=0)]
# Node types and statuses as the page shows them; translated through the catalogue.
LABELS = {
    "delay": "Delay",
    "wait_event": "Wait for an event",
    "condition": "Condition",
    "random_split": "Random split",
    "send": "Send a message",
    "update_profile": "Update the profile",
    "webhook": "Webhook",
    "goal": "Goal",
    "exit": "Exit",
    "draft": "Draft",
    "active": "Active",
    "paused": "Paused",
}


def _parse(text: str) -> tuple[dict[str, Any] | None, str | None]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
    if not isinstance(value, dict):
        return None, "JSON: the definition is an object, { … }"
    return value, None


def _problems(exc: Exception) -> list[str]:
    if isinstance(exc, ValidationError):
        return [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
    assert isinstance(exc, OmniError)
    return [f"{d.get('field', '')}: {d.get('rule', '')}" for d in exc.details] or [exc.message]


def _detail(node: dict[str, Any]) -> str:
    """One line saying what a node does, from its JSON."""
    kind = node.get("type")
    if kind == "delay":
        if "until" in node:
            return f"until {node['until']}"
        return " ".join(f"{v}{k[0]}" for k, v in node.get("duration", {}).items() if v)
    if kind == "wait_event":
        keyed = f" (same {', '.join(node['keys'])})" if node.get("keys") else ""
        timeout = node.get("timeout")
        limit = " ".join(f"{v}{k[0]}" for k, v in timeout.items() if v) if timeout else ""
        return f"{node['event']}{keyed}" + (f", ≤ {limit}" if limit else "")
    if kind == "send":
        return f"{node['channel']} · {node.get('purpose', 'marketing')}"
    if kind == "update_profile":
        return ", ".join([*node.get("traits", {}), *(f"#{t}" for t in node.get("tags", []))])
    if kind == "random_split":
        return " / ".join(
            f"{b['percent']:g}%" + (" holdout" if b.get("holdout") else "") for b in node["branches"]
        )
    return ""


def _flow(read: JourneyRead, numbers: JourneyStats) -> list[dict[str, Any]]:
    """The nodes in the order a person meets them (breadth first from the start), as boxes."""
    by_id: dict[str, NodeStats] = {n.node: n for n in numbers.nodes}
    order, todo = [], [read.definition["start"]]
    while todo:
        node_id = todo.pop(0)
        if node_id in order or node_id not in by_id:
            continue
        order.append(node_id)
        todo.extend(by_id[node_id].next)
    raw = read.definition["nodes"]
    return [
        {
            "id": n,
            "stats": by_id[n],
            "label": LABELS.get(by_id[n].type, by_id[n].type),
            "detail": _detail(raw[n]),
        }
        for n in order
    ]


def _list_page(request: Request, session: SessionDep, **extra: Any) -> HTMLResponse:
    context = {
        "section": "journeys",
        "journeys": journeys_service.list_all(session),
        "labels": LABELS,
        "example": json.dumps(examples.cart_abandonment(), ensure_ascii=False, indent=2),
        **extra,
    }
    return render(request, "journeys.html", context, status=422 if extra.get("problems") else 200)


@router.get("/journeys")
def journeys_page(
    request: Request, session: SessionDep, active: Annotated[ActiveSession, require(Section.JOURNEYS)]
) -> HTMLResponse:
    """Every journey with how many entered, are in it now and converted; and the editor for a new one."""
    return _list_page(request, session)


@router.get("/journeys/new")
def new_journey_page(
    request: Request, session: SessionDep, active: Annotated[ActiveSession, require(Section.JOURNEYS)]
) -> HTMLResponse:
    """The visual builder for a new journey: a trigger and an exit to build in between."""
    blank = journey_builder.BLANK
    context = {
        "section": "journeys",
        "labels": LABELS,
        "builder": journey_builder.builder_data(session, definition=blank, journey_id=None, read_only=False),
        "builder_words": journey_builder.BUILDER_WORDS,
        "definition": json.dumps(blank, ensure_ascii=False, indent=2),
    }
    return render(request, "journey_new.html", context)


@router.post("/journeys", dependencies=[CsrfChecked], response_model=None)
def create_journey(
    request: Request,
    session: SessionDep,
    active: Annotated[ActiveSession, require(Section.JOURNEYS)],
    name: Annotated[str, Form(max_length=200)],
    definition: Annotated[str, Form(max_length=100_000)],
) -> HTMLResponse | RedirectResponse:
    """Save a new journey as a draft, or show every problem with its JSON path."""
    parsed, problem = _parse(definition)
    problems = [problem] if problem else []
    if parsed is not None:
        try:
            with session.begin_nested():
                body = JourneyCreate(name=name, definition=parsed)
                created = journeys_service.create(session, body, by=active.user.email)
            return RedirectResponse(f"/journeys/{created.id}", status_code=303)
        except (ValidationError, OmniError) as exc:
            problems = _problems(exc)
    return _list_page(request, session, problems=problems, example=definition, form={"name": name})


def _journey_page(
    request: Request, session: SessionDep, journey_id: int, version: int | None = None, **extra: Any
) -> HTMLResponse:
    read = journeys_service.read(session, journey_id)
    numbers = stats.journey_stats(session, journey_id)
    versions = journeys_service.versions(session, journey_id)
    # An older version is shown read only: it is what people who entered then still walk through.
    shown = next((v for v in versions if v.version == version), None)
    if version is not None and shown is None:
        raise JourneyNotFound(
            f"journey {journey_id} has no version {version}",
            details=[{"field": "version", "rule": "unknown"}],
        )
    read_only = shown is not None and shown.version != read.current_version
    definition = shown.definition if shown is not None else read.definition
    context = {
        "section": "journeys",
        "journey": read,
        "numbers": numbers,
        "flow": _flow(read, numbers),
        "labels": LABELS,
        "definition": json.dumps(definition, ensure_ascii=False, indent=2),
        "versions": versions,
        "shown_version": shown.version if shown is not None else read.current_version,
        "read_only": read_only,
        "builder": journey_builder.builder_data(
            session, definition=definition, journey_id=journey_id, read_only=read_only, numbers=numbers
        ),
        "builder_words": journey_builder.BUILDER_WORDS,
        **extra,
    }
    return render(request, "journey.html", context, status=422 if extra.get("problems") else 200)


@router.get("/journeys/{journey_id}")
def journey_page(
    request: Request,
    session: SessionDep,
    journey_id: JourneyId,
    active: Annotated[ActiveSession, require(Section.JOURNEYS)],
    version: Annotated[int | None, Query(gt=0)] = None,
) -> HTMLResponse:
    """One journey: its flow with people per node, the holdout comparison, status and versions."""
    return _journey_page(request, session, journey_id, version)


@router.post("/journeys/{journey_id}/versions", dependencies=[CsrfChecked], response_model=None)
def save_version(
    request: Request,
    session: SessionDep,
    journey_id: JourneyId,
    active: Annotated[ActiveSession, require(Section.JOURNEYS)],
    definition: Annotated[str, Form(max_length=100_000)],
) -> HTMLResponse | RedirectResponse:
    """Save the edited JSON as a new version; people in flight stay on theirs."""
    parsed, problem = _parse(definition)
    problems = [problem] if problem else []
    if parsed is not None:
        try:
            with session.begin_nested():
                journeys_service.update(
                    session, journey_id, JourneyUpdate(definition=parsed), by=active.user.email
                )
            return RedirectResponse(f"/journeys/{journey_id}", status_code=303)
        except (ValidationError, OmniError) as exc:
            problems = _problems(exc)
    return _journey_page(request, session, journey_id, problems=problems, draft=definition)


@router.post("/journeys/{journey_id}/status", dependencies=[CsrfChecked])
def set_status(
    session: SessionDep,
    journey_id: JourneyId,
    active: Annotated[ActiveSession, require(Section.JOURNEYS)],
    status: Annotated[str, Form(pattern="^(active|paused)$")],
) -> RedirectResponse:
    """Activate or pause the journey and come back to it."""
    journeys_service.set_status(session, journey_id, status)
    return RedirectResponse(f"/journeys/{journey_id}", status_code=303)
