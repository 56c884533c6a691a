"""SQL of the segments domain: running compiled expressions on the session, and storing membership."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import ibis.expr.types as ir
from sqlalchemy import (
    BigInteger,
    Select,
    String,
    bindparam,
    column,
    delete,
    insert,
    select,
    table,
    text,
    update,
)
from sqlalchemy.orm import Session

from omni.db.types import UTCDateTime
from omni.segments import compile as c
from omni.segments.models import ProfileTag, Segment, SegmentMember, SegmentVersion

CHUNK = 500
# Identifier kinds an event can be addressed to, best first, and the message field each goes in.
ADDRESS_FIELDS = (("user_id", "userId"), ("member_id", "userId"), ("anonymous_id", "anonymousId"))


def engine_of(session: Session) -> str:
    """sqlite or postgresql: the engine the session talks to."""
    return session.get_bind().dialect.name


def run(session: Session, ctx: c.Context, expression: ir.Table) -> list[tuple[Any, ...]]:
    """Rows of a compiled expression, in the session's transaction."""
    return [tuple(row) for row in session.execute(text(c.to_sql(ctx, expression))).all()]


def profile_ids(session: Session, ctx: c.Context, expression: c.Members) -> set[int]:
    """The profile ids an expression selects."""
    return {int(row[0]) for row in run(session, ctx, expression)}


def distinct_names(session: Session, ctx: c.Context, table: str, column: str) -> set[str]:
    """Every distinct value of a text column (trait or event names seen so far)."""
    source = ctx.t[table]
    expression = source.filter(source[column].notnull()).select(column).distinct()
    return {str(row[0]) for row in run(session, ctx, expression)}


# Identity's identifiers, read by table name as the compiled expressions read them (no model import);
# a plain statement, compiled once, as Ibis compiling one query per chunk cost most of a large recompute.
_IDENTIFIER = table(
    "identity_identifier",
    column("profile_id", BigInteger()),
    column("kind", String()),
    column("value", String()),
    column("last_seen_at", UTCDateTime()),
)
_ADDRESSABLE = select(_IDENTIFIER).where(
    _IDENTIFIER.c.kind.in_([kind for kind, _ in ADDRESS_FIELDS]),
    _IDENTIFIER.c.profile_id.in_(bindparam("profiles", expanding=True)),
)


def addresses(session: Session, profiles: Sequence[int]) -> dict[int, tuple[str, str]]:
    """For each profile, the message field and identifier a Segment event about it is sent under."""
    kinds = [kind for kind, _ in ADDRESS_FIELDS]
    held: dict[int, list[tuple[int, datetime, str, str]]] = {}
    for start in range(0, len(profiles), CHUNK):
        chunk = list(profiles[start : start + CHUNK])
        for profile_id, kind, value, seen in session.execute(_ADDRESSABLE, {"profiles": chunk}):
            held.setdefault(int(profile_id), []).append((kinds.index(kind), seen, kind, value))
    fields = dict(ADDRESS_FIELDS)
    chosen: dict[int, tuple[str, str]] = {}
    for profile_id, options in held.items():
        # The best kind first; of that kind, the identifier seen last.
        best = min(rank for rank, _, _, _ in options)
        _, _, kind, value = max(option for option in options if option[0] == best)
        chosen[profile_id] = (fields[kind], value)
    return chosen


def member_ids(session: Session, segment_id: int, among: Iterable[int] | None = None) -> set[int]:
    """Current members of a segment, optionally only among some profiles."""
    query = select(SegmentMember.profile_id).where(SegmentMember.segment_id == segment_id)
    if among is None:
        return set(session.scalars(query))
    wanted = list(among)
    found: set[int] = set()
    for start in range(0, len(wanted), CHUNK):
        found.update(
            session.scalars(query.where(SegmentMember.profile_id.in_(wanted[start : start + CHUNK])))
        )
    return found


def apply_changes(
    session: Session,
    segment_id: int,
    *,
    entered: Sequence[int],
    exited: Sequence[int],
    version: int,
    at: datetime,
) -> None:
    """Add entering members and remove exiting ones."""
    for start in range(0, len(exited), CHUNK):
        session.execute(
            delete(SegmentMember).where(
                SegmentMember.segment_id == segment_id,
                SegmentMember.profile_id.in_(exited[start : start + CHUNK]),
            )
        )
    rows = [
        {"segment_id": segment_id, "profile_id": p, "version": version, "entered_at": at} for p in entered
    ]
    for start in range(0, len(rows), CHUNK * 4):
        session.execute(insert(SegmentMember), rows[start : start + CHUNK * 4])


def absorbed_members(session: Session, absorbed: Select[int]) -> set[int]:
    """Profile ids among absorbed that still hold member rows in any segment."""
    return set(
        session.scalars(select(SegmentMember.profile_id).where(SegmentMember.profile_id.in_(absorbed)))
    )


def move_members(session: Session, moves: Mapping[int, int]) -> dict[int, int]:
    """Move absorbed profiles' member rows onto the live profile that absorbed them, one row per segment
    (the live profile's own row wins); return the rows removed per segment, for the segments' sizes."""
    removed: dict[int, int] = {}
    for absorbed, live in sorted(moves.items()):
        held = set(session.scalars(select(SegmentMember.segment_id).where(SegmentMember.profile_id == live)))
        rows = session.scalars(select(SegmentMember.segment_id).where(SegmentMember.profile_id == absorbed))
        for segment_id in sorted(set(rows)):
            row = (SegmentMember.segment_id == segment_id) & (SegmentMember.profile_id == absorbed)
            if segment_id in held:
                session.execute(delete(SegmentMember).where(row))
                removed[segment_id] = removed.get(segment_id, 0) + 1
            else:
                session.execute(update(SegmentMember).where(row).values(profile_id=live))
                held.add(segment_id)
    return removed


def stamp_version(session: Session, segment_id: int, version: int) -> None:
    """Mark every current member as computed under version."""
    session.execute(
        update(SegmentMember).where(SegmentMember.segment_id == segment_id).values(version=version)
    )


def current_definitions(session: Session) -> list[tuple[Segment, dict[str, Any]]]:
    """Every segment with its current definition, oldest first."""
    rows = session.execute(
        select(Segment, SegmentVersion.definition)
        .join(
            SegmentVersion,
            (SegmentVersion.segment_id == Segment.id) & (SegmentVersion.version == Segment.current_version),
        )
        .order_by(Segment.id)
    ).all()
    return [(segment, definition) for segment, definition in rows]


def members_page(session: Session, segment_id: int, *, limit: int, after: int | None) -> list[SegmentMember]:
    """Members in profile id order, after a profile id."""
    query = select(SegmentMember).where(SegmentMember.segment_id == segment_id)
    if after is not None:
        query = query.where(SegmentMember.profile_id > after)
    return list(session.scalars(query.order_by(SegmentMember.profile_id).limit(limit)))


def tags_held(session: Session, keys: Sequence[tuple[str, str]]) -> list[ProfileTag]:
    """Tags held by any of the (kind, value) identifiers."""
    found: list[ProfileTag] = []
    for kind in {k for k, _ in keys}:
        values = [v for k, v in keys if k == kind]
        for start in range(0, len(values), CHUNK):
            found.extend(
                session.scalars(
                    select(ProfileTag).where(
                        ProfileTag.kind == kind, ProfileTag.value.in_(values[start : start + CHUNK])
                    )
                )
            )
    return found
