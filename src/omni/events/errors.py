"""Errors of the event log and the tracking API, each carrying its HTTP status."""

from __future__ import annotations

from omni.kit.errors import ConflictError, NotAuthenticated, NotFoundError, OmniError


class EventsError(OmniError):
    code = "events_invalid"


class SourceInvalid(EventsError):
    code = "source_invalid"


class SourceNameTaken(ConflictError):
    code = "source_name_taken"


class SourceNotFound(NotFoundError):
    code = "source_not_found"


class UnknownWriteKey(NotAuthenticated):
    code = "unknown_write_key"


class InvalidMessage(EventsError):
    """A tracking request that is not valid JSON or does not follow the spec; Segment answers 400."""

    code = "invalid_message"


class PayloadTooLarge(EventsError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedContentType(EventsError):
    status_code = 415
    code = "unsupported_media_type"
