"""Use cases of the unified profile: look a person up and show the 360° view (indexing.py indexes the log).

What each event says (its traits, consent decisions, computed-trait inputs, its timeline line) is kept
keyed by log position; a profile's view is resolved when read, over the positions identity attributes to
it now. So a merge or an unmerge changes every view at once, and a time window slides by itself.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from omni.identity import service as identity_service
from omni.identity.errors import InvalidIdentifier
from omni.kit.time import utc_now
from omni.profiles import computed, consent, repository, traits
from omni.profiles.errors import ProfileLookupInvalid, ProfileUnknown
from omni.profiles.models import (
    ConsentDecision,
    ProfileActivity,
)
from omni.profiles.priority import SETTINGS_ROW, priority_in, trait_priority
from omni.profiles.schemas import (
    LOOKUP_KINDS,
    ComputedValueRead,
    ConsentRead,
    MatchedIdentifier,
    ProfileRead,
    TimelineItem,
    TimelinePage,
    TraitRead,
)
from omni.profiles.timeline import decode_cursor, encode_cursor, summary

_PHONE_LIKE = re.compile(r"^\+?[\d\s().-]{6,}$")


def people_activity() -> Select[Any]:
    """A SELECT of every attributed event as its person's activity, for analyses over many people.

    Columns: person (the live profile id), position, occurred_at, type, event, channel, source, properties.
    """
    people = identity_service.attributed_people().subquery("people")
    return select(
        people.c.profile_id.label("person"),
        ProfileActivity.position,
        ProfileActivity.occurred_at,
        ProfileActivity.type,
        ProfileActivity.event,
        ProfileActivity.channel,
        ProfileActivity.source,
        ProfileActivity.properties,
    ).join(people, people.c.position == ProfileActivity.position)


def people_consent() -> Select[Any]:
    """A SELECT of every consent decision with its person: person, position, channel, purpose, granted,
    decided_at; the latest decision per person, channel and purpose is the one in force."""
    people = identity_service.attributed_people().subquery("people")
    return select(
        people.c.profile_id.label("person"),
        ConsentDecision.position,
        ConsentDecision.channel,
        ConsentDecision.purpose,
        ConsentDecision.granted,
        ConsentDecision.decided_at,
    ).join(people, people.c.position == ConsentDecision.position)


def live_profile(session: Session, profile_id: int) -> int:
    """The live profile an id resolves to (404 when identity never made it)."""
    return identity_service.merged_into(session, profile_id)


def find(session: Session, query: Sequence[tuple[str, str]]) -> tuple[int, MatchedIdentifier]:
    """The live profile of exactly one identifier given as kind=value (phones and emails in any format)."""
    given = [(kind, value) for kind, value in query if kind in LOOKUP_KINDS]
    unknown = sorted({kind for kind, _ in query} - set(LOOKUP_KINDS))
    if unknown or len(given) != 1:
        problem = f"unknown lookup key {', '.join(unknown)}" if unknown else "give exactly one identifier"
        raise ProfileLookupInvalid(
            problem, details=[{"field": "query", "rule": f"exactly one of {', '.join(LOOKUP_KINDS)}"}]
        )
    kind, raw = given[0]
    kind, value = identity_service.normalized_lookup(session, kind, raw)
    profile_id = identity_service.profile_for_identifier(session, kind, value)
    if profile_id is None:
        raise ProfileUnknown(f"no profile has {kind} {value}", details=[{"field": kind, "rule": "unknown"}])
    return profile_id, MatchedIdentifier(kind=kind, value=value)


def _positions(session: Session, profile_id: int, *, resolved: bool = False) -> Select[Any]:
    return identity_service.attributed_positions(session, profile_id, resolved=resolved)


def _traits(priority: Sequence[str], rows: Iterable[Any]) -> dict[str, TraitRead]:
    # rows are (position, trait, value, source, observed_at), as the repository reads them.
    stated = [traits.Observation(*row) for row in rows]
    return {
        name: TraitRead(value=won.value, source=won.source, observed_at=won.observed_at)
        for name, won in traits.resolve(stated, priority).items()
    }


def traits_of(
    session: Session, profile_id: int, *, positions: Select[Any] | None = None
) -> dict[str, TraitRead]:
    """The profile's traits, each the winner by source priority then time."""
    priority = trait_priority(session).priority
    if positions is None:
        positions = _positions(session, profile_id)
    return _traits(priority, repository.observations(session, positions))


def _computed_values(
    definitions: Sequence[Any], inputs: Iterable[Any], at: datetime
) -> list[ComputedValueRead]:
    # definitions are (id, name, aggregation, event, property, window_days) oldest first; inputs are
    # (trait_id, position, occurred_at, value).
    cutoffs = {row[0]: computed.window_start(at, row[5]) for row in definitions}
    by_trait: dict[int, list[computed.Input]] = defaultdict(list)
    for trait_id, position, occurred_at, value in inputs:
        # Inputs of a definition deleted meanwhile have no cutoff; they no longer count.
        if trait_id not in cutoffs:
            continue
        cutoff = cutoffs[trait_id]
        # Events stamped in the future have not happened yet as of now.
        if (cutoff is None or occurred_at >= cutoff) and occurred_at <= at:
            by_trait[trait_id].append(computed.Input(position, occurred_at, value))
    return [
        ComputedValueRead(
            name=name,
            aggregation=aggregation,
            event=event,
            property=property_,
            window_days=window_days,
            value=computed.aggregate(aggregation, by_trait[trait_id]),
            events=len(by_trait[trait_id]),
        )
        for trait_id, name, aggregation, event, property_, window_days in definitions
    ]


def computed_values_of(
    session: Session,
    profile_id: int,
    *,
    now: datetime | None = None,
    positions: Select[Any] | None = None,
) -> list[ComputedValueRead]:
    """Every computed trait's value for the profile as of now, windows counted back from now."""
    at = now or utc_now()
    definitions = repository.definition_rows(session)
    if positions is None:
        positions = _positions(session, profile_id)
    return _computed_values(definitions, repository.inputs(session, positions), at)


def consent_read(states: Sequence[consent.ConsentState]) -> list[ConsentRead]:
    """The API shape of consent states."""
    return [
        ConsentRead(
            channel=s.channel,
            purpose=s.purpose,
            status="unknown" if s.granted is None else "granted" if s.granted else "denied",
            decided_at=s.decided_at,
            source=s.source,
            evidence=s.evidence,
        )
        for s in states
    ]


def decisions_of(
    session: Session, profile_id: int, positions: Select[Any] | None = None
) -> list[consent.Decision]:
    """Every consent decision of the profile's events (positions, when given, are the profile's)."""
    if positions is None:
        positions = _positions(session, profile_id)
    # Rows are (position, channel, purpose, granted, decided_at, source, evidence), a Decision's fields.
    return [consent.Decision(*row) for row in repository.decisions(session, positions)]


def consent_of(
    session: Session, profile_id: int, *, positions: Select[Any] | None = None
) -> list[ConsentRead]:
    """Consent per channel and purpose, each at its latest decision."""
    return consent_read(consent.state(decisions_of(session, profile_id, positions)))


def profile_view(
    session: Session,
    profile_id: int,
    *,
    matched: MatchedIdentifier | None = None,
    now: datetime | None = None,
) -> ProfileRead:
    """The 360° view of the profile profile_id resolves to."""
    live = live_profile(session, profile_id)
    return _view(session, live, requested_id=profile_id, matched=matched, now=now)


def lookup(session: Session, query: Sequence[tuple[str, str]], *, now: datetime | None = None) -> ProfileRead:
    """The 360° view of the profile holding exactly one identifier given as kind=value."""
    profile_id, matched = find(session, query)
    # Identity keeps every identifier on a live profile, so the profile found needs no resolving.
    return _view(session, profile_id, requested_id=profile_id, matched=matched, now=now)


def _view(
    session: Session,
    live: int,
    *,
    requested_id: int,
    matched: MatchedIdentifier | None,
    now: datetime | None,
) -> ProfileRead:
    # The settings, definitions, traits, consent and computed inputs come in one statement: on a busy
    # server every round trip is a wait for the database and for the interpreter's lock.
    positions = repository.positions_of(session, _positions(session, live, resolved=True))
    facts = repository.profile_facts(session, positions, settings_row=SETTINGS_ROW)
    return ProfileRead(
        profile_id=live,
        requested_id=requested_id,
        merged_away=live != requested_id,
        matched=matched,
        identities=identity_service.identifiers_of(session, live, resolved=True),
        traits=_traits(priority_in(facts.settings), facts.observations),
        computed_traits=_computed_values(facts.definitions, facts.inputs, now or utc_now()),
        consent=consent_read(consent.state(consent.Decision(*row) for row in facts.decisions)),
    )


def timeline(
    session: Session, profile_id: int, *, limit: int = 50, before: str | None = None
) -> TimelinePage:
    """The profile's events on every channel, newest first; next_before pages back."""
    live = live_profile(session, profile_id)
    cursor = decode_cursor(before) if before else None
    rows = repository.activity_page(
        session, _positions(session, live, resolved=True), limit=limit + 1, before=cursor
    )
    page = rows[:limit]
    items = [
        TimelineItem(
            position=row.position,
            occurred_at=row.occurred_at,
            type=row.type,
            event=row.event,
            channel=row.channel,
            source=row.source,
            summary=summary(row.properties),
        )
        for row in page
    ]
    more = len(rows) > limit
    return TimelinePage(
        profile_id=live,
        items=items,
        next_before=encode_cursor(page[-1].occurred_at, page[-1].position) if more and page else None,
    )


def search(session: Session, query: str, *, limit: int = 20) -> list[int]:
    """Live profiles matching what a clerk types: an email, a phone in any format, a member number or id,
    or part of a name; exact identifiers first."""
    text = query.strip()
    if not text:
        return []
    found: dict[int, None] = {}
    kinds = ["email"] if "@" in text else ["phone", "member_id", "user_id"] if _PHONE_LIKE.match(text) else []
    kinds += [kind for kind in ("member_id", "user_id") if kind not in kinds]
    for kind in kinds:
        try:
            profile = identity_service.find_profile(session, kind, text)
        except InvalidIdentifier:
            continue
        if profile is not None:
            found.setdefault(profile, None)
    positions = repository.positions_with_trait_text(session, "name", text, limit=limit * 20)
    owners = identity_service.profiles_of_positions(session, positions)
    for position in positions:
        if position in owners:
            found.setdefault(owners[position], None)
    return list(found)[:limit]
