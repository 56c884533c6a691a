"""`omni analytics export|funnel`: the analytical export, and funnels over it for logs too large to walk.

`export DIR` writes what segments and funnels read as Parquet (analytics.timelines); a scheduler (cron, a
Kubernetes CronJob) runs it as often as the figures should be fresh. `funnel DIR` answers on DuckDB over
the export in seconds at tens of millions of events; the API and dashboard answer on the store itself.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table

from omni.analytics import funnel_export, funnel_sql, funnels, timelines
from omni.analytics.repository import local_bounds
from omni.analytics.schemas import AnalyticsFilters
from omni.cli.context import load_settings, open_database
from omni.kit.errors import ValidationFailed

app = typer.Typer(help="Analytics over a Parquet export of the store, on DuckDB.", no_args_is_help=True)
console = Console()


@app.command()
def export(
    directory: Annotated[
        Path, typer.Argument(help="Where the export goes; a previous export there is replaced.")
    ],
) -> None:
    """Export the store for DuckDB: the tables segments read and each person's numbered timeline.

    The files are written beside DIR and swapped in when complete, so a reader never sees half an export.
    """
    database = open_database(load_settings(), migrate=True)
    directory = directory.resolve()
    directory.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}-", dir=directory.parent))
    try:
        with database.read_only_unit() as session:
            written = timelines.export(session, staging)
        previous = directory.with_name(f".{directory.name}-previous")
        if directory.exists():
            directory.rename(previous)
        try:
            staging.rename(directory)
        except OSError:
            if previous.exists():
                previous.rename(directory)  # the last complete export stays in place
            raise
        shutil.rmtree(previous, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        database.dispose()
    for name, rows in written.items():
        console.print(f"{name}: {rows:,} rows")
    console.print(f"exported to {directory} in {time.perf_counter() - started:.1f} s")


@app.command()
def funnel(
    directory: Annotated[Path, typer.Argument(help="An export written by `omni analytics export`.")],
    steps: Annotated[str, typer.Option(help="Event names in order, separated by commas.")],
    window_hours: Annotated[float, typer.Option(help="Conversion window from step 1.")] = 168,
    by: Annotated[str | None, typer.Option(help="Break down by channel or store (of step 1).")] = None,
    channel: Annotated[str | None, typer.Option(help="Only events on this channel.")] = None,
    store: Annotated[str | None, typer.Option(help="Only events at this store.")] = None,
    since: Annotated[str | None, typer.Option(help="First day (YYYY-MM-DD, the store's time zone).")] = None,
    until: Annotated[str | None, typer.Option(help="Last day, included.")] = None,
) -> None:
    """People reaching each step of a funnel, with drop-off and median time from step 1."""
    if not (directory / f"{timelines.NAME}.parquet").exists():
        raise ValidationFailed(f"{directory} holds no export (run `omni analytics export {directory}`)")
    if by not in (None, "channel", "store"):
        raise typer.BadParameter("channel or store", param_hint="--by")
    shape = funnels.Funnel(
        funnels.parse_steps(steps, window_hours=window_hours), funnels.window_of(window_hours)
    )
    if not funnel_sql.eligible(shape):
        raise ValidationFailed(
            "optional, time-limited and filtered steps are answered by the API, not the export"
        )
    filters = AnalyticsFilters(
        channel=channel, store=store, since=_day(since, "--since"), until=_day(until, "--until")
    )
    if filters.since and filters.until and filters.until < filters.since:
        raise typer.BadParameter("is before --since", param_hint="--until")
    start, end = local_bounds(filters, ZoneInfo(load_settings().timezone))
    scope = funnel_sql.Scope(start=start, end=end, channel=channel, store=store)
    started = time.perf_counter()
    with timelines.opened(directory) as duck:
        rows = funnel_export.run(duck, shape, scope, by)
    seconds = time.perf_counter() - started
    table = Table("group", "step", "event", "people", "conversion", "dropped", "median s from step 1")
    for group, counts in sorted(funnel_sql.counts_of(shape, rows).items()):
        for k, step in enumerate(shape.steps):
            first = counts.people[0]
            median = counts.median_seconds[k]
            table.add_row(
                group or "all",
                str(k + 1),
                step.event,
                f"{counts.people[k]:,}",
                f"{counts.people[k] / first:.1%}" if first else "-",
                f"{counts.dropped[k]:,}",
                "-" if median is None else f"{median:,.0f}",
            )
    console.print(table)
    console.print(f"{seconds:.2f} s on DuckDB over {directory}")


def _day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date (YYYY-MM-DD)", param_hint=option) from None
