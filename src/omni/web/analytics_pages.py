"""The analytics page: a filter form and one chart per analysis, drawn in the browser from the API's JSON.

The page itself computes nothing: each chart's container names the /v1/analytics URL it is drawn from
(and that URL with format=csv is its download), so what the chart shows and what the API answers are
the same numbers.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from omni.accounts.roles import Section
from omni.accounts.service import ActiveSession
from omni.api.deps import SessionDep, SettingsDep
from omni.catalog import service as catalog_service
from omni.catalog.schemas import LocationKind
from omni.events import service as events_service
from omni.kit.time import utc_now
from omni.segments import service as segments_service
from omni.web.rendering import render
from omni.web.security import require

router = APIRouter(include_in_schema=False)

FILTER_CHANNELS = ("web", "app", "pos", "marketplace", "email", "sms", "push", "crm")
DEFAULT_STEPS = "Product Viewed,Product Added,Checkout Started,Order Completed"
# Section id, chart kind, title, API path and its own parameters; the kind picks the drawing in analytics.js.
CHARTS: tuple[tuple[str, str, str, dict[str, str]], ...] = (
    ("omnichannel", "Omnichannel vs single-channel customers", "/v1/analytics/omnichannel", {}),
    ("retention", "Retention by first-purchase month", "/v1/analytics/retention", {"by": "month"}),
    ("retention-channel", "Retention by acquisition channel", "/v1/analytics/retention", {"by": "channel"}),
    ("top-products", "Top products", "/v1/analytics/purchases/top", {"by": "product"}),
    ("top-categories", "Top categories", "/v1/analytics/purchases/top", {"by": "category"}),
    ("heatmap", "Orders by weekday and hour", "/v1/analytics/purchases/heatmap", {}),
    ("baskets", "Average order value and basket size by channel", "/v1/analytics/purchases/channels", {}),
    ("reachability", "Reachability by channel", "/v1/analytics/reachability", {}),
    ("frequency", "Messages per person per week against engagement", "/v1/analytics/frequency", {}),
    ("paths", "Channel paths before a purchase", "/v1/analytics/paths", {}),
)
# What the drawing script shows instead of codes, translated on the server.
CHART_WORDS = (
    "people",
    "Spend per customer",
    "Orders per customer",
    "6-month repeat rate",
    "omnichannel",
    "single_channel",
    "revenue",
    "orders",
    "Average order value",
    "Basket size",
    "reachable",
    "not_asked",
    "opted_out",
    "no_address",
    "person_weeks",
    "engagement_rate",
    "month {n}",
    "mon",
    "tue",
    "wed",
    "thu",
    "fri",
    "sat",
    "sun",
    *FILTER_CHANNELS,
)


def _query(**values: Any) -> str:
    return urlencode({k: v for k, v in values.items() if v not in (None, "", False)})


@router.get("/analytics")
def analytics(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    active: Annotated[ActiveSession, require(Section.ANALYTICS)],
    since: Annotated[date | None, Query()] = None,
    until: Annotated[date | None, Query()] = None,
    channel: Annotated[str | None, Query(max_length=32)] = None,
    store: Annotated[str | None, Query(max_length=64)] = None,
    segment: Annotated[str | None, Query(max_length=64)] = None,
    steps: Annotated[str, Query(max_length=4000)] = DEFAULT_STEPS,
    window_hours: Annotated[float, Query(gt=0)] = 168,
    breakdown: Annotated[str | None, Query(pattern="^(channel|store|segment)?$")] = None,
) -> HTMLResponse:
    """Every analysis as a chart under one set of filters, and the events counted per day."""
    filters = _query(since=since, until=until, channel=channel, store=store, segment=segment)
    funnel_query = _query(
        since=since,
        until=until,
        channel=channel,
        store=store,
        segment=segment,
        steps=steps,
        window_hours=window_hours,
    )
    step_names = [name.strip() for name in steps.split(",")] if not steps.lstrip().startswith("[") else []
    charts = [
        {
            "id": key,
            "title": title,
            "src": "?".join(filter(None, (path, "&".join(filter(None, (_query(**params), filters)))))),
        }
        for key, title, path, params in CHARTS
    ]
    funnel_src = f"/v1/analytics/funnel?{funnel_query}" + (f"&breakdown={breakdown}" if breakdown else "")
    latest = events_service.latest_counted_day(session)
    today = latest or utc_now().astimezone(ZoneInfo(settings.timezone)).date()
    first_day = today - timedelta(days=29)
    by_day_channel: dict[tuple[str, str], int] = {}
    for row in events_service.daily_counts(session, since=first_day):
        key = (row.day.isoformat(), row.channel)
        by_day_channel[key] = by_day_channel.get(key, 0) + row.count
    return render(
        request,
        "analytics.html",
        {
            "filters": {
                "since": since,
                "until": until,
                "channel": channel,
                "store": store,
                "segment": segment,
            },
            "funnel": {"steps": steps, "window_hours": window_hours, "breakdown": breakdown or ""},
            "funnel_src": funnel_src,
            "dropped_links": [
                (k, name, f"/v1/analytics/funnel/dropped?{funnel_query}&step={k}&format=csv")
                for k, name in enumerate(step_names, start=1)
                if k >= 2
            ],
            "charts": charts,
            "channels": FILTER_CHANNELS,
            "stores": catalog_service.list_locations(session, kind=LocationKind.STORE),
            "segments": segments_service.list_all(session),
            "chart_words": CHART_WORDS,
            "currency": settings.currency,
            "days": [first_day + timedelta(days=offset) for offset in range(30)],
            "day_channels": sorted({c for _, c in by_day_channel}),
            "counts": by_day_channel,
        },
    )
