"""The trait source priority in force: which touchpoint's word wins when two disagree."""

from __future__ import annotations

from sqlalchemy.orm import Session

from omni.kit.time import utc_now
from omni.profiles.models import ProfileSettings
from omni.profiles.schemas import TraitSourcePriority

SETTINGS_ROW = 1


def trait_priority(session: Session) -> TraitSourcePriority:
    """The source kinds from most to least trusted (crm > pos > app > web > marketplace by default)."""
    row = session.get(ProfileSettings, SETTINGS_ROW)
    if row is None or "trait_priority" not in row.document:
        return TraitSourcePriority()
    return TraitSourcePriority(priority=row.document["trait_priority"])


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
