"""The trait source priority in force: which touchpoint's word wins when two disagree."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from omni.kit.time import utc_now
from omni.profiles import repository
from omni.profiles.models import ProfileSettings
from omni.profiles.schemas import TraitSourcePriority
from omni.profiles.traits import DEFAULT_SOURCE_PRIORITY

SETTINGS_ROW = 1


def priority_in(document: Mapping[str, Any] | None) -> Sequence[str]:
    """The source kinds a settings document (None when there is no row) ranks, most trusted first."""
    if document is None or "trait_priority" not in document:
        return DEFAULT_SOURCE_PRIORITY
    priority: Sequence[str] = document["trait_priority"]
    return priority


def trait_priority(session: Session) -> TraitSourcePriority:
    """The source kinds from most to least trusted (crm > pos > app > web > marketplace by default)."""
    return TraitSourcePriority(
        priority=list(priority_in(repository.settings_document(session, SETTINGS_ROW)))
    )


def save_trait_priority(session: Session, priority: TraitSourcePriority) -> TraitSourcePriority:
    """Replace the source priority; every profile's traits follow it from the next read on."""
    row = session.get(ProfileSettings, SETTINGS_ROW)
    if row is None:
        row = ProfileSettings(id=SETTINGS_ROW, document={}, updated_at=utc_now())
        session.add(row)
    row.document = {**row.document, "trait_priority": list(priority.priority)}
    row.updated_at = utc_now()
    session.flush()
    return priority
