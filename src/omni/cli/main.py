"""The root command, its shared options and the one place that turns errors into one-line messages."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from omni import __version__
from omni.cli import (
    analytics_commands,
    db_commands,
    demo_commands,
    import_commands,
    inventory_commands,
    journey_commands,
    product_import_command,
    profile_commands,
    segment_commands,
    server_commands,
    source_commands,
    user_commands,
)
from omni.cli.context import state
from omni.kit.errors import OmniError

app = typer.Typer(
    name="omni",
    help="Omni, the omnichannel customer platform for retailers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.add_typer(db_commands.app, name="db")
app.add_typer(user_commands.app, name="users")
app.add_typer(source_commands.app, name="sources")
app.add_typer(import_commands.app, name="import")
app.add_typer(profile_commands.app, name="profiles")
app.add_typer(segment_commands.app, name="segments")
app.add_typer(analytics_commands.app, name="analytics")
app.add_typer(inventory_commands.app, name="inventory")
app.add_typer(journey_commands.app, name="journeys")
server_commands.register(app)
demo_commands.register(app)
product_import_command.register(import_commands.app)

err = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"omni {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Omni, the omnichannel customer platform for retailers."""
    state.debug = debug


def _settings_problem(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors(include_url=False):
        field = ".".join(str(p) for p in error["loc"])
        parts.append(f"OMNI_{field.upper()}: {error['msg']}" if field else error["msg"])
    return "invalid setting " + "; ".join(parts)


def main() -> None:
    """Run the CLI; a known failure prints one line (a traceback only with --debug) and exits 1."""
    try:
        app(prog_name="omni")
    except Exception as exc:
        if state.debug:
            raise
        if isinstance(exc, OmniError):
            message = exc.message
        elif isinstance(exc, ValidationError) and exc.title == "Settings":
            message = _settings_problem(exc)
        elif isinstance(exc, SQLAlchemyError):
            message = "database error: " + (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        else:
            message = f"unexpected {type(exc).__name__}: {exc} (run with --debug for the traceback)"
        err.print(f"[bold red]error:[/] {message}", highlight=False, markup=True, soft_wrap=True)
        sys.exit(1)
