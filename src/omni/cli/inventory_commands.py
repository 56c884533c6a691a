"""`omni inventory`: marketplace stock feeds, expired cart holds, and the ledger check."""

from __future__ import annotations

import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from omni.cli.context import load_settings, open_database
from omni.inventory import lookups, service, tasks

app = typer.Typer(
    help="Stock: marketplace feeds, expired cart holds, the ledger check.", no_args_is_help=True
)
console = Console(stderr=True)


class FeedFormat(StrEnum):
    CSV = "csv"
    JSON = "json"


@app.command()
def feed(
    channel: Annotated[str, typer.Argument(help="The channel's code, e.g. a marketplace's.")],
    format: Annotated[FeedFormat, typer.Option(help="csv or json.")] = FeedFormat.CSV,  # noqa: A002
    output: Annotated[Path | None, typer.Option(help="Write here instead of standard output.")] = None,
) -> None:
    """Print the channel's stock feed: every stocked SKU's available units, the channel's buffer taken off."""
    database = open_database(load_settings(), migrate=True)
    with database.unit_of_work() as session:
        found = lookups.stock_feed(session, channel=channel)
    text = lookups.feed_csv(found) if format is FeedFormat.CSV else found.model_dump_json(indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        console.print(f"{len(found.items):,} SKUs written to {output}")


@app.command("expire-holds")
def expire_holds(
    every: Annotated[float, typer.Option(min=0, help="Repeat every N seconds; 0 runs once.")] = 0,
) -> None:
    """Release cart holds whose time is up."""
    database = open_database(load_settings(), migrate=True)
    while True:
        console.print(f"{tasks.release_expired_holds(database.sessions):,} expired holds released")
        if not every:
            return
        time.sleep(every)


@app.command()
def reconcile() -> None:
    """Check every stock level against its movements and open holds; exit 1 when any disagrees."""
    database = open_database(load_settings(), migrate=True)
    with database.unit_of_work() as session:
        found = service.reconcile(session)
    for item in found:
        console.print(
            f"{item.sku} at {item.location}: {item.field} is {item.stored}, ledger says {item.expected}"
        )
    if found:
        raise typer.Exit(1)
    console.print("every stock level agrees with its movements")
