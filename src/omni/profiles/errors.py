"""Errors of the profile domain, each carrying its HTTP status."""

from __future__ import annotations

from omni.kit.errors import ConflictError, NotFoundError, OmniError, ValidationFailed


class ProfileLookupInvalid(OmniError):
    """A lookup that gives no identifier, or several."""

    status_code = 400
    code = "profile_lookup_invalid"


class ProfileUnknown(NotFoundError):
    code = "profile_not_found"


class ComputedTraitInvalid(ValidationFailed):
    code = "computed_trait_invalid"


class ComputedTraitNotFound(NotFoundError):
    code = "computed_trait_not_found"


class ComputedTraitExists(ConflictError):
    code = "computed_trait_exists"


class ProfileNotAddressable(ConflictError):
    """A consent change needs a userId or anonymousId of the profile to log its event under."""

    code = "profile_not_addressable"
