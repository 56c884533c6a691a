"""One page per dashboard section, each showing what Omni knows today."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from omni.accounts.roles import Section
from omni.accounts.service import ActiveSession
from omni.api.deps import SessionDep
from omni.events import service as events_service
from omni.web.rendering import render
from omni.web.security import require

router = APIRouter(include_in_schema=False)

CHANNELS = ("web", "app", "pos", "marketplace", "crm", "email", "sms", "push")


@router.get("/")
def overview(
    request: Request, session: SessionDep, active: Annotated[ActiveSession, require(Section.OVERVIEW)]
) -> HTMLResponse:
    totals = events_service.totals_by_channel(session)
    return render(
        request,
        "overview.html",
        {
            "totals": sorted(totals.items(), key=lambda item: -item[1]),
            "event_count": events_service.count_events(session),
            "recent": events_service.recent_events(session, limit=15),
        },
    )


@router.get("/partials/recent-events")
def recent_events_partial(
    request: Request, session: SessionDep, active: Annotated[ActiveSession, require(Section.OVERVIEW)]
) -> HTMLResponse:
    """The live feed on the overview, refreshed by HTMX."""
    return render(
        request, "partials/recent_events.html", {"recent": events_service.recent_events(session, limit=15)}
    )


def _empty_section(section: Section, template: str) -> None:
    # The permission goes in dependencies: with postponed annotations FastAPI cannot see require(section)
    # inside a closure's parameter annotation and would take the parameter for a query string.
    @router.get(f"/{section.value}", name=section.value, dependencies=[require(section)])
    def page(request: Request) -> HTMLResponse:
        return render(request, template, {"section": section.value})


for _section in (Section.JOURNEYS, Section.LOYALTY):
    _empty_section(_section, f"{_section.value}.html")
