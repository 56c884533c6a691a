"""Errors of the channels domain, each carrying its HTTP status."""

from __future__ import annotations

from omni.kit.errors import ConflictError, NotFoundError, OmniError, PermissionDenied, ValidationFailed


class ChannelError(OmniError):
    code = "channel_error"


class TemplateInvalid(ValidationFailed):
    """A template that does not parse, or names a variable no message can fill."""

    code = "template_invalid"


class TemplateNotFound(NotFoundError):
    code = "template_not_found"


class TemplateExists(ConflictError):
    code = "template_exists"


class ChannelNotConfigured(ValidationFailed):
    code = "channel_not_configured"


class NoAddress(ValidationFailed):
    """The person has no address on the channel (no email, no phone, no push subscription)."""

    code = "no_address"


class MessageNotFound(NotFoundError):
    code = "message_not_found"


class IdempotencyKeyReused(ConflictError):
    """The same idempotency key was sent with a different person or channel."""

    code = "idempotency_key_reused"


class BadSignature(PermissionDenied):
    """A tracking token or a provider's webhook signature that does not verify."""

    code = "bad_signature"
