"""The `omni` command as a user runs it: a real process, its exit code and what it prints."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from omni.migrations import runner


def omni(*args: str, env: dict[str, str] | None = None, tmp: Path) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OMNI_")}
    environment |= {"OMNI_DATA_DIR": str(tmp / "data"), "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "omni", *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    "command",
    [
        (),
        ("db",),
        ("users",),
        ("serve",),
        ("worker",),
        ("status",),
        ("demo",),
        ("db", "upgrade"),
        ("users", "create"),
    ],
    ids=lambda c: " ".join(c) or "omni",
)
def test_every_command_has_help(command: tuple[str, ...], tmp_path: Path) -> None:
    result = omni(*command, "--help", tmp=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Usage: omni" in result.stdout


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"OMNI_DATABASE_URL": "mysql://x@localhost/db"}, "error: invalid setting OMNI_DATABASE_URL"),
        ({"OMNI_DATABASE_URL": "not a url"}, "error: invalid setting OMNI_DATABASE_URL"),
        ({"OMNI_PORT": "99999"}, "error: invalid setting OMNI_PORT"),
        (
            {"OMNI_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/omni"},
            "error: cannot reach the database at postgresql+psycopg://nobody@127.0.0.1:1/omni",
        ),
    ],
    ids=["unsupported-database", "garbage-url", "port-out-of-range", "unreachable-database"],
)
def test_bad_settings_stop_with_one_line(env: dict[str, str], expected: str, tmp_path: Path) -> None:
    result = omni("db", "upgrade", env=env, tmp=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(expected)
    assert "Traceback" not in result.stderr


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    result = omni("--debug", "db", "upgrade", env={"OMNI_DATABASE_URL": "mysql://x@h/db"}, tmp=tmp_path)
    assert result.returncode == 1
    assert "Traceback" in result.stderr


def test_upgrade_status_and_users_on_sqlite(tmp_path: Path) -> None:
    upgraded = omni("db", "upgrade", tmp=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout.strip().endswith(f"empty -> {runner.head_revision()}")
    created = omni(
        "users", "create", "--email", "Ann@Shop.Example", "--name", "Ann", "--role", "admin",
        "--password", "correct horse battery", tmp=tmp_path,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert "created admin ann@shop.example" in created.stdout
    duplicate = omni(
        "users", "create", "--email", "ann@shop.example", "--name", "Ann", "--role", "admin",
        "--password", "correct horse battery", tmp=tmp_path,
    )  # fmt: skip
    assert (duplicate.returncode, duplicate.stderr.strip()) == (
        1,
        "error: a user with email ann@shop.example already exists",
    )
    staff_without_store = omni(
        "users", "create", "--email", "s@shop.example", "--name", "S", "--role", "store_staff",
        "--password", "correct horse battery", tmp=tmp_path,
    )  # fmt: skip
    assert staff_without_store.returncode == 1
    assert "store staff must be bound to a store" in staff_without_store.stderr
    status = omni("status", tmp=tmp_path)
    assert status.returncode == 0, status.stderr
    assert f"schema    {runner.head_revision()}" in status.stdout
    assert "events.daily_counts" in status.stdout
