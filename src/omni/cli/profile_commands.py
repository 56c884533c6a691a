"""`omni profiles`: jobs over the unified customer profiles."""

from __future__ import annotations

import typer
from rich.console import Console

from omni.cli.context import load_settings, open_database
from omni.db.engine import Database
from omni.profiles import matching_job

app = typer.Typer(help="Jobs over the unified customer profiles.", no_args_is_help=True)
console = Console()


def describe_run(result: matching_job.MatchRun) -> str:
    """One line saying what a matching run did."""
    if result.skipped:
        return f"matching skipped: {result.skipped} ({result.profiles:,} found)"
    return (
        f"{result.profiles:,} profiles matched, {result.pairs_scored:,} pairs scored: "
        f"{result.merged:,} merged, {result.queued:,} queued for review, "
        f"{result.refused:,} refused by identifier limits"
    )


def match_profiles(database: Database) -> str:
    """Run the matching job in one transaction and describe what it did."""
    with database.unit_of_work() as session:
        return describe_run(matching_job.run(session))


@app.command()
def match() -> None:
    """Find profiles of one person that share no identifier: merge sure pairs, queue the rest for review."""
    console.print(match_profiles(open_database(load_settings(), migrate=True)))
