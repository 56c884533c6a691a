"""`omni import customers|orders|events FILE`: bring POS and CRM exports into the event log."""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Protocol

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from omni.cli.context import load_settings, open_database
from omni.db.engine import Database
from omni.events import importer
from omni.events.import_mapping import ALIASES, KINDS, Kind, MappingFile, load_mapping_file, parse_map_flags

app = typer.Typer(
    help="Import customers, orders or events from POS and CRM exports (CSV or Parquet).",
    no_args_is_help=True,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
DEFAULT_SOURCES: dict[Kind, str] = {"customers": "crm", "orders": "pos", "events": "import"}
SHOWN_REJECTIONS = 50
_WHAT = {
    "customers": "Import customers (one identify per row) from a CRM or loyalty export.",
    "orders": "Import orders (one row per order line, grouped by order_id) as Order Completed events.",
    "events": "Import Segment messages (type, event, userId/anonymousId, timestamp, properties.* ...).",
}

FileArg = Annotated[Path, typer.Argument(help="The CSV or Parquet file.", metavar="FILE", show_default=False)]
MapOpt = Annotated[
    list[str] | None, typer.Option("--map", help="FIELD=COLUMN, repeatable, e.g. --map phone=手機.")
]
MappingOpt = Annotated[
    Path | None,
    typer.Option(
        "--mapping",
        help="YAML file with columns: {FIELD: COLUMN} and optionally user_id, "
        "currency, timezone; --map and other flags win over it.",
    ),  # fmt: skip
]
SourceOpt = Annotated[
    str | None,
    typer.Option(
        help="Where the data came from, e.g. pos:TPE-XINYI; default crm (customers), pos (orders) or import."
    ),
]
ChannelOpt = Annotated[str | None, typer.Option(help="Channel of the events; default: the source's kind.")]
EncodingOpt = Annotated[
    str, typer.Option(help="Text encoding of a CSV: utf-8 (a byte order mark is fine), cp950 or big5.")
]
FormatOpt = Annotated[str | None, typer.Option("--format", help="csv or parquet; default: by extension.")]
DelimiterOpt = Annotated[str | None, typer.Option(help="CSV delimiter; default , (tab for .tsv).")]
BatchOpt = Annotated[
    int, typer.Option(help="Rows per transaction: a batch with a rejected row stores nothing.", min=1)
]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Validate only; store nothing.")]
UserIdOpt = Annotated[
    str | None,
    typer.Option(
        "--user-id",
        help="Field that becomes the userId: customer_id, member_id, email or phone "
        "(default customer_id, else member_id).",
    ),  # fmt: skip
]
CurrencyOpt = Annotated[
    str | None, typer.Option(help="Currency of amounts without one; default OMNI_CURRENCY.")
]
TimezoneOpt = Annotated[
    str | None, typer.Option(help="Time zone of times without an offset; default OMNI_TIMEZONE.")
]
RejectsOpt = Annotated[Path | None, typer.Option(help="Write every rejected row and reason to this CSV.")]


def _columns_help(kind: Kind) -> str:
    fields = "; ".join(f"{field}: {', '.join(names)}" for field, names in ALIASES[kind].items())
    return f"Columns are found by these names unless mapped: {fields}."


def _command(kind: Kind) -> Callable[..., None]:
    def command(
        file: FileArg,
        map_: MapOpt = None,
        mapping: MappingOpt = None,
        source: SourceOpt = None,
        channel: ChannelOpt = None,
        encoding: EncodingOpt = "utf-8",
        file_format: FormatOpt = None,
        delimiter: DelimiterOpt = None,
        batch_size: BatchOpt = 1000,
        dry_run: DryRunOpt = False,
        user_id: UserIdOpt = None,
        currency: CurrencyOpt = None,
        timezone: TimezoneOpt = None,
        rejects: RejectsOpt = None,
    ) -> None:
        settings = load_settings()
        saved = load_mapping_file(mapping) if mapping else MappingFile()
        chosen_source = source or DEFAULT_SOURCES[kind]
        request = importer.ImportRequest(
            kind=kind,
            path=file,
            source=chosen_source,
            channel=channel or chosen_source.partition(":")[0],
            currency=currency or saved.currency or settings.currency,
            timezone=timezone or saved.timezone or settings.timezone,
            mapping={**saved.columns, **parse_map_flags(map_ or [])},
            user_field=user_id or saved.user_id,
            file_format=file_format,
            encoding=encoding,
            delimiter=delimiter,
            batch_size=batch_size,
        )
        prepared = importer.prepare_import(request)
        database = None if dry_run else open_database(settings, migrate=True)
        try:
            summary = _run_with_progress(prepared, database)
        finally:
            if database is not None:
                database.dispose()
        _report(summary)
        if rejects is not None:
            write_rejects(rejects, summary.rejections)
        if summary.rejections:
            raise typer.Exit(1)

    command.__doc__ = _WHAT[kind]
    return command


for _kind in KINDS:
    app.command(name=_kind, help=_WHAT[_kind], epilog=_columns_help(_kind))(_command(_kind))


def _run_with_progress(
    prepared: importer.PreparedImport, database: Database | None
) -> importer.ImportSummary:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    # Only a terminal gets a live bar; a log or a pipe would collect its redraws.
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as progress:
        task = progress.add_task(f"{prepared.request.path.name} rows", total=prepared.total_rows)
        return importer.run_import(prepared, database, progress=lambda rows: progress.advance(task, rows))


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}" if count == 1 else f"{count:,} {word}{'es' if word.endswith('ch') else 's'}"


def _report(summary: importer.ImportSummary) -> None:
    out.print(
        f"{summary.file_name}: {_plural(summary.rows, 'row')} read in {_plural(summary.batches, 'batch')}"
    )
    if summary.dry_run:
        out.print(
            f"dry run: {_plural(summary.imported_rows, 'row')} would be imported as "
            f"{_plural(summary.messages, 'event')}; nothing was stored"
        )
    else:
        out.print(
            f"imported {_plural(summary.imported_rows, 'row')} as {_plural(summary.messages, 'event')} "
            f"({summary.appended:,} new, {summary.already_in_log:,} already in the log)"
        )
    report_rejections(summary)


class ImportOutcome(Protocol):
    """What every importer's summary tells about rows it refused (events and products alike)."""

    @property
    def rows_per_second(self) -> float: ...
    @property
    def seconds(self) -> float: ...
    @property
    def rejections(self) -> list[importer.Rejection]: ...
    @property
    def skipped(self) -> list[importer.SkippedBatch]: ...


def report_rejections(summary: ImportOutcome) -> None:
    """Print what was rejected and skipped, the speed, and the rejected rows (some of them) with reasons."""
    skipped_rows = _plural(sum(batch.rows for batch in summary.skipped), "row")
    skipped = _plural(len(summary.skipped), "batch")
    out.print(f"rejected {_plural(len(summary.rejections), 'row')}; skipped {skipped} ({skipped_rows})")
    out.print(f"{summary.rows_per_second:,.0f} rows/s ({summary.seconds:.1f} s)")
    for rejection in summary.rejections[:SHOWN_REJECTIONS]:
        err.print(f"row {rejection.row}: {rejection.reason}")
    if len(summary.rejections) > SHOWN_REJECTIONS:
        more = len(summary.rejections) - SHOWN_REJECTIONS
        err.print(f"… and {more:,} more rejected rows (--rejects FILE writes them all)")
    for batch in summary.skipped:
        err.print(
            f"batch {batch.number} (rows {batch.first_row}–{batch.last_row}, {_plural(batch.rows, 'row')}) "
            "was not imported: it has rejected rows"
        )
    if summary.rejections:
        err.print(
            "fix the rejected rows and run the same command again: rows already imported are not added twice"
        )


def write_rejects(path: Path, rejections: Sequence[importer.Rejection]) -> None:
    """Write every rejected row and its reason to a CSV file."""
    # UTF-8 with a byte order mark, so Excel shows Chinese reasons correctly when the file is opened.
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["row", "reason"])
        writer.writerows((rejection.row, rejection.reason) for rejection in rejections)
