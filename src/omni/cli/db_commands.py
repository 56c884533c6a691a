"""`omni db`: migrate, check and inspect the operational store's schema."""

from __future__ import annotations

from typing import Annotated

import typer

from omni.cli.context import load_settings, open_database
from omni.db.engine import describe
from omni.migrations import runner

app = typer.Typer(help="Migrate and inspect the database schema.", no_args_is_help=True)


@app.command()
def upgrade() -> None:
    """Apply every pending migration in one transaction."""
    settings = load_settings()
    database = open_database(settings, migrate=False)
    before = runner.current_revision(database.engine)
    runner.upgrade(database.engine)
    after = runner.current_revision(database.engine)
    typer.echo(f"{describe(database.url)}: {before or 'empty'} -> {after}")


@app.command()
def check() -> None:
    """Fail when the models have changes that no migration covers (run in CI)."""
    settings = load_settings()
    database = open_database(settings, migrate=True)
    runner.check(database.engine)
    typer.echo("models and migrations agree")


@app.command()
def current() -> None:
    """Print the schema revision of the database and the newest one this version ships."""
    database = open_database(load_settings(), migrate=False)
    typer.echo(
        f"database: {runner.current_revision(database.engine) or 'empty'}; code: {runner.head_revision()}"
    )


@app.command()
def revision(
    message: Annotated[str, typer.Option("-m", "--message", help="What the migration does.")],
    after: Annotated[
        str,
        typer.Option(help="The revision the new one follows; name one when the schema has several branches."),
    ] = "head",
) -> None:
    """Write a new migration from the difference between models and database (for developers)."""
    database = open_database(load_settings(), migrate=True)
    runner.revision(database.engine, message, after=after)
