"""Errors of the segments domain, each carrying its HTTP status."""

from __future__ import annotations

from omni.kit.errors import ConflictError, NotFoundError, OmniError, ValidationFailed


class DefinitionInvalid(ValidationFailed):
    """A definition that names something unknown, an impossible window, or a cycle; details give the path."""

    code = "segment_definition_invalid"


class SegmentNotFound(NotFoundError):
    code = "segment_not_found"


class SegmentExists(ConflictError):
    code = "segment_exists"


class SegmentNotMember(NotFoundError):
    code = "segment_member_not_found"


class TagInvalid(ValidationFailed):
    code = "tag_invalid"


class ExportFailed(OmniError):
    """The receiving end of a webhook export did not accept the members."""

    status_code = 502
    code = "segment_export_failed"
