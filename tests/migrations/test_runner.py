from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect

from omni.db.engine import Database
from omni.migrations import runner


def test_models_and_migrations_agree(database: Database) -> None:
    runner.check(database.engine)
    assert runner.current_revision(database.engine) == runner.head_revision()


def test_migration_files_have_dated_names() -> None:
    names = sorted(p.name for p in (runner.MIGRATIONS_DIR / "versions").glob("*.py"))
    assert names
    assert all(len(name) > 16 and name[:4].isdigit() and name[4] == "-" and name[15] == "_" for name in names)


def test_failed_migration_leaves_schema_as_it_was(tmp_path: Path) -> None:
    # given an empty database and a migration script that fails after creating a table
    scripts = tmp_path / "migrations"
    (scripts / "versions").mkdir(parents=True)
    (scripts / "env.py").write_text((runner.MIGRATIONS_DIR / "env.py").read_text())
    (scripts / "script.py.mako").write_text((runner.MIGRATIONS_DIR / "script.py.mako").read_text())
    (scripts / "versions" / "0001_breaks.py").write_text(
        """
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("half_done", sa.Column("id", sa.Integer(), primary_key=True))
    op.execute("SELECT * FROM table_that_does_not_exist")


def downgrade() -> None:
    pass
"""
    )
    database = Database(f"sqlite:///{tmp_path / 'broken.db'}")
    original = runner.MIGRATIONS_DIR
    runner.MIGRATIONS_DIR = scripts
    try:
        with pytest.raises(runner.MigrationFailed) as caught:
            runner.upgrade(database.engine)
    finally:
        runner.MIGRATIONS_DIR = original
    # then the error says what happened in one line and nothing was created
    assert "rolled back" in caught.value.message
    assert "\n" not in caught.value.message
    assert inspect(database.engine).get_table_names() == []
