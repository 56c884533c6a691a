"""`omni sources`: create, list and revoke the write keys that touchpoints send events with."""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from omni.cli.context import load_settings, open_database
from omni.events import sources as events_sources
from omni.events.schemas import SourceCreate, SourceKind
from omni.kit.errors import ValidationFailed

app = typer.Typer(help="Manage tracking sources and their write keys.", no_args_is_help=True)
console = Console()


@app.command()
def create(
    kind: Annotated[SourceKind, typer.Option(help="web, app, pos, crm, marketplace or server.")],
    name: Annotated[
        str | None, typer.Option(help="Unique name, e.g. webshop; a pos source defaults to its store code.")
    ] = None,
    store: Annotated[str | None, typer.Option(help="Store code of a pos source.")] = None,
    channel: Annotated[
        str | None, typer.Option(help="Channel of its events unless they say otherwise; needed for server.")
    ] = None,
) -> None:
    """Create a source and print its write key (shown this once only)."""
    try:
        data = SourceCreate(name=name, kind=kind, store_code=store, default_channel=channel)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'source'}: {e['msg']}" for e in exc.errors())
        raise ValidationFailed(problems) from None
    database = open_database(load_settings(), migrate=True)
    with database.unit_of_work() as session:
        created = events_sources.create_source(session, data)
    source = created.source
    console.print(f"created source {source.name} ({source.key}, channel {source.default_channel})")
    console.print("write key (shown only now; store it in the sending system):")
    typer.echo(created.write_key)


@app.command("list")
def list_sources(
    all_: Annotated[bool, typer.Option("--all", help="Include revoked sources.")] = False,
) -> None:
    """List sources with the first characters of their write keys."""
    database = open_database(load_settings(), migrate=True)
    with database.unit_of_work() as session:
        table = Table("name", "kind", "source key", "store", "channel", "write key", "created", "revoked")
        for source in events_sources.list_sources(session, include_revoked=all_):
            table.add_row(
                source.name,
                source.kind,
                source.key,
                source.store_code or "",
                source.default_channel,
                f"{source.key_prefix}…",
                source.created_at.isoformat(timespec="seconds"),
                source.revoked_at.isoformat(timespec="seconds") if source.revoked_at else "",
            )
    console.print(table)


@app.command()
def revoke(name: Annotated[str, typer.Argument(help="Name of the source.")]) -> None:
    """Revoke a source's write key: its requests are refused from now on."""
    database = open_database(load_settings(), migrate=True)
    with database.unit_of_work() as session:
        source = events_sources.revoke_source(session, name)
        console.print(
            f"revoked {source.name}; its write key is refused since {source.revoked_at:%Y-%m-%d %H:%M:%S} UTC"
        )
