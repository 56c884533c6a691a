"""The `omni` command: one sub-command per job, each with --help, errors as one line."""

from __future__ import annotations

from omni.cli.main import main

__all__ = ["main"]
