"""One page per dashboard section, each showing what Omni knows today."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from omni.accounts.roles import Section
from omni.accounts.service import ActiveSession
from omni.api.deps import SessionDep, SettingsDep
from omni.catalog import service as catalog_service
from omni.catalog.schemas import WEEKDAYS
from omni.events import service as events_service
from omni.kit.time import utc_now
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


@router.get("/catalog")
def catalog(
    request: Request, session: SessionDep, active: Annotated[ActiveSession, require(Section.CATALOG)]
) -> HTMLResponse:
    return render(
        request, "catalog.html", {"locations": catalog_service.list_locations(session), "weekdays": WEEKDAYS}
    )


@router.get("/orders")
def orders(
    request: Request, session: SessionDep, active: Annotated[ActiveSession, require(Section.ORDERS)]
) -> HTMLResponse:
    recent = events_service.recent_events(session, limit=100, event="Order Completed")
    if active.user.store_code:
        # Store staff see their own store's orders.
        recent = [ev for ev in recent if ev.context.get("store_code") == active.user.store_code]
    return render(request, "orders.html", {"orders": recent})


@router.get("/analytics")
def analytics(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    active: Annotated[ActiveSession, require(Section.ANALYTICS)],
) -> HTMLResponse:
    latest = events_service.latest_counted_day(session)
    today = latest or utc_now().astimezone(ZoneInfo(settings.timezone)).date()
    since = today - timedelta(days=29)
    rows = events_service.daily_counts(session, since=since)
    days = [since + timedelta(days=offset) for offset in range(30)]
    by_day_channel: dict[tuple[str, str], int] = {}
    for row in rows:
        key = (row.day.isoformat(), row.channel)
        by_day_channel[key] = by_day_channel.get(key, 0) + row.count
    channels = sorted({channel for _, channel in by_day_channel})
    return render(
        request,
        "analytics.html",
        {"days": days, "channels": channels, "counts": by_day_channel},
    )


def _empty_section(section: Section, template: str) -> None:
    # The permission goes in dependencies: with postponed annotations FastAPI cannot see require(section)
    # inside a closure's parameter annotation and would take the parameter for a query string.
    @router.get(f"/{section.value}", name=section.value, dependencies=[require(section)])
    def page(request: Request) -> HTMLResponse:
        return render(request, template, {"section": section.value})


for _section in (Section.SEGMENTS, Section.JOURNEYS, Section.LOYALTY):
    _empty_section(_section, f"{_section.value}.html")
