"""Errors of the journeys domain, each carrying its HTTP status."""

from __future__ import annotations

from omni.kit.errors import ConflictError, NotFoundError, ValidationFailed


class JourneyInvalid(ValidationFailed):
    """A definition that cannot run; each detail names the JSON path of the problem and the rule."""

    code = "journey_invalid"


class JourneyNotFound(NotFoundError):
    code = "journey_not_found"


class JourneyExists(ConflictError):
    code = "journey_exists"


class JourneyNotActive(ConflictError):
    code = "journey_not_active"


class EntryRefused(ConflictError):
    """The person may not enter now: the re-entry policy or the entry cap says no, or the entry is known."""

    code = "journey_entry_refused"
