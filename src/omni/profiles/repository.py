"""SQL of the profile domain: idempotent writes keyed by log position, reads over a profile's positions."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    String,
    Table,
    and_,
    any_,
    bindparam,
    delete,
    func,
    literal_column,
    null,
    or_,
    select,
    text,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy import cast as cast_as
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from omni.db.types import JSONDocument, UTCDateTime
from omni.profiles.models import (
    ComputedTrait,
    ComputedTraitInput,
    ConsentDecision,
    ProfileActivity,
    ProfileSettings,
    TraitObservation,
)
from omni.profiles.timeline import Cursor

# Any constant works; it names the lock that serialises the indexing consumer and definition backfills.
PROFILES_LOCK_KEY = 0x9F_0000_0001
WRITE_CHUNK = 1000


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def lock_profiles(session: Session) -> None:
    """Serialise the indexing consumer with computed-trait backfills for this transaction.

    A definition created while a consumer batch is in flight would otherwise miss that batch: the batch
    does not see the new definition, and the backfill does not see the batch's uncommitted activity.
    SQLite has one writer; a write statement (matching no row) takes its lock before anything is read.
    """
    if _postgres(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PROFILES_LOCK_KEY})
    else:
        session.execute(update(ProfileSettings).where(ProfileSettings.id < 0).values(document={}))


def insert_new(session: Session, model: Any, rows: Sequence[dict[str, Any]], keys: Sequence[str]) -> None:
    """Insert rows, skipping those whose primary key is already stored (a batch processed again)."""
    table = model.__table__
    statement = (pg_insert(table) if _postgres(session) else sqlite_insert(table)).on_conflict_do_nothing(
        index_elements=list(keys)
    )
    for start in range(0, len(rows), WRITE_CHUNK):
        session.execute(statement, list(rows[start : start + WRITE_CHUNK]))


def definitions(session: Session) -> Sequence[ComputedTrait]:
    """Every computed trait definition, oldest first."""
    return session.scalars(select(ComputedTrait).order_by(ComputedTrait.id)).all()


_settings = cast(Table, ProfileSettings.__table__)
_definitions = cast(Table, ComputedTrait.__table__)
_traits = cast(Table, TraitObservation.__table__)
_consent = cast(Table, ConsentDecision.__table__)
_inputs = cast(Table, ComputedTraitInput.__table__)
_DEFINITION = (
    _definitions.c.id,
    _definitions.c.name,
    _definitions.c.aggregation,
    _definitions.c.event,
    _definitions.c.property,
    _definitions.c.window_days,
)


def definition_rows(session: Session) -> Sequence[Any]:
    """Every computed trait definition as plain rows (id, name, aggregation, event, property, window_days)."""
    return session.execute(select(*_DEFINITION).order_by(_definitions.c.id)).all()


def settings_document(session: Session, row_id: int) -> dict[str, Any] | None:
    """The document of the profile settings row, None when there is none."""
    document: dict[str, Any] | None = session.scalar(
        select(_settings.c.document).where(_settings.c.id == row_id)
    )
    return document


# Reads of a profile's rows select plain columns: ORM objects cost more than the queries on a lookup.
_OBSERVATION = (
    TraitObservation.position,
    TraitObservation.trait,
    TraitObservation.value,
    TraitObservation.source,
    TraitObservation.observed_at,
)
_DECISION = (
    ConsentDecision.position,
    ConsentDecision.channel,
    ConsentDecision.purpose,
    ConsentDecision.granted,
    ConsentDecision.decided_at,
    ConsentDecision.source,
    ConsentDecision.evidence,
)
_INPUT = (
    ComputedTraitInput.trait_id,
    ComputedTraitInput.position,
    ComputedTraitInput.occurred_at,
    ComputedTraitInput.value,
)


def observations(session: Session, positions: Select[Any]) -> Sequence[Any]:
    """Trait statements of the events at positions."""
    return session.execute(select(*_OBSERVATION).where(TraitObservation.position.in_(positions))).all()


def decisions(session: Session, positions: Select[Any]) -> Sequence[Any]:
    """Consent decisions of the events at positions."""
    return session.execute(select(*_DECISION).where(ConsentDecision.position.in_(positions))).all()


def inputs(session: Session, positions: Select[Any]) -> Sequence[Any]:
    """Computed-trait inputs of the events at positions; the caller applies definitions and windows."""
    # No trait_id filter: the key leads with position, and a trait_id list lures PostgreSQL's planner
    # into reading every input of those traits.
    return session.execute(select(*_INPUT).where(ComputedTraitInput.position.in_(positions))).all()


@dataclass(frozen=True, slots=True)
class ProfileFacts:
    """What a profile's 360° view is resolved from: the rules in force and what its events said."""

    settings: dict[str, Any] | None
    definitions: list[Any]  # (id, name, aggregation, event, property, window_days), oldest first
    observations: list[Any]  # (position, trait, value, source, observed_at)
    decisions: list[Any]  # (position, channel, purpose, granted, decided_at, source, evidence)
    inputs: list[Any]  # (trait_id, position, occurred_at, value)


def _typed_null(kind: Any) -> ColumnElement[Any]:
    # PostgreSQL types a UNION column from its first branches; a bare NULL there would make it text.
    return cast_as(null(), kind)


_COLUMN_TYPES: dict[str, Any] = {
    "position": BigInteger(),
    "name": String(),
    "detail": String(),
    "value": JSONDocument,
    "source": String(),
    "at": UTCDateTime(),
    "granted": Boolean(),
    "number": Integer(),
    "note": String(),
}


def _branch(code: str, **columns: ColumnElement[Any]) -> Select[Any]:
    # Every branch has the same columns, typed, so that each engine reads each column one way.
    chosen = [
        type_coerce(columns[name], kind).label(name) if name in columns else _typed_null(kind).label(name)
        for name, kind in _COLUMN_TYPES.items()
    ]
    return select(literal_column(f"'{code}'", String).label("part"), *chosen)


def _owned_by(dialect: str) -> Callable[[ColumnElement[int]], ColumnElement[bool]]:
    """How a position column is matched with the positions parameter on dialect."""
    if dialect == "postgresql":
        array = bindparam("positions", type_=ARRAY(BigInteger()))
        return lambda column: column == any_(array)
    # One JSON parameter however many events a profile has (SQLite caps bound parameters).
    listed: Select[Any] = select(literal_column("value")).select_from(
        func.json_each(bindparam("positions", type_=String()))
    )
    return lambda column: column.in_(listed)


def _facts_statement(dialect: str) -> CompoundSelect[Any]:
    owned = _owned_by(dialect)
    return union_all(
        _branch("s", value=_settings.c.document).where(_settings.c.id == bindparam("settings_row")),
        _branch(
            "d",
            position=_definitions.c.id,
            name=_definitions.c.name,
            detail=_definitions.c.aggregation,
            source=_definitions.c.event,
            note=_definitions.c.property,
            number=_definitions.c.window_days,
        ),
        _branch(
            "t",
            position=_traits.c.position,
            name=_traits.c.trait,
            value=_traits.c.value,
            source=_traits.c.source,
            at=_traits.c.observed_at,
        ).where(owned(_traits.c.position)),
        _branch(
            "c",
            position=_consent.c.position,
            name=_consent.c.channel,
            detail=_consent.c.purpose,
            source=_consent.c.source,
            at=_consent.c.decided_at,
            granted=_consent.c.granted,
            note=_consent.c.evidence,
        ).where(owned(_consent.c.position)),
        _branch(
            "i",
            position=_inputs.c.position,
            value=_inputs.c.value,
            at=_inputs.c.occurred_at,
            number=_inputs.c.trait_id,
        ).where(owned(_inputs.c.position)),
    )


# Built once per dialect: a statement object reused keeps its cache key, so each lookup skips building
# and hashing a five-branch UNION.
_FACTS = {dialect: _facts_statement(dialect) for dialect in ("postgresql", "sqlite")}


def positions_of(session: Session, positions: Select[Any]) -> list[int]:
    """The log positions a SELECT of positions (identity's, for a profile) gives."""
    return list(session.scalars(positions))


def profile_facts(session: Session, positions: Sequence[int], *, settings_row: int) -> ProfileFacts:
    """The settings and computed-trait definitions, and the traits, consent decisions and computed-trait
    inputs of the events at positions, in one statement: a lookup pays one round trip for all of it."""
    postgres = _postgres(session)
    parameters = {
        "positions": list(positions) if postgres else json.dumps(list(positions)),
        "settings_row": settings_row,
    }
    facts = ProfileFacts(settings=None, definitions=[], observations=[], decisions=[], inputs=[])
    settings: list[dict[str, Any]] = []
    rows = session.execute(_FACTS["postgresql" if postgres else "sqlite"], parameters)
    for part, position, name, detail, value, source, at, granted, number, note in rows:
        if part == "t":
            facts.observations.append((position, name, value, source, at))
        elif part == "c":
            facts.decisions.append((position, name, detail, granted, at, source, note))
        elif part == "i":
            facts.inputs.append((number, position, at, value))
        elif part == "d":
            facts.definitions.append((position, name, detail, source, note, number))
        else:
            settings.append(value)
    # A UNION promises no order; definitions are shown oldest first.
    facts.definitions.sort()
    return dataclasses.replace(facts, settings=settings[0] if settings else None)


def activity_page(
    session: Session, positions: Select[Any], *, limit: int, before: Cursor | None
) -> Sequence[ProfileActivity]:
    """Up to limit events at positions, newest first by time then position, strictly before the cursor."""
    query = select(ProfileActivity).where(ProfileActivity.position.in_(positions))
    if before is not None:
        if before.position is None:
            query = query.where(ProfileActivity.occurred_at < before.occurred_at)
        else:
            query = query.where(
                or_(
                    ProfileActivity.occurred_at < before.occurred_at,
                    and_(
                        ProfileActivity.occurred_at == before.occurred_at,
                        ProfileActivity.position < before.position,
                    ),
                )
            )
    query = query.order_by(ProfileActivity.occurred_at.desc(), ProfileActivity.position.desc()).limit(limit)
    return session.scalars(query).all()


def activity_of_event(session: Session, event: str) -> Iterator[ProfileActivity]:
    """Every recorded event of one name, in log order, streamed."""
    query = select(ProfileActivity).where(ProfileActivity.event == event).order_by(ProfileActivity.position)
    yield from session.scalars(query.execution_options(yield_per=WRITE_CHUNK))


def delete_inputs(session: Session, trait_id: int) -> None:
    """Forget what a computed trait gathered (SQLite may run without enforcing the cascade)."""
    session.execute(delete(ComputedTraitInput).where(ComputedTraitInput.trait_id == trait_id))


def positions_with_trait_text(session: Session, trait: str, fragment: str, *, limit: int) -> list[int]:
    """Positions of events that stated trait with a text value containing fragment (any case)."""
    pattern = "%" + fragment.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return list(
        session.scalars(
            select(TraitObservation.position)
            .where(TraitObservation.trait == trait, TraitObservation.text.like(pattern, escape="\\"))
            .order_by(TraitObservation.position.desc())
            .limit(limit)
        ).all()
    )
