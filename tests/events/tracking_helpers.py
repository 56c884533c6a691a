"""Helpers shared by the tracking API tests: a source with its write key, and Segment's Basic auth."""

from __future__ import annotations

import base64

from omni.db.engine import Database
from omni.events import sources as events_sources
from omni.events.schemas import CreatedSource, SourceCreate, SourceKind


def make_source(
    database: Database,
    *,
    name: str | None = "webshop",
    kind: SourceKind = SourceKind.WEB,
    store_code: str | None = None,
    channel: str | None = None,
) -> CreatedSource:
    """Create and commit a source; the result carries its plaintext write key."""
    with database.unit_of_work() as session:
        return events_sources.create_source(
            session, SourceCreate(name=name, kind=kind, store_code=store_code, default_channel=channel)
        )


def basic_auth(write_key: str) -> dict[str, str]:
    """The Authorization header Segment's SDKs send: the write key as user name, no password."""
    return {"Authorization": "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()}
