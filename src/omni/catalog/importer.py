"""Bulk import of a product export (CSV or Parquet, one row per variant) into the catalogue.

The file is read with the event importer's table readers, and imported as that importer does: one
transaction per batch, so a batch with any rejected row stores nothing while valid batches are kept. All
rows of one product go into the same batch, wherever they are in the file. Saving is an upsert by
product code and SKU that adds and updates but removes nothing (a file may carry some variants or some
channels' prices only), so the same file can be imported again after a fix without adding anything twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from babel.numbers import is_currency
from sqlalchemy.orm import Session

from omni.catalog import service
from omni.catalog.import_rows import (
    ProductColumns,
    ProductRows,
    product_code,
    product_from_rows,
    resolve_columns,
)
from omni.catalog.schemas import SaveSummary
from omni.db.engine import Database
from omni.events.import_mapping import ImportInvalid
from omni.events.import_messages import RowsRejected
from omni.events.importer import MAX_BATCH_SIZE, Rejection, SkippedBatch, open_table
from omni.kit.errors import ConflictError, ValidationFailed

Progress = Callable[[int], None]


@dataclass(frozen=True)
class ProductImportRequest:
    """What to import, from where, and how to read it."""

    path: Path
    currency: str = "TWD"
    mapping: Mapping[str, str] = field(default_factory=dict)
    file_format: str | None = None
    encoding: str = "utf-8"
    delimiter: str | None = None
    batch_size: int = 1000


@dataclass
class ProductImportSummary:
    """What an import did: rows count the file's non-empty rows (one per variant)."""

    file_name: str
    dry_run: bool
    rows: int = 0
    imported_rows: int = 0
    batches: int = 0
    products_created: int = 0
    products_updated: int = 0
    products_unchanged: int = 0
    variants_created: int = 0
    variants_updated: int = 0
    prices_written: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    skipped: list[SkippedBatch] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, batch: SaveSummary) -> None:
        """Count what a batch saved."""
        self.products_created += batch.products_created
        self.products_updated += batch.products_updated
        self.products_unchanged += batch.products_unchanged
        self.variants_created += batch.variants_created
        self.variants_updated += batch.variants_updated
        self.prices_written += batch.prices_written

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class PreparedProductImport:
    """A file opened and checked against its mapping and the catalogue, ready to import."""

    request: ProductImportRequest
    table: Any
    plan: ProductColumns
    categories: Mapping[str, str]
    total_rows: int
    product_ends: dict[str, int]
    seconds: float


def _category_names(session: Session) -> dict[str, str]:
    """Each category's slug, name and English name, case-folded, to its slug; a slug wins over a name."""
    names: dict[str, str] = {}
    categories = service.list_categories(session)
    for category in categories:
        names.setdefault(category.name.casefold(), category.slug)
        names.setdefault(category.name_en.casefold(), category.slug)
    return names | {category.slug.casefold(): category.slug for category in categories}


def prepare_product_import(request: ProductImportRequest, session: Session) -> PreparedProductImport:
    """Check the request, open the file, find its columns and count its rows; nothing is written."""
    started = time.perf_counter()
    if not (len(request.currency) == 3 and request.currency.isupper() and is_currency(request.currency)):
        raise ImportInvalid(f"currency {request.currency!r} is not an ISO 4217 code such as TWD")
    if not 1 <= request.batch_size <= MAX_BATCH_SIZE:
        raise ImportInvalid(f"batch size must be from 1 to {MAX_BATCH_SIZE}")
    table = open_table(
        request.path, file_format=request.file_format, encoding=request.encoding, delimiter=request.delimiter
    )
    channels = [channel.code for channel in service.list_channels(session)]
    plan = resolve_columns(table.header, request.mapping, file_name=request.path.name, channels=channels)
    total, ends = table.survey(plan.fields["code"])
    categories = _category_names(session)
    return PreparedProductImport(request, table, plan, categories, total, ends, time.perf_counter() - started)


@dataclass
class _Batch:
    products: list[ProductRows] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)


def _batches(prepared: PreparedProductImport) -> Iterator[_Batch]:
    # A product goes out once its last row (found by the survey) is read, so its rows may be anywhere.
    plan, size, ends = prepared.plan, prepared.request.batch_size, prepared.product_ends
    open_products: dict[str, list[tuple[int, Sequence[Any]]]] = {}
    batch = _Batch()
    for number, row in prepared.table.rows():
        code = product_code(plan, row)
        if code is None:
            batch.rows.append(number)
            reason = f"{plan.describe('code')}: is empty; every row needs its product's code"
            batch.rejections.append(Rejection(number, reason))
        else:
            lines = open_products.setdefault(code, [])
            lines.append((number, row))
            if ends.get(code) != number:
                continue
            del open_products[code]
            batch.rows.extend(n for n, _ in lines)
            try:
                batch.products.append(
                    product_from_rows(
                        plan, lines, currency=prepared.request.currency, categories=prepared.categories
                    )
                )
            except RowsRejected as exc:
                batch.rejections.extend(Rejection(n, reason) for n, reason in exc.rejections)
        if len(batch.rows) >= size:
            yield batch
            batch = _Batch()
    if batch.rows:
        yield batch


def _save(session: Session, batch: _Batch, plan: ProductColumns) -> SaveSummary | None:
    """Save the batch's products; on a problem, add its rows to the batch's rejections and answer None."""
    try:
        return service.save_products(session, [rows.product for rows in batch.products], complete=False)
    except (ValidationFailed, ConflictError) as exc:
        for detail in exc.details:
            rows = batch.products[int(detail.get("index", 0))]
            number, reason = rows.rejection(
                plan, str(detail.get("field", "")).split("."), str(detail["rule"])
            )
            batch.rejections.append(Rejection(number, reason))
        return None


def run_product_import(
    prepared: PreparedProductImport,
    database: Database,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ProductImportSummary:
    """Import batch by batch, each in its own transaction; a dry run checks everything and keeps nothing."""
    started = time.perf_counter()
    summary = ProductImportSummary(file_name=prepared.request.path.name, dry_run=dry_run)
    for number, batch in enumerate(_batches(prepared), start=1):
        summary.batches, summary.rows = number, summary.rows + len(batch.rows)
        # A batch with rejected rows is saved too, and rolled back, so that all its problems are reported.
        if batch.products:
            with database.sessions() as session, session.begin() as transaction:
                saved = _save(session, batch, prepared.plan)
                if batch.rejections or dry_run:
                    transaction.rollback()
            if saved is not None and not batch.rejections:
                summary.add(saved)
        if batch.rejections:
            summary.rejections.extend(sorted(batch.rejections, key=lambda r: r.row))
            summary.skipped.append(SkippedBatch(number, min(batch.rows), max(batch.rows), len(batch.rows)))
        else:
            summary.imported_rows += len(batch.rows)
        if progress is not None:
            progress(len(batch.rows))
    summary.seconds = prepared.seconds + time.perf_counter() - started
    return summary
