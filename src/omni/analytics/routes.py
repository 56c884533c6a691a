"""The analytics API: one GET per chart, answering JSON or, with ?format=csv, the table behind the chart.

Analytics sits below the API layer, so the staff check (marketers and admins) is chosen where the
application includes this router.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from omni.analytics import service
from omni.analytics.retention import MAX_MONTHS
from omni.analytics.schemas import (
    AnalysisRead,
    AnalyticsFilters,
    Breakdown,
    DroppedRead,
    DroppedSegmentCreate,
    DroppedSegmentRead,
    FunnelRead,
    PathsRead,
    RetentionBy,
    TopBy,
)
from omni.db.requests import SessionDep
from omni.settings import Settings

router = APIRouter(prefix="/v1/analytics", tags=["analytics"])
Format = Literal["json", "csv"]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _filters(
    session: SessionDep,
    since: Annotated[date | None, Query(description="First local day counted.")] = None,
    until: Annotated[date | None, Query(description="Last local day counted.")] = None,
    channel: Annotated[str | None, Query(max_length=32, description="web, app, pos, email ...")] = None,
    store: Annotated[str | None, Query(max_length=64, description="A store's code.")] = None,
    segment: Annotated[
        str | None, Query(min_length=1, max_length=64, description="A segment's key or id: its members only.")
    ] = None,
) -> AnalyticsFilters:
    filters = AnalyticsFilters(since=since, until=until, channel=channel, store=store, segment=segment)
    return service.check_filters(session, filters)


SettingsDep = Annotated[Settings, Depends(_settings)]
FiltersDep = Annotated[AnalyticsFilters, Depends(_filters)]
FormatQuery = Annotated[Format, Query(alias="format", description="json, or csv for the table.")]
StepsQuery = Annotated[
    str,
    Query(
        min_length=1,
        max_length=4000,
        description='Event names separated by commas, or a JSON list of {"event", "where", "optional", '
        '"within_hours"}.',
    ),
]
WindowQuery = Annotated[float, Query(description="Conversion window from step 1, in hours.")]


def _csv(name: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows(["" if cell is None else cell for cell in row] for row in rows)
    return Response(
        # A byte-order mark lets spreadsheet programs read the Chinese names as UTF-8.
        "\ufeff" + buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}.csv"'},
    )


def _answer(read: AnalysisRead, output: Format) -> BaseModel | Response:
    return _csv(read.analysis, read.columns, read.rows) if output == "csv" else read


@router.get("/funnel", response_model=FunnelRead)
def funnel(
    session: SessionDep,
    settings: SettingsDep,
    filters: FiltersDep,
    steps: StepsQuery,
    window_hours: WindowQuery = 168,
    repeat: Annotated[bool, Query(description="Count every conversion, not each person once.")] = False,
    breakdown: Annotated[
        Breakdown | None,
        Query(description="Group by step 1's channel or store, or by the person's segments."),
    ] = None,
    output: FormatQuery = "json",
) -> Any:
    """People reaching each step of an ordered funnel, the share of step 1, and who dropped off."""
    read = service.funnel(
        session,
        filters,
        steps=steps,
        window_hours=window_hours,
        repeat=repeat,
        breakdown=breakdown,
        zone=ZoneInfo(settings.timezone),
    )
    return _answer(read, output)


@router.get("/funnel/dropped", response_model=DroppedRead)
def funnel_dropped(
    session: SessionDep,
    settings: SettingsDep,
    filters: FiltersDep,
    steps: StepsQuery,
    step: Annotated[int, Query(ge=2, le=10, description="The step (2 = the second) they did not reach.")],
    window_hours: WindowQuery = 168,
    output: FormatQuery = "json",
) -> Any:
    """The profile ids of the people who dropped off before a step, to act on them."""
    read = service.funnel_dropped(
        session, filters, steps=steps, window_hours=window_hours, step=step, zone=ZoneInfo(settings.timezone)
    )
    if output == "csv":
        return _csv(f"funnel-dropped-step-{step}", ["profile_id"], [[p] for p in read.profile_ids])
    return read


@router.post("/funnel/dropped/segment", response_model=DroppedSegmentRead, status_code=201)
def segment_of_dropped(
    request: Request,
    body: DroppedSegmentCreate,
    session: SessionDep,
    settings: SettingsDep,
    filters: FiltersDep,
    steps: StepsQuery,
    step: Annotated[int, Query(ge=2, le=10, description="The step (2 = the second) they did not reach.")],
    window_hours: WindowQuery = 168,
) -> DroppedSegmentRead:
    """Make a segment of the people who dropped off before a step (tagged with the segment's key)."""
    actor = getattr(request.state, "actor", None)
    return service.segment_of_dropped(
        session,
        filters,
        steps=steps,
        window_hours=window_hours,
        step=step,
        zone=ZoneInfo(settings.timezone),
        key=body.key,
        name=body.name,
        by=actor if isinstance(actor, str) else "api",
    )


@router.get("/retention", response_model=AnalysisRead)
def retention(
    session: SessionDep,
    settings: SettingsDep,
    filters: FiltersDep,
    by: Annotated[RetentionBy, Query(description="Cohorts by first-purchase month or channel.")] = "month",
    months: Annotated[int, Query(ge=1, le=MAX_MONTHS)] = 6,
    output: FormatQuery = "json",
) -> Any:
    """Buyers in each month after the first purchase, per cohort."""
    zone = ZoneInfo(settings.timezone)
    return _answer(service.retention_cohorts(session, filters, by=by, months=months, zone=zone), output)


@router.get("/purchases/top", response_model=AnalysisRead)
def top_sellers(
    session: SessionDep,
    settings: SettingsDep,
    filters: FiltersDep,
    by: Annotated[TopBy, Query()] = "product",
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    output: FormatQuery = "json",
) -> Any:
    """Best-selling products or categories by revenue."""
    read = service.top_sellers(
        session, filters, by=by, limit=limit, zone=ZoneInfo(settings.timezone), currency=settings.currency
    )
    return _answer(read, output)


@router.get("/purchases/heatmap", response_model=AnalysisRead)
def purchase_heatmap(
    session: SessionDep, settings: SettingsDep, filters: FiltersDep, output: FormatQuery = "json"
) -> Any:
    """Orders per weekday and hour in the store's time zone."""
    return _answer(service.purchase_heatmap(session, filters, zone=ZoneInfo(settings.timezone)), output)


@router.get("/purchases/channels", response_model=AnalysisRead)
def channel_baskets(
    session: SessionDep, settings: SettingsDep, filters: FiltersDep, output: FormatQuery = "json"
) -> Any:
    """Average order value and basket size per channel."""
    read = service.channel_baskets(
        session, filters, zone=ZoneInfo(settings.timezone), currency=settings.currency
    )
    return _answer(read, output)


@router.get("/reachability", response_model=AnalysisRead)
def reachability(
    session: SessionDep, settings: SettingsDep, filters: FiltersDep, output: FormatQuery = "json"
) -> Any:
    """Share of people reachable and opted out per messaging channel."""
    return _answer(service.channel_reachability(session, filters, zone=ZoneInfo(settings.timezone)), output)


@router.get("/frequency", response_model=AnalysisRead)
def message_frequency(
    session: SessionDep, settings: SettingsDep, filters: FiltersDep, output: FormatQuery = "json"
) -> Any:
    """Messages per person per week against engagement; empty until messages are logged."""
    return _answer(service.message_frequency(session, filters, zone=ZoneInfo(settings.timezone)), output)


@router.get("/paths", response_model=PathsRead)
def channel_paths(
    session: SessionDep,
    settings: SettingsDep,
    filters: FiltersDep,
    lookback_days: Annotated[int, Query(ge=1, le=365)] = 30,
    max_steps: Annotated[int, Query(ge=1, le=8)] = 4,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    output: FormatQuery = "json",
) -> Any:
    """Channel sequences before a purchase, for a Sankey."""
    read = service.channel_paths(
        session,
        filters,
        lookback_days=lookback_days,
        max_steps=max_steps,
        limit=limit,
        zone=ZoneInfo(settings.timezone),
    )
    return _answer(read, output)


@router.get("/omnichannel", response_model=AnalysisRead)
def omnichannel(
    session: SessionDep, settings: SettingsDep, filters: FiltersDep, output: FormatQuery = "json"
) -> Any:
    """Spend, frequency and 6-month repeat rate of omnichannel against single-channel customers."""
    read = service.omnichannel_customers(
        session, filters, zone=ZoneInfo(settings.timezone), currency=settings.currency
    )
    return _answer(read, output)
