"""Bulk import of POS and CRM exports (CSV or Parquet) into the event log, all or nothing per batch.

Rows become Segment messages (import_messages) that pass the tracking API's own validation
(`service.build_records`) and go into the log with `service.append_events`. An import owns its
transactions, as a consumer does: one per batch, so a batch with any rejected row stores nothing while the
valid batches are kept, and messageIds derived from the data let the same file be imported again after a
fix without adding anything twice.
"""

from __future__ import annotations

import codecs
import csv
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pyarrow as pa
import pyarrow.parquet as pq
from babel.numbers import is_currency

from omni.db.engine import Database
from omni.events import service as events_service
from omni.events.import_mapping import ColumnPlan, ImportInvalid, Kind, resolve_columns
from omni.events.import_messages import (
    MessageOptions,
    RowsRejected,
    Unit,
    customer_message,
    event_message,
    order_message,
)
from omni.events.import_values import CellError, clean, text
from omni.events.spec import EventRecord
from omni.kit.errors import ValidationFailed
from omni.kit.time import utc_now

FORMATS = ("csv", "parquet")
_EXTENSIONS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet"}
SOURCE_PATTERN = re.compile(r"[a-z][a-z0-9_-]*(?::[A-Za-z0-9][A-Za-z0-9._-]*)?")
CHANNEL_PATTERN = re.compile(r"[a-z0-9_:-]{1,32}")
MAX_BATCH_SIZE = 100_000
_PARQUET_READ_ROWS = 8192
Progress = Callable[[int], None]


@dataclass(frozen=True)
class ImportRequest:
    """What to import, from where, and how to read it."""

    kind: Kind
    path: Path
    source: str
    channel: str
    currency: str = "TWD"
    timezone: str = "Asia/Taipei"
    mapping: Mapping[str, str] = field(default_factory=dict)
    user_field: str | None = None
    file_format: str | None = None
    encoding: str = "utf-8"
    delimiter: str | None = None
    batch_size: int = 1000


@dataclass(frozen=True)
class Rejection:
    """A row that was not imported: its number as a spreadsheet shows it (the header is row 1) and why."""

    row: int
    reason: str


@dataclass(frozen=True)
class SkippedBatch:
    """A batch stored not at all because some of its rows were rejected."""

    number: int
    first_row: int
    last_row: int
    rows: int


@dataclass
class ImportSummary:
    """What an import did; rows count the file's non-empty rows, messages the events they made."""

    file_name: str
    dry_run: bool
    rows: int = 0
    imported_rows: int = 0
    messages: int = 0
    appended: int = 0
    already_in_log: int = 0
    batches: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    skipped: list[SkippedBatch] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


class _Table(Protocol):
    header: tuple[str, ...]

    def rows(self) -> Iterator[tuple[int, Sequence[Any]]]: ...

    def survey(self, key: int | None) -> tuple[int, dict[str, int]]: ...


def _order_key(value: Any) -> str | None:
    value = clean(value)
    return None if value is None else text(value)


class CsvTable:
    """A CSV file read line by line in its encoding; a UTF-8 byte order mark (Excel's) is skipped."""

    def __init__(self, path: Path, *, encoding: str, delimiter: str) -> None:
        try:
            codec = codecs.lookup(encoding)
        except LookupError:
            raise ImportInvalid(f"unknown encoding {encoding}; use utf-8, cp950 or big5") from None
        # Lines are split on the newline byte before decoding, which only works for encodings that
        # write ASCII as ASCII (UTF-8, Big5 and cp950 do; UTF-16 does not).
        if not codec.encode('a,"\n')[0].endswith(b'a,"\n'):
            raise ImportInvalid(f"encoding {encoding} is not supported; save the file as UTF-8 CSV")
        self.path, self.delimiter = path, delimiter
        self.encoding = "utf-8-sig" if codec.name == "utf-8" else codec.name
        header = next(self._records(), None)
        if header is None:
            raise ImportInvalid(f"{path.name} is empty: it has no header row")
        self.header = tuple(name.strip() for name in header)

    def _lines(self) -> Iterator[str]:
        decoder = codecs.getincrementaldecoder(self.encoding)()
        with self.path.open("rb") as file:
            for number, line in enumerate(file, start=1):
                try:
                    yield decoder.decode(line)
                except UnicodeDecodeError as exc:
                    name = self.encoding.removesuffix("-sig")
                    hint = (
                        "; Excel in Taiwan saves CSV as cp950: try --encoding cp950"
                        if name == "utf-8"
                        else ""
                    )
                    raise ImportInvalid(
                        f"{self.path.name} line {number} is not valid {name} "
                        f"(byte {exc.object[exc.start]:#04x} at byte {exc.start + 1} of the line){hint}"
                    ) from None

    def _records(self) -> Iterator[list[str]]:
        reader = csv.reader(self._lines(), delimiter=self.delimiter)
        try:
            yield from reader
        except csv.Error as exc:
            raise ImportInvalid(f"{self.path.name} line {reader.line_num} is not valid CSV: {exc}") from None

    def rows(self) -> Iterator[tuple[int, Sequence[Any]]]:
        """(row number, cells) of each data row; empty rows are skipped but keep their number."""
        records = self._records()
        next(records)
        for number, record in enumerate(records, start=2):
            if any(cell.strip() for cell in record):
                yield number, record

    def survey(self, key: int | None) -> tuple[int, dict[str, int]]:
        """How many data rows there are and, for a key column, the last row of each key."""
        count, last = 0, {}
        for number, row in self.rows():
            count += 1
            if key is not None and key < len(row) and (value := _order_key(row[key])) is not None:
                last[value] = number
        return count, last


class ParquetTable:
    """A Parquet file read in record batches; rows are numbered as if the column names were row 1."""

    def __init__(self, path: Path) -> None:
        try:
            self.path, self.file = path, pq.ParquetFile(path)
        except (pa.ArrowException, OSError) as exc:
            raise ImportInvalid(f"{path.name} is not a readable Parquet file: {exc}") from None
        self.header = tuple(self.file.schema_arrow.names)

    def _batches(self, columns: list[str] | None = None) -> Iterator[tuple[int, Sequence[Sequence[Any]]]]:
        number = 2
        batches = self.file.iter_batches(batch_size=_PARQUET_READ_ROWS, columns=columns)
        while True:
            try:
                batch = next(batches, None)
            except pa.ArrowException as exc:
                raise ImportInvalid(
                    f"{self.path.name} cannot be read after row {number - 1}: {exc}"
                ) from None
            if batch is None:
                return
            yield number, list(zip(*(column.to_pylist() for column in batch.columns), strict=True))
            number += batch.num_rows

    def rows(self) -> Iterator[tuple[int, Sequence[Any]]]:
        """(row number, cells) of each row."""
        for first, rows in self._batches():
            yield from enumerate(rows, start=first)

    def survey(self, key: int | None) -> tuple[int, dict[str, int]]:
        """How many rows there are and, for a key column, the last row of each key."""
        last: dict[str, int] = {}
        if key is not None:
            for first, rows in self._batches([self.header[key]]):
                for number, (value,) in enumerate(rows, start=first):
                    if (order := _order_key(value)) is not None:
                        last[order] = number
        return self.file.metadata.num_rows, last


@dataclass(frozen=True)
class PreparedImport:
    """A file opened and checked against its mapping, ready to import."""

    request: ImportRequest
    table: _Table
    plan: ColumnPlan
    options: MessageOptions
    total_rows: int
    order_ends: dict[str, int]
    seconds: float


def _check(request: ImportRequest) -> ZoneInfo:
    if not SOURCE_PATTERN.fullmatch(request.source) or len(request.source) > 100:
        raise ImportInvalid(f"source {request.source!r} must look like crm or pos:TPE-XINYI (kind:name)")
    if not CHANNEL_PATTERN.fullmatch(request.channel):
        raise ImportInvalid(f"channel {request.channel!r} must be 1 to 32 of a-z, 0-9, _, - and :")
    if not (len(request.currency) == 3 and request.currency.isupper() and is_currency(request.currency)):
        raise ImportInvalid(f"currency {request.currency!r} is not an ISO 4217 code such as TWD")
    if not 1 <= request.batch_size <= MAX_BATCH_SIZE:
        raise ImportInvalid(f"batch size must be from 1 to {MAX_BATCH_SIZE}")
    try:
        return ZoneInfo(request.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ImportInvalid(
            f"unknown time zone {request.timezone!r}; use a name such as Asia/Taipei"
        ) from None


def open_table(path: Path, *, file_format: str | None, encoding: str, delimiter: str | None) -> _Table:
    """Open a CSV or Parquet file, telling the format by --format or the file's extension."""
    if not path.is_file():
        raise ImportInvalid(f"no such file: {path}" if not path.exists() else f"{path} is not a file")
    chosen = file_format or _EXTENSIONS.get(path.suffix.lower())
    if chosen not in FORMATS:
        raise ImportInvalid(
            f"unknown format of {path.name}: import .csv, .tsv, .txt or .parquet files, or say which with "
            "--format csv|parquet (save Excel sheets as CSV UTF-8)"
        )
    if chosen == "parquet":
        return ParquetTable(path)
    separator = {"\\t": "\t", "tab": "\t"}.get(delimiter or "", delimiter) or (
        "\t" if path.suffix.lower() == ".tsv" else ","
    )
    if len(separator) != 1 or separator in '\r\n"':
        raise ImportInvalid(f"delimiter {delimiter!r} must be one character such as , ; or tab")
    return CsvTable(path, encoding=encoding, delimiter=separator)


def prepare_import(request: ImportRequest, *, now: datetime | None = None) -> PreparedImport:
    """Check the request, open the file, find its columns and count its rows; nothing is written."""
    started = time.perf_counter()
    local = _check(request)
    table = open_table(
        request.path, file_format=request.file_format, encoding=request.encoding, delimiter=request.delimiter
    )
    plan = resolve_columns(
        request.kind,
        table.header,
        request.mapping,
        file_name=request.path.name,
        user_field=request.user_field,
    )
    options = MessageOptions(
        kind=request.kind,
        source=request.source,
        channel=request.channel,
        currency=request.currency,
        local=local,
        now=now or utc_now(),
        user_field=request.user_field,
        file_name=request.path.name,
    )
    total, ends = table.survey(plan.fields["order_id"] if request.kind == "orders" else None)
    return PreparedImport(request, table, plan, options, total, ends, time.perf_counter() - started)


@dataclass
class _Batch:
    units: list[Unit] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)


def _row_batches(prepared: PreparedImport) -> Iterator[_Batch]:
    build = customer_message if prepared.request.kind == "customers" else event_message
    plan, options, size = prepared.plan, prepared.options, prepared.request.batch_size
    batch = _Batch()
    for number, row in prepared.table.rows():
        batch.rows.append(number)
        try:
            batch.units.append(build(plan, options, number, row))
        except CellError as exc:
            batch.rejections.append(Rejection(number, plan.reason(exc)))
        if len(batch.rows) >= size:
            yield batch
            batch = _Batch()
    if batch.rows:
        yield batch


def _order_batches(prepared: PreparedImport) -> Iterator[_Batch]:
    # An order goes out once its last line (found by the survey) is read, so lines of one order may be
    # anywhere in the file; a sorted export keeps only one order open at a time.
    plan, options, size, ends = (
        prepared.plan,
        prepared.options,
        prepared.request.batch_size,
        prepared.order_ends,
    )
    order_index = plan.fields["order_id"]
    open_orders: dict[str, list[tuple[int, Sequence[Any]]]] = {}
    batch = _Batch()
    for number, row in prepared.table.rows():
        order_id = _order_key(row[order_index]) if order_index < len(row) else None
        if order_id is None:
            batch.rows.append(number)
            reason = f"{plan.describe('order_id')}: is empty; every line needs its order's id"
            batch.rejections.append(Rejection(number, reason))
        else:
            lines = open_orders.setdefault(order_id, [])
            lines.append((number, row))
            if ends.get(order_id) != number:
                continue
            del open_orders[order_id]
            batch.rows.extend(n for n, _ in lines)
            try:
                batch.units.append(order_message(plan, options, lines))
            except RowsRejected as exc:
                batch.rejections.extend(Rejection(n, reason) for n, reason in exc.rejections)
        if len(batch.rows) >= size:
            yield batch
            batch = _Batch()
    if batch.rows:
        yield batch


def _spec_rejections(error: ValidationFailed, units: Sequence[Unit]) -> list[Rejection]:
    rejections = []
    for detail in error.details:
        rule = str(detail.get("rule", error.message)).removeprefix("Value error, ")
        where = f"{detail['field']}: " if detail.get("field") else ""
        rejections.append(Rejection(units[int(detail.get("index", 0))].rows[0], f"{where}{rule}"))
    return rejections


def run_import(
    prepared: PreparedImport, database: Database | None, *, progress: Progress | None = None
) -> ImportSummary:
    """Import batch by batch, each in its own transaction; without a database, only validate (dry run)."""
    started = time.perf_counter()
    request, received_at = prepared.request, prepared.options.now
    summary = ImportSummary(file_name=request.path.name, dry_run=database is None)
    batches = _order_batches(prepared) if request.kind == "orders" else _row_batches(prepared)
    for number, batch in enumerate(batches, start=1):
        summary.batches, summary.rows = number, summary.rows + len(batch.rows)
        records: list[EventRecord] = []
        try:
            records = events_service.build_records(
                [unit.payload for unit in batch.units],
                source=request.source,
                default_channel=request.channel,
                received_at=received_at,
            )
        except ValidationFailed as exc:
            batch.rejections.extend(_spec_rejections(exc, batch.units))
        if batch.rejections:
            summary.rejections.extend(sorted(batch.rejections, key=lambda r: r.row))
            summary.skipped.append(SkippedBatch(number, min(batch.rows), max(batch.rows), len(batch.rows)))
        else:
            summary.imported_rows += len(batch.rows)
            summary.messages += len(records)
            if database is not None:
                with database.unit_of_work() as session:
                    result = events_service.append_events(session, records)
                summary.appended += result.appended
                summary.already_in_log += len(result.duplicates)
        if progress is not None:
            progress(len(batch.rows))
    summary.seconds = prepared.seconds + time.perf_counter() - started
    return summary
