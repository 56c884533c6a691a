"""SQL of the analyses: people's events narrowed by the filters, streamed in each person's time order.

Analytics owns no tables. It reads people's activity and consent as the profile domain exposes them and
identifiers as identity exposes them, and composes them in portable SQLAlchemy Core, so the same
statement runs on SQLite and PostgreSQL. Sequences (funnels, paths, cohorts) are then walked in Python
per person, as they are awkward and unportable in SQL; funnels that funnel_sql covers are computed by
the store itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, Subquery, case, func, select, text
from sqlalchemy.orm import Session

from omni.analytics import funnel_sql, funnels
from omni.analytics.schemas import AnalyticsFilters
from omni.identity import service as identity_service
from omni.profiles import service as profiles_service
from omni.segments import service as segments_service

STREAM_CHUNK = 5000
ORDER_COMPLETED = "Order Completed"


@dataclass(frozen=True, slots=True)
class PersonEvent:
    """One of a person's events as the analyses read it."""

    person: int
    at: datetime
    position: int
    type: str
    event: str | None
    channel: str
    store: str | None
    properties: Mapping[str, Any]


def local_bounds(filters: AnalyticsFilters, zone: ZoneInfo) -> tuple[datetime | None, datetime | None]:
    """The UTC instants where the filters' local days begin (since) and end (the day after until)."""

    def start_of(day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=zone).astimezone(ZoneInfo("UTC"))

    start = start_of(filters.since) if filters.since else None
    end = start_of(filters.until + timedelta(days=1)) if filters.until else None
    return start, end


def _activity() -> Subquery:
    return profiles_service.people_activity().subquery("activity")


def store_of(activity: Subquery) -> ColumnElement[Any]:
    """The store an event happened at or is collected from: a till's own store, else the order's store."""
    properties = activity.c.properties
    till = case(
        (activity.c.source.like("pos:%"), func.substr(activity.c.source, 5)),
        else_=None,
    )
    return func.coalesce(
        properties["store_code"].as_string(), properties["pickup_store"].as_string(), till
    ).label("store")


def _narrowed(
    query: Select[Any],
    activity: Subquery,
    filters: AnalyticsFilters,
    zone: ZoneInfo,
    *,
    dates: bool = True,
    place: bool = True,
) -> Select[Any]:
    start, end = local_bounds(filters, zone)
    if dates and start is not None:
        query = query.where(activity.c.occurred_at >= start)
    if dates and end is not None:
        query = query.where(activity.c.occurred_at < end)
    if place and filters.channel:
        query = query.where(activity.c.channel == filters.channel)
    if place and filters.store:
        query = query.where(store_of(activity) == filters.store)
    if filters.segment:
        # Segment narrows the people, never their events, so it applies whatever dates / place say.
        query = query.where(activity.c.person.in_(segments_service.member_ids_query(filters.segment)))
    return query


def people_matching(
    filters: AnalyticsFilters, zone: ZoneInfo, *, names: Iterable[str] | None = None
) -> Select[Any]:
    """A SELECT of the people with at least one event (of the names, when given) inside the filters."""
    activity = _activity()
    query = select(activity.c.person).distinct()
    if names is not None:
        query = query.where(activity.c.event.in_(sorted(set(names))))
    return _narrowed(query, activity, filters, zone)


def person_events(
    session: Session,
    filters: AnalyticsFilters,
    zone: ZoneInfo,
    *,
    names: Iterable[str] | None = None,
    dates: bool = True,
    place: bool = True,
    people: Select[Any] | None = None,
) -> Iterator[PersonEvent]:
    """People's events of the given names (all when None) inside the filters, by person then time.

    dates / place say whether the date range / channel and store narrow the events themselves; people,
    when given, keeps only those people's events.
    """
    activity = _activity()
    query: Select[Any] = select(
        activity.c.person,
        activity.c.occurred_at,
        activity.c.position,
        activity.c.type,
        activity.c.event,
        activity.c.channel,
        store_of(activity),
        activity.c.properties,
    )
    if names is not None:
        query = query.where(activity.c.event.in_(sorted(set(names))))
    if people is not None:
        query = query.where(activity.c.person.in_(people))
    query = _narrowed(query, activity, filters, zone, dates=dates, place=place)
    query = query.order_by(activity.c.person, activity.c.occurred_at, activity.c.position)
    rows = session.execute(query.execution_options(yield_per=STREAM_CHUNK))
    for person, at, position, kind, event, channel, store, properties in rows:
        yield PersonEvent(person, at, position, kind, event, channel, store, properties or {})


def funnel_scope(session: Session, filters: AnalyticsFilters, zone: ZoneInfo) -> funnel_sql.Scope:
    """What filters narrow a funnel's events and people to, as the SQL plans take it."""
    start, end = local_bounds(filters, zone)
    segment = segments_service.find(session, filters.segment) if filters.segment else None
    return funnel_sql.Scope(
        start=start,
        end=end,
        channel=filters.channel,
        store=filters.store,
        # An unknown segment has no members (no segment has id -1); check_filters reports it first.
        segment_id=segment.id if segment is not None else (-1 if filters.segment else None),
    )


def funnel_attempts(
    session: Session,
    filters: AnalyticsFilters,
    zone: ZoneInfo,
    funnel: funnels.Funnel,
    breakdown: str | None,
) -> list[funnels.Attempt]:
    """Each person's best attempt at funnel (one the SQL plan covers), computed by the store itself."""
    scope = funnel_scope(session, filters, zone)
    sql = funnel_sql.sql_of(session.get_bind().dialect.name, funnel, scope, breakdown, summed=False)
    rows = session.execute(text(sql)).all()
    return funnel_sql.as_attempts(rows)


def everyone(session: Session) -> list[int]:
    """Every live person."""
    return identity_service.live_profile_ids(session)


def identifier_kinds(session: Session, people: Select[Any] | None) -> dict[int, set[str]]:
    """The kinds of identifier each person holds (email, phone, device_id ...)."""
    kinds = identity_service.identifier_kinds_of_people().subquery("kinds")
    query = select(kinds.c.profile_id, kinds.c.kind)
    if people is not None:
        query = query.where(kinds.c.profile_id.in_(people))
    held: dict[int, set[str]] = {}
    for person, kind in session.execute(query):
        held.setdefault(person, set()).add(kind)
    return held


def marketing_consent(session: Session, people: Select[Any] | None) -> dict[int, dict[str, bool]]:
    """Each person's marketing consent in force per channel (the latest decision; later position on a tie)."""
    decisions = profiles_service.people_consent().subquery("decisions")
    query = select(
        decisions.c.person,
        decisions.c.channel,
        decisions.c.granted,
        decisions.c.decided_at,
        decisions.c.position,
    ).where(decisions.c.purpose == "marketing")
    if people is not None:
        query = query.where(decisions.c.person.in_(people))
    latest: dict[tuple[int, str], tuple[datetime, int, bool]] = {}
    for person, channel, granted, decided_at, position in session.execute(query):
        held = latest.get((person, channel))
        if held is None or (decided_at, position) > held[:2]:
            latest[(person, channel)] = (decided_at, position, bool(granted))
    found: dict[int, dict[str, bool]] = {}
    for (person, channel), (_, _, granted) in latest.items():
        found.setdefault(person, {})[channel] = granted
    return found
