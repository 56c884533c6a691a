"""The analytical path: export the tables segments read to Parquet, and evaluate definitions on DuckDB.

DuckDB reads the Parquet files itself (no DuckDB extension is downloaded, so it works offline); the
definition compiles through the same Ibis expression as on the operational store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import ibis.expr.datatypes as dt
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import BigInteger, Boolean, String, Text, cast, column, select, table
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from omni.db.types import JSONDocument, UTCDateTime
from omni.segments import compile as c

EXPORT_BATCH = 50_000


def _column_types(schema: dict[str, Any]) -> list[tuple[str, TypeEngine[Any], pa.DataType, bool]]:
    """(name, SQLAlchemy type, Arrow type, is JSON) per column of a source table."""
    found: list[tuple[str, TypeEngine[Any], pa.DataType, bool]] = []
    for name, kind in schema.items():
        datatype = dt.dtype(kind)
        if datatype.is_json():
            found.append((name, JSONDocument, pa.string(), True))
        elif datatype.is_timestamp():
            found.append((name, UTCDateTime(), pa.timestamp("us", tz="UTC"), False))
        elif datatype.is_boolean():
            found.append((name, Boolean(), pa.bool_(), False))
        elif datatype.is_integer():
            found.append((name, BigInteger(), pa.int64(), False))
        else:
            found.append((name, String(), pa.string(), False))
    return found


def export_tables(session: Session, directory: Path) -> dict[str, int]:
    """Write every table segments read to directory/<table>.parquet; return rows written per table."""
    directory.mkdir(parents=True, exist_ok=True)
    schemas = c.source_schemas(dt.json)
    written: dict[str, int] = {}
    for name, schema in schemas.items():
        columns = _column_types(schema)
        arrow = pa.schema([(col, arrow_type) for col, _, arrow_type, _ in columns])
        source = table(name, *(column(col, kind) for col, kind, _, _ in columns))
        # JSON leaves as the text the store holds: decoding and re-encoding it in Python costs most.
        selected = [
            cast(source.c[col], Text).label(col) if is_json else source.c[col]
            for col, _, _, is_json in columns
        ]
        result = session.execute(select(*selected).execution_options(yield_per=EXPORT_BATCH))
        count = 0
        with pq.ParquetWriter(directory / f"{name}.parquet", arrow) as writer:
            for rows in result.partitions():
                values: list[list[Any]] = [list(cells) for cells in zip(*rows, strict=True)]
                writer.write_table(
                    pa.Table.from_arrays(
                        [pa.array(v, t) for v, t in zip(values, arrow.types, strict=True)], schema=arrow
                    )
                )
                count += len(rows)
        written[name] = count
    return written


@contextmanager
def duckdb_over(directory: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB whose views are the exported tables, JSON columns typed as JSON."""
    connection = duckdb.connect()
    try:
        for name, schema in c.source_schemas(dt.json).items():
            path = str(directory / f"{name}.parquet").replace("'", "''")
            json_columns = [col for col, kind in schema.items() if dt.dtype(kind).is_json()]
            replace = ", ".join(f"CAST({col} AS JSON) AS {col}" for col in json_columns)
            star = f"* REPLACE ({replace})" if replace else "*"
            connection.execute(f"CREATE VIEW \"{name}\" AS SELECT {star} FROM read_parquet('{path}')")
        yield connection
    finally:
        connection.close()


def run(connection: duckdb.DuckDBPyConnection, ctx: c.Context, expression: Any) -> list[tuple[Any, ...]]:
    """Rows of a compiled expression on DuckDB."""
    return [tuple(row) for row in connection.execute(c.to_sql(ctx, expression)).fetchall()]


def profile_ids(
    connection: duckdb.DuckDBPyConnection, ctx: c.Context, build: Callable[[c.Context], Any]
) -> set[int]:
    """The profile ids an expression built for ctx selects on DuckDB."""
    return {int(row[0]) for row in run(connection, ctx, build(ctx))}
