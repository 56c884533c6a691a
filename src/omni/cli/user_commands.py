"""`omni users`: create and list the dashboard's staff accounts."""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from omni.accounts import service as accounts_service
from omni.accounts.roles import Role
from omni.accounts.schemas import UserCreate
from omni.cli.context import load_settings, open_database
from omni.kit.errors import ValidationFailed

app = typer.Typer(help="Manage staff accounts of the dashboard.", no_args_is_help=True)
console = Console()


@app.command()
def create(
    email: Annotated[str, typer.Option(help="Login email.")],
    name: Annotated[str, typer.Option(help="Name shown in the dashboard.")],
    role: Annotated[Role, typer.Option(help="admin, marketer or store_staff.")],
    store: Annotated[str | None, typer.Option(help="Store code; required for store_staff.")] = None,
    password: Annotated[
        str,
        typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, help="At least 10 characters."),
    ] = "",
) -> None:
    """Create a staff user (the password is asked for when not given)."""
    try:
        data = UserCreate(email=email, display_name=name, password=password, role=role, store_code=store)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'user'}: {e['msg']}" for e in exc.errors())
        raise ValidationFailed(problems) from None
    database = open_database(load_settings(), migrate=True)
    with database.unit_of_work() as session:
        user = accounts_service.create_user(session, data)
        console.print(f"created {user.role} {user.email} (id {user.id})")


@app.command("list")
def list_users() -> None:
    """List staff users."""
    database = open_database(load_settings(), migrate=True)
    with database.unit_of_work() as session:
        table = Table("email", "name", "role", "store", "active")
        for user in accounts_service.list_users(session):
            table.add_row(
                user.email, user.display_name, user.role, user.store_code or "", str(user.is_active)
            )
    console.print(table)
