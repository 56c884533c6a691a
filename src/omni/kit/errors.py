"""The base of every error Omni reports to a user; each carries its HTTP status and a stable code."""

from __future__ import annotations

from typing import Any, ClassVar


class OmniError(Exception):
    """An error a user can act on: shown as one JSON error shape by the API and one line by the CLI."""

    status_code: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"

    def __init__(self, message: str, *, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class NotFoundError(OmniError):
    status_code = 404
    code = "not_found"


class ConflictError(OmniError):
    status_code = 409
    code = "conflict"


class ValidationFailed(OmniError):
    status_code = 422
    code = "invalid"


class PermissionDenied(OmniError):
    status_code = 403
    code = "forbidden"


class NotAuthenticated(OmniError):
    status_code = 401
    code = "not_authenticated"
