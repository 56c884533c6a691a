"""Apply and check migrations against the configured database, in one transaction."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Engine

from omni.kit.errors import OmniError

MIGRATIONS_DIR = Path(__file__).parent


class MigrationFailed(OmniError):
    status_code = 500
    code = "migration_failed"


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic config for the package's migrations, bound to engine's URL when given."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option(
        "file_template", "%%(year)d-%%(month).2d-%%(day).2d-%%(hour).2d%%(minute).2d_%%(slug)s"
    )
    config.set_main_option("timezone", "UTC")
    if engine is not None:
        config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def _run(engine: Engine, action: str, *args: str) -> None:
    config = alembic_config(engine)
    # engine.begin() makes the whole command one transaction that commits only if every step succeeds.
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        try:
            getattr(command, action)(config, *args)
        except CommandError as exc:
            raise MigrationFailed(f"{action} failed: {exc}") from None


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Bring the schema up to revision; on failure the schema is left as it was."""
    try:
        _run(engine, "upgrade", revision)
    except MigrationFailed:
        raise
    except Exception as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise MigrationFailed(f"migration failed and was rolled back: {first_line}") from exc


def check(engine: Engine) -> None:
    """Fail when the models and the migrations disagree (alembic check)."""
    _run(engine, "check")


def current_revision(engine: Engine) -> str | None:
    """The revision(s) the database is at, None before the first migration."""
    with engine.connect() as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
    return ",".join(sorted(heads)) or None


def head_revision() -> str:
    """The newest revision(s) the package ships, comma-separated while branches are unmerged."""
    return ",".join(sorted(ScriptDirectory.from_config(alembic_config()).get_heads()))


def revision(engine: Engine, message: str, *, after: str = "head") -> None:
    """Autogenerate a new migration from the models (for developers), following revision `after`."""
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True, head=after, splice=after != "head")
