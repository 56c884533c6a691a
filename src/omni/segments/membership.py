"""Membership: full recomputes, incremental updates from the log, Segment Entered/Exited events, and why.

A recompute computes the new member set and applies the difference in the caller's transaction: if
anything fails the transaction rolls back and the previous members stay as they were. Every change is
also an event on the log, keyed to the person and with a messageId made of the segment, the person, the
change and the log position it was computed at, so a batch processed again appends nothing twice.

An incremental update (a consumer's batch) evaluates, for the batch's people only, the segments the batch
can affect: segments.dependencies derives what a definition reads (event names, orders, traits, consent,
reachability, other segments) and what the batch touched, evaluating everything when a person's identity
changed or a message is of a type it does not know. Referenced segments come first, and one whose members
changed for these people re-evaluates the segments referring to it. Windows sliding with time wait for
the periodic full recompute, and so does every segment with a ranking condition (rfm, revenue_top_percent).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from omni.events import service as events_service
from omni.events.models import LoggedEvent
from omni.identity import lineage
from omni.identity import service as identity_service
from omni.kit.errors import OmniError
from omni.kit.time import utc_now
from omni.segments import compile as c
from omni.segments import definitions as d
from omni.segments import dependencies, repository, service
from omni.segments.models import Segment
from omni.segments.schemas import (
    ConditionWhy,
    EvidenceEvent,
    RecomputeAllRead,
    RecomputeFailure,
    RecomputeRead,
    WhyRead,
)

EVENT_CHANNEL = "omni"
EVIDENCE_LIMIT = 10
# Unmerges are not on the log: a person in one undone this long before the last full recompute (which may
# not have seen it committed yet) or since is evaluated against every segment.
UNMERGE_MARGIN = timedelta(minutes=10)


def _tree(session: Session, segment: Segment, definition: dict[str, Any], ctx: c.Context) -> d.Node:
    # Checked again at evaluation: a computed trait or segment it names may have been deleted since.
    return service.check_saved(session, definition, key=segment.key, ctx=ctx)


def _announce(
    session: Session,
    segment: Segment,
    version: int,
    ctx: c.Context,
    *,
    entered: Sequence[int],
    exited: Sequence[int],
    at_position: int,
) -> None:
    """Append Segment Entered / Exited for each change to the log, keyed to the person."""
    changed = [*entered, *exited]
    if not changed:
        return
    addresses = repository.addresses(session, changed)
    payloads = []
    for profile_id, event in [
        *((p, "Segment Entered") for p in entered),
        *((p, "Segment Exited") for p in exited),
    ]:
        address = addresses.get(profile_id)
        if address is None:
            continue  # a person known only by email or phone has no userId to key an event to
        change = "entered" if event == "Segment Entered" else "exited"
        payloads.append(
            {
                "type": "track",
                "event": event,
                address[0]: address[1],
                "messageId": f"segments:{segment.id}:{profile_id}:{change}:{at_position}",
                "timestamp": ctx.now.isoformat(),
                "properties": {
                    "segment_id": segment.id,
                    "segment_key": segment.key,
                    "segment_name": segment.name,
                    "version": version,
                    "profile_id": profile_id,
                },
            }
        )
    if payloads:
        records = events_service.build_records(
            payloads, source=service.SEGMENTS_SOURCE, default_channel=EVENT_CHANNEL
        )
        events_service.append_events(session, records)


def follow_merges(session: Session, moves: Mapping[int, int] | None = None) -> None:
    """Give the member rows of absorbed profiles to the live profile that absorbed them.

    A merge moves a person's identifiers, not the rows other domains keep per profile id; without this an
    absorbed profile would stay a member (and count in sizes) until it "exited". moves maps absorbed
    profiles to their live one (the incremental path knows those of its people); by default every absorbed
    profile still holding member rows is followed.
    """
    if moves is None:
        stale = repository.absorbed_members(session, lineage.absorbed_profiles())
        moves = {p: identity_service.merged_into(session, p) for p in sorted(stale)}
    if not moves:
        return
    removed = repository.move_members(session, moves)
    for segment_id, count in removed.items():
        segment = service.get(session, segment_id)
        segment.size = max(segment.size - count, 0)
    session.flush()


def recompute(session: Session, segment_id: int, *, now: datetime | None = None) -> RecomputeRead:
    """Compute a segment's members afresh under its current version and apply the difference."""
    segment = service.get(session, segment_id)
    definition = next(defn for s, defn in repository.current_definitions(session) if s.id == segment_id)
    follow_merges(session)
    return _recompute(session, segment, definition, now=now)


def _recompute(
    session: Session, segment: Segment, definition: dict[str, Any], *, now: datetime | None
) -> RecomputeRead:
    ctx = service.context(session, now=now)
    tree = _tree(session, segment, definition, ctx)
    head = events_service.head_position(session)
    wanted = repository.profile_ids(session, ctx, c.members(ctx, tree))
    held = repository.member_ids(session, segment.id)
    entered, exited = sorted(wanted - held), sorted(held - wanted)
    version = segment.current_version
    repository.apply_changes(session, segment.id, entered=entered, exited=exited, version=version, at=ctx.now)
    repository.stamp_version(session, segment.id, version)
    _announce(session, segment, version, ctx, entered=entered, exited=exited, at_position=head)
    segment.computed_version, segment.computed_at, segment.size = version, ctx.now, len(wanted)
    session.flush()
    return RecomputeRead(
        segment_id=segment.id, version=version, size=len(wanted), entered=len(entered), exited=len(exited)
    )


def _in_dependency_order(rows: list[tuple[Segment, dict[str, Any]]]) -> list[tuple[Segment, dict[str, Any]]]:
    """Segments that others refer to come first, so a referring segment sees their fresh members."""
    keys = {segment.key for segment, _ in rows}
    refs = {s.key: d.referenced_segments(service._tree_unchecked(defn)) & keys for s, defn in rows}
    done: list[str] = []
    while len(done) < len(rows):
        ready = [k for k in sorted(refs) if k not in done and refs[k] <= set(done)]
        # A cycle cannot be saved; should one exist anyway, its members are computed in key order.
        done.extend(ready or [next(k for k in sorted(refs) if k not in done)])
    order = {key: i for i, key in enumerate(done)}
    return sorted(rows, key=lambda row: order[row[0].key])


def recompute_all(
    session: Session, *, now: datetime | None = None, only_uncomputed: bool = False
) -> RecomputeAllRead:
    """Recompute every segment (or those never computed), each in a savepoint: one that fails keeps its
    previous members."""
    result = RecomputeAllRead(recomputed=[], failed=[])
    follow_merges(session)
    for segment, definition in _in_dependency_order(repository.current_definitions(session)):
        if only_uncomputed and segment.computed_version is not None:
            continue
        try:
            with session.begin_nested():
                result.recomputed.append(_recompute(session, segment, definition, now=now))
        except OmniError as exc:
            result.failed.append(RecomputeFailure(segment_id=segment.id, key=segment.key, error=exc.message))
    return result


@dataclass(frozen=True)
class Update:
    """What an incremental update did: the segments it evaluated (keys, in order) and the changes made."""

    evaluated: tuple[str, ...]
    changes: int


def update_for_events(session: Session, events: Sequence[LoggedEvent], *, at_position: int) -> Update:
    """Re-evaluate, for the people these logged events belong to, the segments the events can affect.

    The skip rule is dependencies' (see there); a segment it cannot classify is evaluated.
    """
    positions = [event.position for event in events]
    people = sorted(set(identity_service.profiles_of_positions(session, positions).values()))
    if not people:
        return Update(evaluated=(), changes=0)
    absorbed = lineage.absorbed_into(session, people)
    follow_merges(session, absorbed)
    rows = _in_dependency_order(repository.current_definitions(session))
    computed = [s.computed_at for s, _ in rows if s.computed_at is not None]
    if not computed:
        return Update(evaluated=(), changes=0)  # never computed in full: the first recompute sets everyone
    reshaped = lineage.reshaped(
        session,
        [*people, *absorbed],
        positions=positions,
        message_ids=[event.message_id for event in events],
        unmerged_since=min(computed) - UNMERGE_MARGIN,
    )
    batch = dependencies.touched(events, identity_changed=reshaped)
    changes, evaluated, changed_keys = 0, list[str](), set[str]()
    ctx = service.context(session, profiles=people)
    for segment, definition in rows:
        if segment.computed_version is None:
            continue  # never computed in full: the first recompute sets everyone at once
        if not dependencies.affected(
            dependencies.needs(service._tree_unchecked(definition)), batch, changed_keys
        ):
            continue
        try:
            tree = _tree(session, segment, definition, ctx)
        except OmniError:
            continue  # a definition gone stale waits for a person to fix it; the full recompute reports it
        evaluated.append(segment.key)
        wanted = repository.profile_ids(session, ctx, c.members(ctx, tree))
        held = repository.member_ids(session, segment.id, among=people)
        entered, exited = sorted(wanted - held), sorted(held - wanted)
        if not entered and not exited:
            continue
        changed_keys.add(segment.key)
        version = segment.current_version
        repository.apply_changes(
            session, segment.id, entered=entered, exited=exited, version=version, at=ctx.now
        )
        _announce(session, segment, version, ctx, entered=entered, exited=exited, at_position=at_position)
        segment.size += len(entered) - len(exited)
        changes += len(entered) + len(exited)
    session.flush()
    return Update(evaluated=tuple(evaluated), changes=changes)


def _raw_at(definition: Any, path: str) -> Any:
    node = definition
    for key, index in re.findall(r"\.(\w+)(?:\[(\d+)\])?", path):
        node = node[key]
        if index:
            node = node[int(index)]
    return node


def _why(
    session: Session, ctx: c.Context, node: d.Node, raw: dict[str, Any], profile_id: int
) -> ConditionWhy:
    if isinstance(node, d.All | d.Any_ | d.Not):
        children = [node.condition] if isinstance(node, d.Not) else list(node.conditions)
        parts = [_why(session, ctx, child, raw, profile_id) for child in children]
        held = (
            not parts[0].held
            if isinstance(node, d.Not)
            else all(p.held for p in parts)
            if isinstance(node, d.All)
            else any(p.held for p in parts)
        )
        kind = {d.All: "all", d.Any_: "any", d.Not: "not"}[type(node)]
        return ConditionWhy(path=node.path, kind=kind, held=held, conditions=parts)
    held = profile_id in repository.profile_ids(session, ctx, c.members(ctx, node))
    why = ConditionWhy(
        path=node.path, kind=type(node).__name__.lower(), condition=_raw_at(raw, node.path), held=held
    )
    found = c.evidence(ctx, node)
    if found is not None:
        why.events = [
            EvidenceEvent(position=p, occurred_at=at, event=e, channel=ch)
            for p, at, e, ch in repository.run(session, ctx, found.limit(EVIDENCE_LIMIT))
        ]
    if isinstance(node, d.Trait):
        rows = repository.run(session, ctx, c.resolved_traits(ctx, node.name).select("value", "source"))
        if rows:
            # A JSON column comes back as its text (Ibis casts PostgreSQL's jsonb to text too).
            value = json.loads(rows[0][0]) if isinstance(rows[0][0], str) else rows[0][0]
            why.detail = f"{node.name} = {value} (from {rows[0][1]})"
        else:
            why.detail = f"no {node.name}"
    return why


def why(session: Session, segment_id: int, profile_id: int, *, now: datetime | None = None) -> WhyRead:
    """Which conditions hold for this person, with the events that made event and order conditions hold."""
    segment = service.get(session, segment_id)
    live = identity_service.merged_into(session, profile_id)
    member = live in repository.member_ids(session, segment.id, among=[live])
    definition = next(defn for s, defn in repository.current_definitions(session) if s.id == segment_id)
    ctx = service.context(session, now=now or utc_now(), profiles=[live])
    tree = _tree(session, segment, definition, ctx)
    explained = _why(session, ctx, tree, definition, live)
    return WhyRead(
        segment_id=segment.id,
        profile_id=live,
        version=segment.current_version,
        member=member,
        held=explained.held,
        why=explained,
    )
