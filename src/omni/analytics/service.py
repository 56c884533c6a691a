"""Use cases of analytics: each analysis read from people's events, narrowed by the filters.

Event analyses (funnel, purchases, frequency) count only events inside the filters; paths count the
purchases inside them, with the channels before each; customer analyses (retention, omnichannel,
reachability) take the people with an event inside the filters and look at their whole history there.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from itertools import groupby
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from omni.analytics import (
    frequency,
    funnel_sql,
    funnels,
    omnichannel,
    paths,
    purchases,
    reachability,
    retention,
)
from omni.analytics.repository import (
    ORDER_COMPLETED,
    PersonEvent,
    everyone,
    funnel_attempts,
    identifier_kinds,
    local_bounds,
    marketing_consent,
    people_matching,
    person_events,
)
from omni.analytics.schemas import (
    AnalysisRead,
    AnalyticsFilters,
    Breakdown,
    DroppedRead,
    DroppedSegmentRead,
    FunnelRead,
    FunnelStepRead,
    PathsRead,
    RetentionBy,
    SankeyLink,
    SankeyNode,
    TopBy,
)
from omni.kit.errors import ValidationFailed
from omni.kit.time import utc_now
from omni.segments import membership as segments_membership
from omni.segments import service as segments_service
from omni.segments.schemas import SegmentCreate

FUNNEL_COLUMNS = ["group", "step", "event", "people", "conversion", "dropped", "median_seconds_from_start"]
ALL = "all"


def check_filters(session: Session, filters: AnalyticsFilters) -> AnalyticsFilters:
    """The filters, or a 422 naming the field when the date range runs backwards or the segment is unknown."""
    if filters.since and filters.until and filters.until < filters.since:
        raise ValidationFailed(
            "until is before since", details=[{"field": "until", "rule": "must not be before since"}]
        )
    if filters.segment and segments_service.find(session, filters.segment) is None:
        raise ValidationFailed(
            f"no segment {filters.segment}",
            details=[{"field": "segment", "rule": "must be an existing segment's key or id"}],
        )
    return filters


def _read(
    name: str, filters: AnalyticsFilters, columns: list[str], rows: Sequence[Sequence[Any]], **more: Any
) -> dict[str, Any]:
    return {"analysis": name, "filters": filters, "empty": not rows, "columns": columns, "rows": rows, **more}


def _funnel_attempts(
    session: Session,
    filters: AnalyticsFilters,
    funnel: funnels.Funnel,
    zone: ZoneInfo,
    breakdown: Breakdown | None,
) -> Iterator[funnels.Attempt]:
    """Each person's best attempt (every attempt with repeat): from the SQL plan where it is exact."""
    if funnel_sql.eligible(funnel):
        yield from funnel_attempts(session, filters, zone, funnel, breakdown)
        return
    names = {step.event for step in funnel.steps}
    events = person_events(session, filters, zone, names=names)
    for person, own in groupby(events, key=lambda e: e.person):
        touches = [
            funnels.Touch(
                e.at,
                e.event,
                e.properties,
                None if breakdown is None else (e.channel if breakdown == "channel" else e.store) or "—",
            )
            for e in own
        ]
        yield from funnels.attempts_of(funnel, person, touches)


def _by_segment(
    session: Session,
    filters: AnalyticsFilters,
    funnel: funnels.Funnel,
    zone: ZoneInfo,
    attempts: list[funnels.Attempt],
) -> list[funnels.Attempt]:
    """Each attempt once per segment its person is in now ("—" when in none), so groups may overlap."""
    names = {step.event for step in funnel.steps}
    keys = segments_service.member_keys(session, people_matching(filters, zone, names=names))
    return [replace(a, group=key) for a in attempts for key in keys.get(a.person) or ["—"]]


def _funnel(steps: str, window_hours: float, repeat: bool) -> funnels.Funnel:
    window = funnels.window_of(window_hours)
    return funnels.Funnel(funnels.parse_steps(steps, window_hours=window_hours), window, repeat)


def funnel(
    session: Session,
    filters: AnalyticsFilters,
    *,
    steps: str,
    window_hours: float,
    repeat: bool,
    breakdown: Breakdown | None,
    zone: ZoneInfo,
) -> FunnelRead:
    """People (or, with repeat, conversions) reaching each step, per breakdown group and overall."""
    shape = _funnel(steps, window_hours, repeat)
    by_event = None if breakdown == "segment" else breakdown
    attempts = list(_funnel_attempts(session, check_filters(session, filters), shape, zone, by_event))
    overall = funnels.count(shape, (replace(a, group=ALL) for a in attempts))
    if breakdown == "segment":
        attempts = _by_segment(session, filters, shape, zone, attempts)
    groups = funnels.count(shape, attempts) if breakdown else {}
    rows: list[list[Any]] = []
    for group, counts in [*overall.items(), *sorted(groups.items())]:
        for k, step in enumerate(shape.steps):
            start = counts.people[0]
            rows.append(
                [
                    group,
                    k + 1,
                    step.event,
                    counts.people[k],
                    round(counts.people[k] / start, 4) if start else 0.0,
                    counts.dropped[k],
                    funnels.median(counts.seconds[k]),
                ]
            )
    total = overall.get(ALL)
    step_reads = [
        FunnelStepRead(
            index=k + 1,
            event=step.event,
            optional=step.optional,
            people=total.people[k] if total else 0,
            conversion=round(total.people[k] / total.people[0], 4) if total and total.people[0] else 0.0,
            dropped=total.dropped[k] if total else 0,
            median_seconds_from_start=funnels.median(total.seconds[k]) if total else None,
        )
        for k, step in enumerate(shape.steps)
    ]
    return FunnelRead.model_validate(
        _read(
            "funnel",
            filters,
            FUNNEL_COLUMNS,
            rows,
            repeat=repeat,
            breakdown=breakdown,
            steps=step_reads,
        )
    )


def funnel_dropped(
    session: Session,
    filters: AnalyticsFilters,
    *,
    steps: str,
    window_hours: float,
    step: int,
    zone: ZoneInfo,
) -> DroppedRead:
    """The people whose best attempt did the required step before `step` (1-based) but not `step`."""
    shape = _funnel(steps, window_hours, False)
    if not 2 <= step <= len(shape.steps):
        raise ValidationFailed(
            f"step must be 2 to {len(shape.steps)}",
            details=[{"field": "step", "rule": f"must be 2 to {len(shape.steps)}"}],
        )
    k = step - 1
    people = sorted(
        attempt.person
        for attempt in _funnel_attempts(session, check_filters(session, filters), shape, zone, None)
        if attempt.done[k] is None and funnels.reached_before(shape, attempt.done, k)
    )
    return DroppedRead(step=step, event=shape.steps[k].event, profile_ids=people)


def segment_of_dropped(
    session: Session,
    filters: AnalyticsFilters,
    *,
    steps: str,
    window_hours: float,
    step: int,
    zone: ZoneInfo,
    key: str,
    name: str,
    by: str,
) -> DroppedSegmentRead:
    """Make a segment of the people who dropped before step: each is tagged with the segment's key (a
    manual tag follows its person through merges) and the segment holds everyone with that tag."""
    dropped = funnel_dropped(session, filters, steps=steps, window_hours=window_hours, step=step, zone=zone)
    description = f"Dropped before step {step} ({dropped.event}) of the funnel {steps}"[:1000]
    segment = segments_service.create(
        session, SegmentCreate(key=key, name=name, description=description, definition={"tag": key}), by=by
    )
    for person in dropped.profile_ids:
        segments_service.add_tag(session, person, key, by=by)
    computed = segments_membership.recompute(session, segment.id)
    return DroppedSegmentRead(
        segment_id=segment.id, key=key, size=computed.size, profile_ids=dropped.profile_ids
    )


def retention_cohorts(
    session: Session, filters: AnalyticsFilters, *, by: RetentionBy, months: int, zone: ZoneInfo
) -> AnalysisRead:
    """Buyers per month after the first purchase, per first-purchase month or first-purchase channel."""
    check_filters(session, filters)
    start, end = local_bounds(filters, zone)
    people = people_matching(replace_dates(filters), zone) if filters.channel or filters.store else None
    orders = person_events(
        session, filters, zone, names=[ORDER_COMPLETED], dates=False, place=False, people=people
    )
    rows = retention.cohorts(
        (retention.Purchase(o.person, o.at, o.channel) for o in orders),
        by=by,
        months=months,
        zone=zone,
        first_from=start,
        first_before=end,
    )
    return AnalysisRead.model_validate(_read(f"retention_by_{by}", filters, retention.columns(months), rows))


def replace_dates(filters: AnalyticsFilters) -> AnalyticsFilters:
    """The filters without their date range."""
    return filters.model_copy(update={"since": None, "until": None})


def _orders(session: Session, filters: AnalyticsFilters, zone: ZoneInfo) -> Iterator[PersonEvent]:
    return person_events(session, check_filters(session, filters), zone, names=[ORDER_COMPLETED])


def top_sellers(
    session: Session, filters: AnalyticsFilters, *, by: TopBy, limit: int, zone: ZoneInfo, currency: str
) -> AnalysisRead:
    """Best-selling products or categories by revenue in the period."""
    rows = purchases.top_sellers(_orders(session, filters, zone), by=by, limit=limit, currency=currency)
    columns = [by, "name", "units", "revenue_minor", "orders"]
    return AnalysisRead.model_validate(_read(f"top_{by}s", filters, columns, rows, currency=currency))


def purchase_heatmap(session: Session, filters: AnalyticsFilters, *, zone: ZoneInfo) -> AnalysisRead:
    """Orders per local weekday and hour."""
    rows = purchases.heatmap(_orders(session, filters, zone), zone)
    empty = not any(row[2] for row in rows)
    read = _read("purchase_heatmap", filters, ["weekday", "hour", "orders"], rows)
    return AnalysisRead.model_validate({**read, "empty": empty})


def channel_baskets(
    session: Session, filters: AnalyticsFilters, *, zone: ZoneInfo, currency: str
) -> AnalysisRead:
    """Orders, revenue, average order value and basket size per channel."""
    rows, left_out = purchases.by_channel(_orders(session, filters, zone), currency=currency)
    notes = [f"{left_out} order(s) without an amount in {currency} left out of money"] if left_out else []
    columns = ["channel", "orders", "revenue_minor", "aov_minor", "items", "basket_size"]
    return AnalysisRead.model_validate(
        _read("channel_baskets", filters, columns, rows, currency=currency, notes=notes)
    )


def channel_reachability(session: Session, filters: AnalyticsFilters, *, zone: ZoneInfo) -> AnalysisRead:
    """Share of people reachable, not asked, opted out and without an address, per messaging channel."""
    narrowed = any((filters.since, filters.until, filters.channel, filters.store, filters.segment))
    people_query = people_matching(check_filters(session, filters), zone) if narrowed else None
    people = list(session.scalars(people_query)) if people_query is not None else everyone(session)
    rows = reachability.shares(
        people, identifier_kinds(session, people_query), marketing_consent(session, people_query)
    )
    read = _read("reachability", filters, reachability.COLUMNS, rows)
    return AnalysisRead.model_validate({**read, "empty": not people})


def message_frequency(session: Session, filters: AnalyticsFilters, *, zone: ZoneInfo) -> AnalysisRead:
    """Person-weeks by messages received, with the share that opened or clicked; empty until messages."""
    names = frequency.MESSAGE_EVENTS | frequency.ENGAGEMENT_EVENTS
    events = person_events(session, check_filters(session, filters), zone, names=names)
    rows = frequency.by_frequency(events, zone)
    return AnalysisRead.model_validate(_read("message_frequency", filters, frequency.COLUMNS, rows))


def channel_paths(
    session: Session,
    filters: AnalyticsFilters,
    *,
    lookback_days: int,
    max_steps: int,
    limit: int,
    zone: ZoneInfo,
) -> PathsRead:
    """Channel sequences before purchases, as a table of paths and a Sankey of steps."""
    check_filters(session, filters)
    lookback = timedelta(days=lookback_days)
    start, end = local_bounds(filters, zone)
    buyers = people_matching(filters, zone, names=[ORDER_COMPLETED])
    wider = filters.model_copy(
        update={"since": filters.since - timedelta(days=lookback_days) if filters.since else None}
    )
    events = person_events(session, wider, zone, place=False, people=buyers)

    def counted(purchase: PersonEvent) -> bool:
        return (
            (start is None or purchase.at >= start)
            and (end is None or purchase.at < end)
            and (not filters.channel or purchase.channel == filters.channel)
            and (not filters.store or purchase.store == filters.store)
        )

    counts = paths.channel_paths(events, lookback=lookback, max_steps=max_steps, counted=counted)
    nodes, links = paths.sankey(counts)
    return PathsRead.model_validate(
        _read(
            "channel_paths",
            filters,
            paths.COLUMNS,
            paths.table(counts, limit=limit),
            nodes=[SankeyNode(name=n) for n in nodes],
            links=[SankeyLink(source=s, target=t, value=v) for s, t, v in links],
        )
    )


def omnichannel_customers(
    session: Session,
    filters: AnalyticsFilters,
    *,
    zone: ZoneInfo,
    currency: str,
    now: datetime | None = None,
) -> AnalysisRead:
    """Spend, frequency and 6-month repeat of customers who bought on two or more channels, and the rest."""
    check_filters(session, filters)
    _, end = local_bounds(filters, zone)
    people = people_matching(filters, zone) if filters.channel or filters.store else None
    orders = person_events(session, filters, zone, names=[ORDER_COMPLETED], place=False, people=people)
    found = omnichannel.customers(orders, currency=currency)
    as_of = min(end, now or utc_now()) if end else (now or utc_now())
    rows = omnichannel.compare(found, as_of=as_of)
    read = _read("omnichannel", filters, omnichannel.COLUMNS, rows, currency=currency)
    return AnalysisRead.model_validate({**read, "empty": not found})
