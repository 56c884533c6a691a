"""Use cases of segments: save versioned definitions, estimate, list, read members, tag people."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, select
from sqlalchemy.orm import Session

from omni.identity import service as identity_service
from omni.kit.time import utc_now
from omni.profiles import definitions as profile_definitions
from omni.profiles import service as profiles_service
from omni.profiles.priority import trait_priority
from omni.segments import compile as c
from omni.segments import definitions as d
from omni.segments import repository
from omni.segments.errors import SegmentExists, SegmentNotFound, TagInvalid
from omni.segments.models import ProfileTag, Segment, SegmentMember, SegmentVersion
from omni.segments.schemas import (
    EstimateRead,
    MemberRead,
    MembersPage,
    SegmentCreate,
    SegmentRead,
    SegmentUpdate,
    SegmentVersionRead,
    TagsRead,
)

# Traits every retailer's profiles may carry, known before the first event states them.
STANDARD_TRAITS = frozenset(
    {
        "email",
        "phone",
        "name",
        "first_name",
        "last_name",
        "birthday",
        "gender",
        "city",
        "address",
        "member_id",
        "member_tier",
        "created_at",
        "language",
        "preferred_store",
    }
)
# Segment e-commerce spec v2 and engagement events, known before the first one arrives.
SPEC_EVENTS = frozenset(
    {
        "Products Searched",
        "Product List Viewed",
        "Product Viewed",
        "Product Clicked",
        "Product Added",
        "Product Removed",
        "Cart Viewed",
        "Checkout Started",
        "Checkout Step Completed",
        "Payment Info Entered",
        "Order Completed",
        "Order Updated",
        "Order Refunded",
        "Order Cancelled",
        "Coupon Applied",
        "Product Added to Wishlist",
        "Application Installed",
        "Application Opened",
        "Email Delivered",
        "Email Opened",
        "Email Link Clicked",
        "SMS Delivered",
        "SMS Link Clicked",
        "Push Notification Opened",
        "Segment Entered",
        "Segment Exited",
    }
)
SEGMENTS_SOURCE = "omni:segments"


def context(session: Session, *, now: datetime | None = None, profiles: list[int] | None = None) -> c.Context:
    """What definitions are evaluated against on this session's store, now."""
    return c.Context(
        engine=repository.engine_of(session),
        now=now or utc_now(),
        priority=tuple(trait_priority(session).priority),
        computed={
            t.name: c.ComputedTraitRef(t.id, t.aggregation, t.window_days)
            for t in profile_definitions.list_all(session)
        },
        segment_ids=dict(session.execute(select(Segment.key, Segment.id)).all()),
        profiles=profiles,
    )


def vocabulary(session: Session, ctx: c.Context, *, names: bool = True) -> d.Vocabulary:
    """The traits, events, computed traits and segments a definition may name on this store.

    names=False accepts any trait or event name: a name once seen never leaves the log, so a saved
    definition only goes stale through deleted computed traits and segments, and evaluating it need not
    scan the log for names.
    """
    refs = {
        segment.key: d.referenced_segments(_tree_unchecked(definition))
        for segment, definition in repository.current_definitions(session)
    }
    everything = _Everything()
    return d.Vocabulary(
        traits=STANDARD_TRAITS | repository.distinct_names(session, ctx, "profile_trait", "trait")
        if names
        else everything,
        events=SPEC_EVENTS | repository.distinct_names(session, ctx, "profile_activity", "event")
        if names
        else everything,
        computed_traits=set(ctx.computed),
        segments=set(ctx.segment_ids),
        segment_refs=refs,
    )


def _tree_unchecked(definition: dict[str, Any]) -> d.Node:
    # A stored definition was checked when saved; names it uses may have gone since, which only
    # matters when it is evaluated.
    everything = _Everything()
    return d.parse(definition, d.Vocabulary(everything, everything, everything, everything))


class _Everything(frozenset[str]):
    def __contains__(self, _: object) -> bool:
        return True


def check(
    session: Session, definition: dict[str, Any], *, key: str | None = None, ctx: c.Context | None = None
) -> d.Node:
    """The typed tree of a definition, or DefinitionInvalid (422) with the path of the first problem."""
    ctx = ctx or context(session)
    return d.parse(definition, vocabulary(session, ctx), own_key=key)


def check_saved(session: Session, definition: dict[str, Any], *, key: str, ctx: c.Context) -> d.Node:
    """The typed tree of a saved definition, checked for what can go stale since it was saved."""
    return d.parse(definition, vocabulary(session, ctx, names=False), own_key=key)


def _read(session: Session, segment: Segment) -> SegmentRead:
    version = session.get(SegmentVersion, (segment.id, segment.current_version))
    return SegmentRead(
        id=segment.id,
        key=segment.key,
        name=segment.name,
        description=segment.description,
        predefined=segment.predefined,
        current_version=segment.current_version,
        computed_version=segment.computed_version,
        computed_at=segment.computed_at,
        size=segment.size,
        definition=version.definition if version else {},
    )


def get(session: Session, segment_id: int) -> Segment:
    """The segment with this id (404 otherwise)."""
    segment = session.get(Segment, segment_id)
    if segment is None:
        raise SegmentNotFound(f"no segment {segment_id}", details=[{"field": "segment_id", "rule": "exists"}])
    return segment


def by_key(session: Session, key: str) -> Segment | None:
    """The segment with this key, None when there is none."""
    return session.scalar(select(Segment).where(Segment.key == key))


def _id_of(id_or_key: str) -> ColumnElement[Any]:
    """The id of the segment with this key or, when no key matches, this id (a key may be all digits)."""
    keyed = select(Segment.id).where(Segment.key == id_or_key).scalar_subquery()
    if not id_or_key.isdigit() or len(id_or_key) > 9:
        return keyed
    numbered = select(Segment.id).where(Segment.id == int(id_or_key)).scalar_subquery()
    return func.coalesce(keyed, numbered)


def find(session: Session, id_or_key: str) -> Segment | None:
    """The segment with this key or, failing that, this id; None when there is neither."""
    return session.scalar(select(Segment).where(Segment.id == _id_of(id_or_key)))


def member_ids_query(id_or_key: str) -> Select[Any]:
    """A SELECT of the current members' profile ids of a segment (by key, else id), for other domains to
    compose into their own queries without loading the members."""
    return select(SegmentMember.profile_id).where(SegmentMember.segment_id == _id_of(id_or_key))


def member_keys(session: Session, people: Select[Any] | None = None) -> dict[int, list[str]]:
    """The keys of the segments each person is a member of now (of the people selected, when given)."""
    query = select(SegmentMember.profile_id, Segment.key).join(
        Segment, Segment.id == SegmentMember.segment_id
    )
    if people is not None:
        query = query.where(SegmentMember.profile_id.in_(people))
    held: dict[int, list[str]] = {}
    for person, key in session.execute(query.order_by(SegmentMember.profile_id, Segment.key)):
        held.setdefault(person, []).append(key)
    return held


def create(
    session: Session, body: SegmentCreate, *, by: str, predefined: bool = False, checked: bool = True
) -> SegmentRead:
    """Save a new segment as version 1 of its definition; members come with the first recompute."""
    if by_key(session, body.key) is not None:
        raise SegmentExists(f"a segment {body.key} exists", details=[{"field": "key", "rule": "unique"}])
    if checked:
        check(session, body.definition, key=body.key)
    now = utc_now()
    segment = Segment(
        key=body.key,
        name=body.name,
        description=body.description,
        predefined=predefined,
        current_version=1,
        size=0,
        created_at=now,
        updated_at=now,
    )
    session.add(segment)
    session.flush()
    session.add(
        SegmentVersion(
            segment_id=segment.id, version=1, definition=body.definition, created_at=now, created_by=by[:254]
        )
    )
    session.flush()
    return _read(session, segment)


def update(session: Session, segment_id: int, body: SegmentUpdate, *, by: str) -> SegmentRead:
    """Rename, describe, or save a new version of the definition (older versions stay as they were)."""
    segment = get(session, segment_id)
    now = utc_now()
    if body.definition is not None:
        check(session, body.definition, key=segment.key)
        segment.current_version += 1
        session.add(
            SegmentVersion(
                segment_id=segment.id,
                version=segment.current_version,
                definition=body.definition,
                created_at=now,
                created_by=by[:254],
            )
        )
    if body.name is not None:
        segment.name = body.name
    if body.description is not None:
        segment.description = body.description
    segment.updated_at = now
    session.flush()
    return _read(session, segment)


def read(session: Session, segment_id: int) -> SegmentRead:
    """A segment with its current definition and size."""
    return _read(session, get(session, segment_id))


def list_all(session: Session) -> list[SegmentRead]:
    """Every segment, predefined first, then by name."""
    segments = session.scalars(select(Segment).order_by(Segment.predefined.desc(), Segment.name)).all()
    return [_read(session, segment) for segment in segments]


def versions(session: Session, segment_id: int) -> list[SegmentVersionRead]:
    """Every saved definition of a segment, newest first."""
    get(session, segment_id)
    rows = session.scalars(
        select(SegmentVersion)
        .where(SegmentVersion.segment_id == segment_id)
        .order_by(SegmentVersion.version.desc())
    ).all()
    return [SegmentVersionRead.model_validate(row) for row in rows]


def estimate(session: Session, definition: dict[str, Any], *, key: str | None = None) -> EstimateRead:
    """How many people a definition selects now, without saving it."""
    tree = check(session, definition, key=key)
    ctx = context(session)
    size = repository.run(session, ctx, c.count_of(c.members(ctx, tree)))[0][0]
    population = repository.run(session, ctx, c.count_of(c.universe(ctx)))[0][0]
    return EstimateRead(size=int(size or 0), population=int(population or 0))


def members(session: Session, segment_id: int, *, limit: int = 100, after: int | None = None) -> MembersPage:
    """A page of current members in profile id order; next_after continues."""
    get(session, segment_id)
    rows = repository.members_page(session, segment_id, limit=limit + 1, after=after)
    page = rows[:limit]
    return MembersPage(
        items=[MemberRead(profile_id=m.profile_id, version=m.version, entered_at=m.entered_at) for m in page],
        next_after=page[-1].profile_id if len(rows) > limit and page else None,
    )


def _identifier_keys(session: Session, live: int) -> list[tuple[str, str]]:
    return [(i.kind, i.value) for i in identity_service.identifiers_of(session, live)]


def tags_of(session: Session, profile_id: int) -> TagsRead:
    """The manual tags a person holds through any of their identifiers."""
    live = profiles_service.live_profile(session, profile_id)
    held = repository.tags_held(session, _identifier_keys(session, live))
    return TagsRead(profile_id=live, tags=sorted({t.tag for t in held}))


def add_tag(session: Session, profile_id: int, tag: str, *, by: str) -> TagsRead:
    """Tag a person; the tag sits on their highest-priority identifier, so it follows merges."""
    live = profiles_service.live_profile(session, profile_id)
    keys = _identifier_keys(session, live)
    if not keys:
        raise TagInvalid(
            f"profile {live} has no identifier", details=[{"field": "profile_id", "rule": "has one"}]
        )
    if tag not in {t.tag for t in repository.tags_held(session, keys)}:
        kind, value = keys[0]
        session.add(
            ProfileTag(
                kind=kind,
                value=value,
                tag=tag,
                tagged_profile_id=live,
                created_at=utc_now(),
                created_by=by[:254],
            )
        )
        session.flush()
    return tags_of(session, live)


def remove_tag(session: Session, profile_id: int, tag: str) -> TagsRead:
    """Take a tag off a person, from whichever of their identifiers holds it."""
    live = profiles_service.live_profile(session, profile_id)
    for held in repository.tags_held(session, _identifier_keys(session, live)):
        if held.tag == tag:
            session.execute(
                delete(ProfileTag).where(
                    ProfileTag.kind == held.kind, ProfileTag.value == held.value, ProfileTag.tag == tag
                )
            )
    return tags_of(session, live)


def tag_names(session: Session) -> list[str]:
    """Every tag in use, with the most used first."""
    rows = session.execute(
        select(ProfileTag.tag, func.count())
        .group_by(ProfileTag.tag)
        .order_by(func.count().desc(), ProfileTag.tag)
    ).all()
    return [tag for tag, _ in rows]
