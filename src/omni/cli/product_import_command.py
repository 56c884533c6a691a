"""`omni import products FILE`: bring a product export (one row per variant) into the catalogue."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from omni.catalog import importer
from omni.catalog.import_rows import ALIASES
from omni.cli.context import load_settings, open_database
from omni.cli.import_commands import (
    BatchOpt,
    DelimiterOpt,
    DryRunOpt,
    EncodingOpt,
    FileArg,
    FormatOpt,
    MapOpt,
    RejectsOpt,
    _plural,
    err,
    out,
    report_rejections,
    write_rejects,
)
from omni.events.import_mapping import MappingFile, load_mapping_file, parse_map_flags

HELP = "Import products (one row per variant: SKU, barcode, size, colour, price:CHANNEL columns)."
EPILOG = (
    "Columns are found by these names unless mapped: "
    + "; ".join(f"{field}: {', '.join(names)}" for field, names in ALIASES.items())
    + ". Prices: one column per sales channel named price:CHANNEL (price:web, price:pos:TPE-XINYI), "
    "in whole currency units (1290 or NT$1,290). An empty price cell leaves that price as it is."
)
MappingOpt = Annotated[
    Path | None,
    typer.Option(
        "--mapping",
        help="YAML file with columns: {FIELD: COLUMN} and optionally currency; --map wins over it.",
    ),
]
CurrencyOpt = Annotated[
    str | None, typer.Option(help="Currency of prices without one; default OMNI_CURRENCY.")
]


def import_products(
    file: FileArg,
    map_: MapOpt = None,
    mapping: MappingOpt = None,
    currency: CurrencyOpt = None,
    encoding: EncodingOpt = "utf-8",
    file_format: FormatOpt = None,
    delimiter: DelimiterOpt = None,
    batch_size: BatchOpt = 1000,
    dry_run: DryRunOpt = False,
    rejects: RejectsOpt = None,
) -> None:
    """Import products; saving again adds nothing twice and removes nothing the file leaves out."""
    settings = load_settings()
    saved = load_mapping_file(mapping) if mapping else MappingFile()
    request = importer.ProductImportRequest(
        path=file,
        currency=currency or saved.currency or settings.currency,
        mapping={**saved.columns, **parse_map_flags(map_ or [])},
        file_format=file_format,
        encoding=encoding,
        delimiter=delimiter,
        batch_size=batch_size,
    )
    database = open_database(settings, migrate=True)
    try:
        with database.unit_of_work() as session:
            prepared = importer.prepare_product_import(request, session)
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        # Only a terminal gets a live bar; a log or a pipe would collect its redraws.
        with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as progress:
            task = progress.add_task(f"{file.name} rows", total=prepared.total_rows)
            summary = importer.run_product_import(
                prepared, database, dry_run=dry_run, progress=lambda rows: progress.advance(task, rows)
            )
    finally:
        database.dispose()
    _report(summary)
    if rejects is not None:
        write_rejects(rejects, summary.rejections)
    if summary.rejections:
        raise typer.Exit(1)


def _report(summary: importer.ProductImportSummary) -> None:
    out.print(
        f"{summary.file_name}: {_plural(summary.rows, 'row')} read in {_plural(summary.batches, 'batch')}"
    )
    what = (
        f"{_plural(summary.products_created, 'new product')}, {summary.products_updated:,} updated, "
        f"{summary.products_unchanged:,} unchanged; {_plural(summary.variants_created, 'new variant')}, "
        f"{summary.variants_updated:,} updated; {_plural(summary.prices_written, 'price')} written"
    )
    if summary.dry_run:
        out.print(
            f"dry run: {_plural(summary.imported_rows, 'row')} would be imported: {what}; nothing was stored"
        )
    else:
        out.print(f"imported {_plural(summary.imported_rows, 'row')}: {what}")
    report_rejections(summary)


def register(app: typer.Typer) -> None:
    """Add `products` to the `omni import` commands."""
    app.command(name="products", help=HELP, epilog=EPILOG)(import_products)
