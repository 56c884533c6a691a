"""Use cases of the identity graph: stitch the log into profiles, look profiles up, explain and unmerge."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Select, or_, select, update
from sqlalchemy.orm import Session

from omni.identity import repository
from omni.identity.errors import (
    InvalidIdentifier,
    MergeAlreadyUndone,
    MergeExceedsLimit,
    MergeInvalid,
    MergeNotFound,
    ProfileNotFound,
    ProfileNotLive,
)
from omni.identity.graph import Graph, Key, Sighting
from omni.identity.models import (
    EventAttribution,
    Identifier,
    IdentityConflict,
    IdentityMerge,
    IdentityProfile,
    IdentityRuleSet,
)
from omni.identity.normalize import normalize_identifier
from omni.identity.rules import RULE_ALIAS, RULE_CO_OCCURRENCE, StitchRules, extract
from omni.identity.schemas import (
    AttributedEventRead,
    ConflictRead,
    IdentifierRead,
    IdentityRules,
    MergeRead,
    ProfileIdentityRead,
    UnmergeRead,
)
from omni.kit.time import utc_now
from omni.settings import get_settings

RULES_ROW = 1
# Merges made without a shared identifier: by the matcher on its own, or by a person reviewing its guess.
MATCH_RULES = ("probabilistic", "manual_review")
MAX_MERGE_DEPTH = 10_000


class LoggedMessage(Protocol):
    """What stitching reads of a logged event."""

    @property
    def position(self) -> int: ...
    @property
    def message_id(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def user_id(self) -> str | None: ...
    @property
    def anonymous_id(self) -> str | None: ...
    @property
    def previous_id(self) -> str | None: ...
    @property
    def source(self) -> str: ...
    @property
    def timestamp(self) -> datetime: ...
    @property
    def traits(self) -> Mapping[str, Any]: ...
    @property
    def properties(self) -> Mapping[str, Any]: ...
    @property
    def context(self) -> Mapping[str, Any]: ...


# Sessions live for one request or one batch; the rules they read cannot change under them but by save_rules.
_RULES_CACHE = "identity.rules"


def rules_document(session: Session) -> IdentityRules:
    """The stitching rules in force, as the API shows them."""
    row = session.get(IdentityRuleSet, RULES_ROW)
    return IdentityRules.model_validate(row.document) if row else IdentityRules()


def current_rules(session: Session) -> StitchRules:
    """The stitching rules in force, phones read in the configured region; read once per session."""
    cached = session.info.get(_RULES_CACHE)
    if isinstance(cached, StitchRules):
        return cached
    document = rules_document(session)
    rules = session.info[_RULES_CACHE] = StitchRules(
        priority=tuple(document.priority),
        limits=dict(document.limits),
        paths={kind: tuple(paths) for kind, paths in document.paths.items()},
        extra_blocked=tuple(document.blocked_values),
        region=get_settings().phone_region,
        user_id_patterns=dict(document.user_id_patterns),
    )
    return rules


def save_rules(session: Session, rules: IdentityRules) -> IdentityRules:
    """Replace the stitching rules; they apply to events stitched from now on."""
    repository.lock_graph(session)
    session.info.pop(_RULES_CACHE, None)
    row = session.get(IdentityRuleSet, RULES_ROW)
    if row is None:
        row = IdentityRuleSet(id=RULES_ROW, document={}, updated_at=utc_now())
        session.add(row)
    row.document = rules.model_dump()
    row.updated_at = utc_now()
    session.flush()
    return rules


def stitch(session: Session, batch: Sequence[LoggedMessage]) -> None:
    """Link the identifiers of a batch of logged events into profiles and attribute each event.

    The whole batch is resolved with a few set-based reads, linked in memory (graph.py), and written in
    bulk. Processing a batch again changes nothing: its identifiers are already linked, attributions
    and conflicts are keyed by event.
    """
    repository.lock_graph(session)
    rules = current_rules(session)
    extracted = [
        extract(
            rules,
            user_id=event.user_id,
            anonymous_id=event.anonymous_id,
            previous_id=event.previous_id if event.type == "alias" else None,
            traits=event.traits,
            properties=event.properties,
            context=event.context,
        )
        for event in batch
    ]
    keys: set[Key] = set()
    for found in extracted:
        keys.update(found.identifiers)
        if found.previous_id is not None:
            keys.update((("user_id", found.previous_id), ("anonymous_id", found.previous_id)))
    known = repository.known_identifiers(session, keys)
    graph = Graph(
        rules,
        {key: profile_id for key, (_, profile_id) in known.items()},
        repository.kind_counts(session, {profile_id for _, profile_id in known.values()}),
    )
    for event, found in zip(batch, extracted, strict=True):
        identifiers = found.identifiers
        if found.previous_id is not None:
            # previousId names an earlier userId when one is known, otherwise the anonymous id it was.
            previous_user = ("user_id", found.previous_id)
            known_user = graph.profile_of(previous_user) is not None
            previous = previous_user if known_user else ("anonymous_id", found.previous_id)
            if previous not in identifiers:
                identifiers = tuple(sorted((*identifiers, previous), key=lambda key: rules.rank(key[0])))
        if identifiers:
            graph.observe(
                Sighting(
                    position=event.position,
                    message_id=event.message_id,
                    source=event.source,
                    occurred_at=event.timestamp,
                    identifiers=identifiers,
                    rule=RULE_ALIAS if event.type == "alias" else RULE_CO_OCCURRENCE,
                )
            )
    repository.apply_plan(session, graph, known)


def normalized_lookup(session: Session, kind: str, raw_value: str) -> Key:
    """The (kind, value) key a raw value stands for, or InvalidIdentifier naming the rule it breaks."""
    rules = current_rules(session)
    result = normalize_identifier(kind, raw_value, region=rules.region, blocked=rules.blocked)
    if result.value is None:
        raise InvalidIdentifier(
            f"{raw_value[:100]!r} is not a usable {kind}", details=[{"field": kind, "rule": result.reason}]
        )
    return kind, result.value


def profile_for_identifier(session: Session, kind: str, value: str) -> int | None:
    """The live profile holding an already-normalised identifier, None when no profile has it."""
    return session.scalar(
        select(Identifier.profile_id).where(Identifier.kind == kind, Identifier.value == value)
    )


def find_profile(session: Session, kind: str, raw_value: str) -> int | None:
    """The live profile of an identifier as anyone writes it (0912-345-678 finds +886912345678)."""
    return profile_for_identifier(session, *normalized_lookup(session, kind, raw_value))


def merged_into(session: Session, profile_id: int) -> int:
    """The live profile a profile id resolves to: itself, or the profile that absorbed it."""
    current = profile_id
    for _ in range(MAX_MERGE_DEPTH):
        parent = session.execute(
            select(IdentityProfile.id, IdentityProfile.merged_into_id).where(IdentityProfile.id == current)
        ).first()
        if parent is None:
            raise ProfileNotFound(f"no profile {profile_id}")
        if parent.merged_into_id is None:
            return current
        current = parent.merged_into_id
    raise ProfileNotFound(f"profile {profile_id} has no live profile within {MAX_MERGE_DEPTH} merges")


def identifiers_of(session: Session, profile_id: int, *, resolved: bool = False) -> list[IdentifierRead]:
    """The identifiers of the live profile profile_id resolves to (or is, if resolved), by priority."""
    live = profile_id if resolved else merged_into(session, profile_id)
    rows = session.scalars(select(Identifier).where(Identifier.profile_id == live)).all()
    rules = current_rules(session)
    rows = sorted(rows, key=lambda row: (rules.rank(row.kind), row.kind, row.first_seen_at, row.id))
    return [IdentifierRead.model_validate(row) for row in rows]


def events_of(
    session: Session, profile_id: int, *, limit: int = 100, before: int | None = None
) -> list[AttributedEventRead]:
    """Log events attributed to the live profile, newest first; before pages by log position."""
    live = merged_into(session, profile_id)
    query = (
        select(EventAttribution.position, Identifier.kind, Identifier.value)
        .join(Identifier, Identifier.id == EventAttribution.identifier_id)
        .where(Identifier.profile_id == live)
        .order_by(EventAttribution.position.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(EventAttribution.position < before)
    return [
        AttributedEventRead(position=p, kind=kind, value=value)
        for p, kind, value in session.execute(query).all()
    ]


def explain(session: Session, profile_id: int) -> ProfileIdentityRead:
    """Identifiers, the merges (with evidence, undone ones included) and conflicts of a profile."""
    live = merged_into(session, profile_id)
    subtree = repository.in_subtree(live)
    merged = sorted(set(session.scalars(subtree).all()) - {live})
    merges = session.scalars(
        select(IdentityMerge)
        .where(or_(IdentityMerge.survivor_id.in_(subtree), IdentityMerge.absorbed_id.in_(subtree)))
        .order_by(IdentityMerge.id)
    ).all()
    conflicts = session.scalars(
        select(IdentityConflict).where(IdentityConflict.profile_id == live).order_by(IdentityConflict.id)
    ).all()
    return ProfileIdentityRead(
        profile_id=live,
        requested_id=profile_id,
        merged_profile_ids=merged,
        identifiers=identifiers_of(session, live),
        merges=[MergeRead.model_validate(merge) for merge in merges],
        conflicts=[ConflictRead.model_validate(conflict) for conflict in conflicts],
    )


def unmerge(session: Session, profile_id: int, merge_id: int, *, by: str) -> UnmergeRead:
    """Undo one merge: the identifiers that came with the absorbed profile go to a new profile.

    Those are the identifiers born in the absorbed profile or in any profile merged into it before; their
    events follow them, as events are attributed to identifiers. Later merges stay as they are.
    """
    repository.lock_graph(session)
    live = merged_into(session, profile_id)
    merge = session.get(IdentityMerge, merge_id)
    if merge is None or merged_into(session, merge.survivor_id) != live:
        raise MergeNotFound(f"profile {profile_id} has no merge {merge_id}")
    if merge.undone_at is not None:
        raise MergeAlreadyUndone(f"merge {merge_id} was undone on {merge.undone_at.isoformat()}")
    now = utc_now()
    split = IdentityProfile(created_at=now)
    session.add(split)
    session.flush()
    session.execute(
        update(Identifier)
        .where(
            Identifier.profile_id == live,
            Identifier.born_profile_id.in_(repository.in_subtree(merge.absorbed_id)),
        )
        .values(profile_id=split.id)
    )
    session.execute(
        update(IdentityProfile)
        .where(IdentityProfile.id == merge.absorbed_id)
        .values(merged_into_id=split.id, merged_at=now)
    )
    merge.undone_at = now
    merge.undone_into_id = split.id
    merge.undone_by = by
    session.flush()
    return UnmergeRead(
        merge_id=merge.id, profile_id=live, new_profile_id=split.id, moved=identifiers_of(session, split.id)
    )


def attributed_positions(session: Session, profile_id: int, *, resolved: bool = False) -> Select[int]:
    """A SELECT of the log positions attributed to the live profile, for other domains' IN clauses.

    Other domains key what they derive from events by log position and resolve a profile's events at read
    time through this, so their views follow merges and unmerges without being told of them. resolved says
    profile_id is already live, sparing the lookup.
    """
    live = profile_id if resolved else merged_into(session, profile_id)
    return (
        select(EventAttribution.position)
        .join(Identifier, Identifier.id == EventAttribution.identifier_id)
        .where(Identifier.profile_id == live)
    )


def profiles_of_positions(session: Session, positions: Sequence[int]) -> dict[int, int]:
    """The live profile each attributed log position belongs to; unattributed positions are left out."""
    found: dict[int, int] = {}
    for start in range(0, len(positions), repository.IN_CHUNK):
        chunk = positions[start : start + repository.IN_CHUNK]
        rows = session.execute(
            select(EventAttribution.position, Identifier.profile_id)
            .join(Identifier, Identifier.id == EventAttribution.identifier_id)
            .where(EventAttribution.position.in_(chunk))
        ).all()
        found.update(dict(rows))
    return found


def attributed_people() -> Select[int, int]:
    """A SELECT of (position, profile_id) for every attributed log position, the profile being live.

    For analyses that join many people's events at once; identifiers always sit on live profiles.
    """
    return select(EventAttribution.position, Identifier.profile_id).join(
        Identifier, Identifier.id == EventAttribution.identifier_id
    )


def identifier_kinds_of_people() -> Select[int, str]:
    """A SELECT of (profile_id, kind), one row per kind of identifier each live profile holds."""
    return select(Identifier.profile_id, Identifier.kind).distinct()


def live_profile_ids(session: Session) -> list[int]:
    """Every live profile (not absorbed by another), oldest first."""
    return list(
        session.scalars(
            select(IdentityProfile.id)
            .where(IdentityProfile.merged_into_id.is_(None))
            .order_by(IdentityProfile.id)
        ).all()
    )


def merge_profiles(
    session: Session,
    survivor_id: int,
    absorbed_id: int,
    *,
    rule: str,
    evidence: dict[str, Any],
    by: str | None,
) -> MergeRead:
    """Merge two live profiles that share no identifier, as a deterministic merge would; unmerge undoes it.

    The merge is refused (409) when the profiles together would hold more identifiers of a kind than the
    stitching rules allow, as the deterministic graph refuses such a link.
    """
    if rule not in MATCH_RULES:
        raise MergeInvalid(
            f"rule must be one of {', '.join(MATCH_RULES)}, not {rule[:50]!r}",
            details=[{"field": "rule", "rule": f"one of {', '.join(MATCH_RULES)}"}],
        )
    if survivor_id == absorbed_id:
        raise MergeInvalid(
            "a profile cannot absorb itself", details=[{"field": "absorbed_id", "rule": "not survivor_id"}]
        )
    repository.lock_graph(session)
    for field, profile_id in (("survivor_id", survivor_id), ("absorbed_id", absorbed_id)):
        live = merged_into(session, profile_id)
        if live != profile_id:
            raise ProfileNotLive(
                f"profile {profile_id} was merged into {live}",
                details=[{"field": field, "rule": "a live profile"}],
            )
    counts = repository.kind_counts(session, (survivor_id, absorbed_id))
    limits = current_rules(session).limits
    for kind, limit in sorted(limits.items()):
        together = counts.get(survivor_id, {}).get(kind, 0) + counts.get(absorbed_id, {}).get(kind, 0)
        if together > limit:
            raise MergeExceedsLimit(
                f"profiles {survivor_id} and {absorbed_id} together hold {together} {kind} identifiers; "
                f"the limit is {limit}",
                details=[{"field": kind, "rule": f"at most {limit} per profile"}],
            )
    now = utc_now()
    session.execute(
        update(IdentityProfile)
        .where(IdentityProfile.id == absorbed_id)
        .values(merged_into_id=survivor_id, merged_at=now)
    )
    session.execute(
        update(Identifier).where(Identifier.profile_id == absorbed_id).values(profile_id=survivor_id)
    )
    # No identifier or event links the two: the evidence column carries the reason instead.
    merge = IdentityMerge(
        survivor_id=survivor_id,
        absorbed_id=absorbed_id,
        kind="",
        value="",
        rule=rule,
        message_id="",
        event_position=0,
        source=(by or "matcher")[:100],
        occurred_at=now,
        recorded_at=now,
        evidence=evidence,
    )
    session.add(merge)
    session.flush()
    return MergeRead.model_validate(merge)
