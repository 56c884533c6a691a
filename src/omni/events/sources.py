"""Tracking sources and their write keys: create, list, revoke, and authenticate a request's key."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from omni.events.errors import SourceInvalid, SourceNameTaken, SourceNotFound
from omni.events.models import Source
from omni.events.schemas import CreatedSource, SourceCreate, SourceRead
from omni.kit.time import utc_now

KEY_PREFIX = "wk_"
DISPLAY_PREFIX_LENGTH = 10


def hash_write_key(write_key: str) -> str:
    """The SHA-256 hex digest under which a write key is stored.

    Keys are 192 random bits, so a fast hash cannot be brute-forced; a slow one (as for passwords) would
    only cost every tracking request.
    """
    return hashlib.sha256(write_key.encode("utf-8", "surrogatepass")).hexdigest()


def create_source(session: Session, data: SourceCreate) -> CreatedSource:
    """Create a source and its write key; the plaintext key is returned here only."""
    name, channel = data.name, data.default_channel
    if name is None or channel is None:  # SourceCreate fills both in; this guards a hand-built one
        raise SourceInvalid("a source needs a name and a default channel")
    if session.scalar(select(Source.id).where(Source.name == name)) is not None:
        raise SourceNameTaken(f"a source named {name} already exists")
    write_key = KEY_PREFIX + secrets.token_urlsafe(24)
    source = Source(
        name=name,
        kind=data.kind.value,
        store_code=data.store_code,
        default_channel=channel,
        key_hash=hash_write_key(write_key),
        key_prefix=write_key[:DISPLAY_PREFIX_LENGTH],
        created_at=utc_now(),
        revoked_at=None,
    )
    session.add(source)
    session.flush()
    return CreatedSource(source=SourceRead.model_validate(source), write_key=write_key)


def list_sources(session: Session, *, include_revoked: bool = True) -> Sequence[Source]:
    """Every source by name, revoked ones included unless asked otherwise."""
    query = select(Source).order_by(Source.name)
    if not include_revoked:
        query = query.where(Source.revoked_at.is_(None))
    return session.scalars(query).all()


def find_source(session: Session, name: str) -> Source | None:
    """The source with this name, if any."""
    return session.scalar(select(Source).where(Source.name == name))


def revoke_source(session: Session, name: str) -> Source:
    """Stop accepting the source's write key from now on; revoking twice keeps the first time."""
    source = session.scalar(select(Source).where(Source.name == name).with_for_update())
    if source is None:
        raise SourceNotFound(f"there is no source named {name}")
    if source.revoked_at is None:
        source.revoked_at = utc_now()
        session.flush()
    return source


def authenticate(session: Session, write_key: str) -> Source | None:
    """The active source whose write key this is; None for an unknown or revoked key."""
    if not write_key:
        return None
    return session.scalar(
        select(Source).where(Source.key_hash == hash_write_key(write_key), Source.revoked_at.is_(None))
    )


def active_source_ids(session: Session, ids: Collection[int]) -> set[int]:
    """Which of these sources are not revoked."""
    if not ids:
        return set()
    return set(session.scalars(select(Source.id).where(Source.id.in_(ids), Source.revoked_at.is_(None))))
