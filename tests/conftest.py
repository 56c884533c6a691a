"""Database fixtures: every test that asks for a database runs on SQLite and on PostgreSQL.

PostgreSQL tests use a database created for this run and dropped after it. When no server answers they
are skipped, unless OMNI_TEST_POSTGRES=required (as in CI), which turns that into a failure.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from omni.app import create_app
from omni.db.engine import Database
from omni.migrations import runner
from omni.migrations.models import metadata
from omni.settings import Settings

POSTGRES_ADMIN_URL = os.environ.get("OMNI_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
POSTGRES_REQUIRED = os.environ.get("OMNI_TEST_POSTGRES", "").lower() == "required"
ENGINES = ["sqlite", "postgresql"]


def _postgres_database() -> Iterator[str]:
    name = f"omni_test_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {str(exc).strip().splitlines()[0]}"
        if POSTGRES_REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            url = make_url(POSTGRES_ADMIN_URL).set(drivername="postgresql+psycopg", database=name)
            yield url.render_as_string(hide_password=False)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=ENGINES)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, empty database of each engine for this test run."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'omni.db'}"
    else:
        yield from _postgres_database()


@pytest.fixture(scope="session")
def database(database_url: str) -> Iterator[Database]:
    """The run's database of one engine, migrated to head by Alembic."""
    db = Database(database_url)
    runner.upgrade(db.engine)
    yield db
    db.dispose()


@pytest.fixture
def session(database: Database) -> Iterator[Session]:
    """A session inside one transaction that is rolled back after the test."""
    with database.engine.connect() as connection:
        transaction = connection.begin()
        with Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False) as db:
            yield db
        transaction.rollback()


@pytest.fixture
def committed(database: Database) -> Iterator[Database]:
    """The database for tests that commit (several sessions, threads, HTTP); emptied afterwards."""
    yield database
    with database.engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(text(f'DELETE FROM "{table.name}"'))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, secret_key="test-secret-" + "x" * 32, log_json=False)


@pytest.fixture
def client(committed: Database, settings: Settings) -> Iterator[TestClient]:
    """An HTTP client of the whole application over the test database."""
    with TestClient(create_app(settings, committed), base_url="http://127.0.0.1") as test_client:
        yield test_client
