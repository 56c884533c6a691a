"""Each person's numbered timeline, derived once per export for the analyses that follow sequences.

segments.offline exports the tables segments read; derive() adds person_activity.parquet beside them:
every attributed event with its person (its identifier's profile at export time, as the store resolves
it), its place in that person's timeline (seq, from 0, in time then log position order), its time in
microseconds, and its channel and store as funnels break down by them. Resolving people and ordering
timelines are the costly part of a funnel over the whole log; done at export, a query reads them as
columns (funnel_export). Rows are written by event name, then person and seq, so a query for a few
names reads only their row groups.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import ibis
import ibis.expr.types as ir
from sqlalchemy.orm import Session

from omni.analytics import funnel_sql
from omni.segments import compile as c
from omni.segments import offline

NAME = "person_activity"
SCHEMA = {
    "person": "int64",
    "seq": "int64",
    "position": "int64",
    "us": "int64",
    "event": "string",
    "channel": "string",
    "store": "string",
}


def table() -> ir.Table:
    """person_activity, unbound, for expressions run over an export opened by opened()."""
    return ibis.table(SCHEMA, name=NAME)


def export(session: Session, directory: Path) -> dict[str, int]:
    """Export the store for DuckDB: the tables segments read, then person_activity; rows per file."""
    written = offline.export_tables(session, directory)
    written[NAME] = derive(directory)
    return written


def derive(directory: Path) -> int:
    """Write directory/person_activity.parquet from the tables exported there; return its rows."""
    ctx = c.Context(engine="duckdb", now=funnel_sql.EPOCH, priority=())
    activity, attribution, identifier = (
        ctx.t[name] for name in ("profile_activity", "identity_event", "identity_identifier")
    )
    joined = activity.join(attribution, activity.position == attribution.position).join(
        identifier, attribution.identifier_id == identifier.id
    )
    order = ibis.window(group_by=joined.profile_id, order_by=[joined.occurred_at, joined.position])
    rows = joined.select(
        person=joined.profile_id,
        seq=ibis.row_number().over(order),
        position=joined.position,
        us=funnel_sql.micros("duckdb", joined.occurred_at),
        event=joined.event,
        channel=funnel_sql.group_of("duckdb", joined, "channel"),
        store=funnel_sql.group_of("duckdb", joined, "store"),
    ).order_by("event", "person", "seq")
    target = str(directory / f"{NAME}.parquet").replace("'", "''")
    with offline.duckdb_over(directory) as duck:
        duck.execute(f"COPY ({c.to_sql(ctx, rows)}) TO '{target}' (FORMAT parquet)")
        written = duck.execute(f"SELECT count(*) FROM read_parquet('{target}')").fetchone()
    return int(written[0]) if written else 0


@contextmanager
def opened(directory: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """segments.offline.duckdb_over(directory), with person_activity as a view too."""
    with offline.duckdb_over(directory) as duck:
        path = str(directory / f"{NAME}.parquet").replace("'", "''")
        duck.execute(f"CREATE VIEW {NAME} AS SELECT * FROM read_parquet('{path}')")
        yield duck
