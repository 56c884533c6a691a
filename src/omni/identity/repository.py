"""SQL of the identity graph: set-based reads of a batch's identifiers and bulk writes of a stitching plan."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CTE, Select, Table, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from omni.identity.graph import TEMP_BASE, Graph, Key
from omni.identity.models import Identifier, IdentityConflict, IdentityMerge, IdentityProfile
from omni.kit.time import as_utc, utc_now

# Any constant works; it names the lock that serialises changes to the graph on PostgreSQL.
GRAPH_LOCK_KEY = 0x1D_0000_0001
IN_CHUNK = 900

# Core tables: bulk writes skip the ORM's per-row bookkeeping.
_merges = cast(Table, IdentityMerge.__table__)
_conflicts = cast(Table, IdentityConflict.__table__)


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _dialect_insert(session: Session, table: Any) -> Any:
    return pg_insert(table) if _postgres(session) else sqlite_insert(table)


def lock_graph(session: Session) -> None:
    """Serialise writers of the graph (the stitching consumer, unmerges) for this transaction.

    PostgreSQL takes a transaction-scoped advisory lock. SQLite has one writer; a write statement (even one
    that matches no row) takes its lock now, before this transaction reads anything, so it never reads a
    snapshot that a concurrent writer then invalidates.
    """
    if _postgres(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": GRAPH_LOCK_KEY})
    else:
        session.execute(update(IdentityProfile).where(IdentityProfile.id < 0).values(merged_at=None))


def _chunks(values: Sequence[Any], size: int = IN_CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


_KNOWN_PG = text(
    "SELECT i.id, i.kind, i.value, i.profile_id FROM identity_identifier AS i "
    "JOIN unnest(CAST(:kinds AS text[]), CAST(:values AS text[])) AS q(kind, value) "
    "ON i.kind = q.kind AND i.value = q.value"
)


def known_identifiers(session: Session, keys: Iterable[Key]) -> dict[Key, tuple[int, int]]:
    """Stored identifiers among keys: (kind, value) -> (identifier id, live profile id)."""
    wanted = list(set(keys))
    found: dict[Key, tuple[int, int]] = {}
    if _postgres(session):
        # One statement with two array parameters instead of thousands of bound values.
        rows = session.execute(
            _KNOWN_PG, {"kinds": [kind for kind, _ in wanted], "values": [value for _, value in wanted]}
        ).all()
        return {(kind, value): (identifier_id, profile_id) for identifier_id, kind, value, profile_id in rows}
    by_kind: dict[str, list[str]] = defaultdict(list)
    for kind, value in wanted:
        by_kind[kind].append(value)
    for kind, values in by_kind.items():
        for chunk in _chunks(values):
            rows = session.execute(
                select(Identifier.id, Identifier.value, Identifier.profile_id).where(
                    Identifier.kind == kind, Identifier.value.in_(chunk)
                )
            ).all()
            for identifier_id, value, profile_id in rows:
                found[(kind, value)] = (identifier_id, profile_id)
    return found


_COUNTS_PG = text(
    "SELECT profile_id, kind, count(*) FROM identity_identifier "
    "WHERE profile_id = ANY(CAST(:ids AS bigint[])) GROUP BY profile_id, kind"
)


def kind_counts(session: Session, profile_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """How many identifiers of each kind each profile holds."""
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    ids = sorted(set(profile_ids))
    if _postgres(session):
        rows = session.execute(_COUNTS_PG, {"ids": ids}).all()
    else:
        rows = [
            row
            for chunk in _chunks(ids)
            for row in session.execute(
                select(Identifier.profile_id, Identifier.kind, func.count())
                .where(Identifier.profile_id.in_(chunk))
                .group_by(Identifier.profile_id, Identifier.kind)
            ).all()
        ]
    for profile_id, kind, n in rows:
        counts[profile_id][kind] = n
    return dict(counts)


def _sqlite_time(value: datetime) -> str:
    # The text UTCDateTime stores on SQLite: naive UTC with microseconds, so that text order is time order.
    return as_utc(value).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _sqlite_rows(types: Sequence[str], rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    times = [i for i, t in enumerate(types) if t == "timestamptz"]
    if not times:
        return rows
    converted = []
    for row in rows:
        values = list(row)
        for i in times:
            values[i] = _sqlite_time(values[i])
        converted.append(tuple(values))
    return converted


def _bulk(
    session: Session, *, postgres: str, sqlite: str, types: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """Run a statement for every row: PostgreSQL gets one array per column, SQLite an executemany.

    PostgreSQL's SQL names the columns :c0, :c1... (arrays of the given types); SQLite's uses ? placeholders.
    Both skip SQLAlchemy's per-row parameter handling, which costs more than the writes themselves.
    """
    if not rows:
        return
    if _postgres(session):
        columns = {f"c{i}": [row[i] for row in rows] for i in range(len(types))}
        session.execute(text(postgres), columns)
    else:
        session.connection().exec_driver_sql(sqlite, _sqlite_rows(types, rows))


def _insert(
    session: Session,
    table: str,
    columns: Sequence[str],
    types: Sequence[str],
    rows: list[tuple[Any, ...]],
    *,
    key: str = "",
) -> None:
    """Insert rows into table; with key, rows whose key already exists are skipped."""
    skip = f" ON CONFLICT ({key}) DO NOTHING" if key else ""
    arrays = ", ".join(f"CAST(:c{i} AS {t}[])" for i, t in enumerate(types))
    _bulk(
        session,
        postgres=f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({arrays}){skip}",
        sqlite=f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)}){skip}",
        types=types,
        rows=rows,
    )


def _allocate_ids(session: Session, table: str, count: int) -> list[int]:
    # Ids known before the insert let one statement write rows that refer to each other. The graph lock
    # makes this the only writer of these tables; on PostgreSQL the column's own sequence hands them out.
    if count == 0:
        return []
    if _postgres(session):
        return list(
            session.scalars(
                text(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, :n)"),
                {"n": count},
            ).all()
        )
    start = int(session.scalar(text(f"SELECT coalesce(max(id), 0) FROM {table}")) or 0) + 1
    return list(range(start, start + count))


def apply_plan(session: Session, graph: Graph, known: dict[Key, tuple[int, int]]) -> None:
    """Write what graph planned: new profiles and identifiers, merges, sightings, conflicts, attributions."""
    plan = graph.plan
    now = utc_now()
    real = dict(
        zip(
            plan.new_profiles, _allocate_ids(session, "identity_profile", len(plan.new_profiles)), strict=True
        )
    )
    _insert(
        session,
        "identity_profile",
        ("id", "created_at"),
        ("bigint", "timestamptz"),
        [(i, now) for i in real.values()],
    )

    def live(node: int) -> int:
        root = graph.root(node)
        return real[root] if root >= TEMP_BASE else root

    def stored(node: int) -> int:
        return real[node] if node >= TEMP_BASE else node

    identifier_ids = {key: identifier_id for key, (identifier_id, _) in known.items()}
    new_ids = _allocate_ids(session, "identity_identifier", len(plan.new_identifiers))
    identifier_ids.update(zip(plan.new_identifiers, new_ids, strict=True))
    _insert(
        session,
        "identity_identifier",
        (
            "id",
            "kind",
            "value",
            "profile_id",
            "born_profile_id",
            "first_seen_at",
            "last_seen_at",
            "source",
            "first_message_id",
        ),
        ("bigint", "text", "text", "bigint", "bigint", "timestamptz", "timestamptz", "text", "text"),
        [
            (
                identifier_id,
                key[0],
                key[1],
                live(new.born),
                stored(new.born),
                plan.seen[key][0],
                plan.seen[key][1],
                new.sighting.source,
                new.sighting.message_id,
            )
            for identifier_id, (key, new) in zip(new_ids, plan.new_identifiers.items(), strict=True)
        ],
    )

    if plan.merges:
        _bulk(
            session,
            postgres="UPDATE identity_profile AS p SET merged_into_id = v.survivor, merged_at = v.at FROM "
            "unnest(CAST(:c0 AS bigint[]), CAST(:c1 AS bigint[]), CAST(:c2 AS timestamptz[])) "
            "AS v(id, survivor, at) WHERE p.id = v.id",
            sqlite="UPDATE identity_profile SET merged_into_id = ?2, merged_at = ?3 WHERE id = ?1",
            types=("bigint", "bigint", "timestamptz"),
            rows=[(stored(m.absorbed), stored(m.survivor), now) for m in plan.merges],
        )
        _bulk(
            session,
            postgres="UPDATE identity_identifier AS i SET profile_id = v.new FROM "
            "unnest(CAST(:c0 AS bigint[]), CAST(:c1 AS bigint[])) AS v(old, new) WHERE i.profile_id = v.old",
            sqlite="UPDATE identity_identifier SET profile_id = ?2 WHERE profile_id = ?1",
            types=("bigint", "bigint"),
            rows=[(m.absorbed, live(m.absorbed)) for m in plan.merges if m.absorbed < TEMP_BASE],
        )
        session.execute(
            insert(_merges),
            [
                {
                    "survivor_id": stored(m.survivor),
                    "absorbed_id": stored(m.absorbed),
                    "kind": m.key[0],
                    "value": m.key[1],
                    "rule": m.sighting.rule,
                    "message_id": m.sighting.message_id,
                    "event_position": m.sighting.position,
                    "source": m.sighting.source,
                    "occurred_at": m.sighting.occurred_at,
                    "recorded_at": now,
                }
                for m in plan.merges
            ],
        )

    _bulk(
        session,
        # The condition leaves rows that already cover the sighting untouched: no page to write.
        postgres="UPDATE identity_identifier AS i SET first_seen_at = LEAST(i.first_seen_at, v.first), "
        "last_seen_at = GREATEST(i.last_seen_at, v.last) FROM unnest(CAST(:c0 AS bigint[]), "
        "CAST(:c1 AS timestamptz[]), CAST(:c2 AS timestamptz[])) AS v(id, first, last) "
        "WHERE i.id = v.id AND (i.first_seen_at > v.first OR i.last_seen_at < v.last)",
        sqlite="UPDATE identity_identifier SET first_seen_at = min(first_seen_at, ?2), "
        "last_seen_at = max(last_seen_at, ?3) WHERE id = ?1 AND (first_seen_at > ?2 OR last_seen_at < ?3)",
        types=("bigint", "timestamptz", "timestamptz"),
        rows=[
            (known[key][0], first, last)
            for key, (first, last) in plan.seen.items()
            if key in known and key not in plan.new_identifiers
        ],
    )

    if plan.conflicts:
        session.execute(
            _dialect_insert(session, _conflicts).on_conflict_do_nothing(
                index_elements=["message_id", "kind", "value"]
            ),
            [
                {
                    "profile_id": live(c.profile),
                    "other_profile_id": live(c.other) if c.other is not None else None,
                    "kind": c.key[0],
                    "value": c.key[1],
                    "reason": c.reason[:200],
                    "message_id": c.sighting.message_id,
                    "source": c.sighting.source,
                    "occurred_at": c.sighting.occurred_at,
                    "recorded_at": now,
                }
                for c in plan.conflicts
            ],
        )
    _insert(
        session,
        "identity_event",
        ("position", "identifier_id"),
        ("bigint", "bigint"),
        [(position, identifier_ids[key]) for position, key in plan.attributions],
        key="position",
    )


def profile_subtree(profile_id: int) -> CTE:
    """A CTE of profile_id and every profile whose merged_into chain leads to it."""
    tree = select(IdentityProfile.id).where(IdentityProfile.id == profile_id).cte("subtree", recursive=True)
    return tree.union_all(select(IdentityProfile.id).where(IdentityProfile.merged_into_id == tree.c.id))


def in_subtree(profile_id: int) -> Select[tuple[int]]:
    """SELECT of the ids in profile_id's subtree, for IN clauses."""
    tree = profile_subtree(profile_id)
    return select(tree.c.id)
