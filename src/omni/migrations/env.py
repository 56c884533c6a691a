"""Alembic's entry point: migrate the connection the runner hands over, all in one transaction."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from omni.migrations.models import metadata


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # One transaction for the whole upgrade: a failing step leaves the schema as it was.
        transaction_per_migration=False,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through omni.migrations.runner (omni db upgrade)")
run_migrations(connection)
