"""`omni segments`: recompute segment membership, list segments."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from omni.cli.context import load_settings, open_database
from omni.segments import membership, predefined
from omni.segments import service as segments_service

app = typer.Typer(help="Segments: recompute membership, list sizes.", no_args_is_help=True)
console = Console()


@app.command()
def recompute(
    key: Annotated[str | None, typer.Argument(help="One segment's key; every segment when left out.")] = None,
) -> None:
    """Recompute members (each segment in its own savepoint: a failing one keeps its members)."""
    database = open_database(load_settings(), migrate=True)
    with database.unit_of_work() as session:
        predefined.ensure(session)
        if key is not None:
            segment = segments_service.by_key(session, key)
            if segment is None:
                raise typer.BadParameter(f"no segment {key}", param_hint="KEY")
            one = membership.recompute(session, segment.id)
            console.print(f"{key}: {one.size:,} members ({one.entered:,} entered, {one.exited:,} exited)")
            return
        result = membership.recompute_all(session)
    for done in result.recomputed:
        console.print(
            f"segment {done.segment_id}: {done.size:,} members (+{done.entered:,} -{done.exited:,})"
        )
    for failed in result.failed:
        console.print(f"[red]{failed.key}: kept its members: {failed.error}[/red]")


@app.command("list")
def list_segments() -> None:
    """Every segment with its size and version."""
    database = open_database(load_settings(), migrate=True)
    with database.unit_of_work() as session:
        rows = segments_service.list_all(session)
    table = Table("key", "name", "size", "version", "computed")
    for row in rows:
        table.add_row(
            row.key, row.name, f"{row.size:,}", str(row.current_version), str(row.computed_version or "-")
        )
    console.print(table)
