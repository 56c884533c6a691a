"""Errors of the orders domain, each carrying its HTTP status."""

from __future__ import annotations

from omni.kit.errors import ConflictError, NotFoundError, OmniError, ValidationFailed


class OrderNotFound(NotFoundError):
    code = "order_not_found"


class IllegalTransition(ConflictError):
    """The step does not follow from the order's current state."""

    code = "illegal_transition"


class IdempotencyKeyReused(ConflictError):
    """A key already used for a different request: a client bug, never a retry."""

    code = "idempotency_key_reused"


class PickupUnavailable(OmniError):
    """The pickup store does not offer click & collect, or today's pickups are all taken."""

    status_code = 422
    code = "pickup_unavailable"


class WrongPickupCode(OmniError):
    status_code = 403
    code = "wrong_pickup_code"


class OrderInvalid(ValidationFailed):
    code = "order_invalid"


class ReturnTooLarge(ValidationFailed):
    code = "return_exceeds_purchase"


class CannotSource(ConflictError):
    """No location may fulfil a line: none serves the channel, or none holds the stock."""

    code = "cannot_source"
