"""`omni journeys`: step due journey runs, run the daily date pass, list journeys."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from omni.cli.context import load_settings, open_database
from omni.journeys import service as journeys_service
from omni.journeys import tasks as journeys_tasks

app = typer.Typer(help="Journeys: step due runs, enter people by date traits, list.", no_args_is_help=True)
console = Console()


@app.command("run-due")
def run_due(
    limit: Annotated[int | None, typer.Option(help="Step at most this many runs.", min=1)] = None,
) -> None:
    """One pass over due timers: step every run whose time has come (safe beside running workers)."""
    settings = load_settings()
    database = open_database(settings, migrate=True)
    done = journeys_tasks.run_due(database, settings, limit=limit)
    console.print(f"stepped {done.runs:,} run(s), {done.steps:,} step(s)")


@app.command("run-dates")
def run_dates(
    day: Annotated[str | None, typer.Option(help="The day to run for, YYYY-MM-DD; today by default.")] = None,
) -> None:
    """Let in everyone whose date trait (birthday, days after signup) makes the day theirs."""
    try:
        today = date.fromisoformat(day) if day else None
    except ValueError:
        raise typer.BadParameter("give the day as YYYY-MM-DD", param_hint="--day") from None
    database = open_database(load_settings(), migrate=True)
    console.print(f"{journeys_tasks.run_dates(database, today=today):,} person(s) entered")


@app.command("list")
def list_journeys() -> None:
    """Every journey with its status, version and counts."""
    database = open_database(load_settings(), migrate=True)
    with database.unit_of_work() as session:
        rows = journeys_service.list_all(session)
    table = Table("id", "name", "status", "version", "entered", "active", "converted")
    for row in rows:
        table.add_row(
            str(row.id),
            row.name,
            row.status,
            str(row.current_version),
            f"{row.counts.entered:,}",
            f"{row.counts.active:,}",
            f"{row.counts.converted:,}",
        )
    console.print(table)
