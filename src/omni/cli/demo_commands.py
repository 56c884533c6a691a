"""`omni demo`: the simulated retailer (filled in with the loader)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    return None
