"""Errors of the identity graph, each carrying its HTTP status."""

from __future__ import annotations

from omni.kit.errors import ConflictError, NotFoundError, ValidationFailed


class IdentityError(ValidationFailed):
    code = "identity_invalid"


class InvalidIdentifier(IdentityError):
    """A looked-up value that normalisation refuses (junk, or not an email or a phone)."""

    code = "invalid_identifier"


class ProfileNotFound(NotFoundError):
    code = "profile_not_found"


class MergeNotFound(NotFoundError):
    code = "merge_not_found"


class MergeAlreadyUndone(ConflictError):
    code = "merge_already_undone"


class ProfileNotLive(ConflictError):
    """A merge named a profile that another profile has already absorbed."""

    code = "profile_not_live"


class MergeExceedsLimit(ConflictError):
    """Merging the two profiles would hold more identifiers of a kind than the rules allow."""

    code = "merge_exceeds_limit"


class MergeInvalid(IdentityError):
    code = "merge_invalid"


class CandidateNotFound(NotFoundError):
    code = "match_candidate_not_found"


class CandidateAlreadyDecided(ConflictError):
    code = "match_candidate_decided"
